// set-src, set-src-port, set-dst, set-dst-port at run time: the client connection's ends as later
// rules, the log line, option forwardfor, a PROXY header sent to a server and the stick tables see
// them. Where they last depends on the rule set: a connection's rules change the connection (fc_src
// too), a session's the session, the others the stream only (the next request starts afresh).
import type { AddrAction } from "../config/model.js";
import type { SampleContext } from "../acl/context.js";
import type { FetchImpl } from "../acl/fetch.js";
import { Sample, T, toBig } from "../acl/sample.js";
import { ipv6Text, parseIpv4, parseIpv4Prefix, parseIpv6 } from "../acl/ip.js";

/** A client connection's two ends, as the fetches src, src_port, dst and dst_port read them. */
export interface Ends {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

const smp = new Sample();
const bytes = new Uint8Array(16);

/**
 * One of the four actions on ctx, as haproxy 2.6 casts its sample: to an address (an IPv4 one at the
 * start of a string, else the whole string as IPv6; an integer as IPv4) or to an integer (the port,
 * its low 16 bits). A sample that does not cast changes nothing. An address keeps the port; a port
 * given to an end without an address gets 0.0.0.0.
 */
export function setEnd(kind: AddrAction["kind"], fetch: FetchImpl | undefined, ctx: SampleContext): void {
  if (fetch === undefined || !fetch.first(ctx, smp)) return;
  if (kind === "set-src" || kind === "set-dst") {
    const a = addressOf(smp);
    if (a === undefined) return;
    if (kind === "set-src") ctx.src = a;
    else ctx.dst = a;
  } else {
    const n = smp.getInt();
    if (n === undefined) return;
    const port = Number(toBig(n) & 0xffffn);
    if (kind === "set-src-port") {
      if (ctx.src === "") ctx.src = "0.0.0.0";
      ctx.srcPort = port;
    } else {
      if (ctx.dst === "") ctx.dst = "0.0.0.0";
      ctx.dstPort = port;
    }
  }
  ctx.endsMoved?.();
}

/** The sample as an address in its usual text (inet_ntop's), or undefined when it is none. */
function addressOf(s: Sample): string | undefined {
  switch (s.type) {
    case T.Int: {
      const n = Number(BigInt.asUintN(32, toBig(s.num)));
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
    case T.Ip:
    case T.Str: {
      const text = s.getStr();
      const v4 = s.type === T.Ip ? parseIpv4(text, bytes) : parseIpv4Prefix(text, bytes) > 0;
      if (v4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
      return parseIpv6(text, bytes) ? ipv6Text(bytes) : undefined;
    }
    default:
      return undefined;
  }
}
