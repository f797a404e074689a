// One sample fetch evaluated as a string, for log-format and `%[...]` (not ACL mode: hdr gives
// the last occurrence, url_param the first, ...), with the `lower` and `upper` converters.
import type { Where } from "../config/model.js";
import type { SampleContext } from "./context.js";
import { parseFetch } from "./fetch.js";
import { Sample } from "./sample.js";

export function compileFetch(expr: string, where: Where): (ctx: SampleContext) => string | undefined {
  const f = parseFetch(expr, where, false).impl;
  const smp = new Sample();
  return (ctx) => (f.first(ctx, smp) ? smp.getStr() : undefined);
}
