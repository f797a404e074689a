// One sample fetch evaluated outside ACLs (not ACL mode: hdr gives the last occurrence, url_param
// the first, ...), with the `lower` and `upper` converters, as haproxy's binary cast for
// `balance hash` (log-format.ts has the string form).
import type { Where } from "../config/model.js";
import type { SampleContext } from "./context.js";
import { parseFetch, type FetchUse } from "./fetch.js";
import { parseIpv4, parseIpv6 } from "./ip.js";
import { Sample, T, toBig } from "./sample.js";

const bytes = new Uint8Array(16);
const int64 = Buffer.alloc(8);

/**
 * The sample's bytes, one character each: a string's own, an integer's 8 bytes big-endian, an
 * address's 4 or 16 (haproxy's cast to SMP_T_BIN). `use` says where the fetch finds its sample.
 */
export function compileBinary(
  expr: string,
  where: Where,
): { fetch: (ctx: SampleContext) => string | undefined; use: FetchUse } {
  const parsed = parseFetch(expr, where, false);
  const f = parsed.impl;
  const smp = new Sample();
  const fetch = (ctx: SampleContext): string | undefined => {
    if (!f.first(ctx, smp)) return undefined;
    if (smp.type === T.Int || smp.type === T.Bool) {
      int64.writeBigInt64BE(toBig(smp.num));
      return int64.toString("latin1");
    }
    if (smp.type === T.Ip) {
      const s = smp.getStr();
      if (parseIpv4(s, bytes)) return Buffer.from(bytes.subarray(0, 4)).toString("latin1");
      if (parseIpv6(s, bytes)) return Buffer.from(bytes).toString("latin1");
    }
    return smp.getStr();
  };
  return { fetch, use: parsed.kw.use };
}
