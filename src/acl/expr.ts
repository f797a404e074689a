// One sample fetch evaluated outside ACLs (not ACL mode: hdr gives the last occurrence, url_param
// the first, ...), with its converters, as haproxy's binary cast for `balance hash` (log-format.ts
// has the string form).
import type { Where } from "../config/model.js";
import type { SampleContext } from "./context.js";
import { parseFetch, type FetchUse } from "./fetch.js";
import { Sample, binaryOf } from "./sample.js";

/** The sample's bytes (binaryOf); `use` says where the fetch finds its sample. */
export function compileBinary(
  expr: string,
  where: Where,
): { fetch: (ctx: SampleContext) => string | undefined; use: FetchUse } {
  const parsed = parseFetch(expr, where, false);
  const f = parsed.impl;
  const smp = new Sample();
  const fetch = (ctx: SampleContext): string | undefined => (f.first(ctx, smp) ? binaryOf(smp) : undefined);
  return { fetch, use: parsed.kw.use };
}
