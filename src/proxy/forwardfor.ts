// `option forwardfor [except NET] [header NAME] [if-none]`: the client address for the server;
// `option originalto [except NET] [header NAME]`: the address the client connected to.
import { BlockList, isIP, isIPv4 } from "node:net";
import type { ForwardFor } from "../config/model.js";
import type { HttpHead } from "../http/message.js";
import { headerIndex } from "../http/parse.js";

const exceptLists = new WeakMap<ForwardFor, BlockList>();

function exceptList(ff: ForwardFor): BlockList | undefined {
  const net = ff.except;
  if (net === undefined) return undefined;
  let list = exceptLists.get(ff);
  if (!list) {
    list = new BlockList();
    list.addSubnet(net.address, net.prefix, net.family);
    exceptLists.set(ff, list);
  }
  return list;
}

/**
 * The header line for this client, or undefined when it gets none. With the option in both the
 * frontend and the backend, haproxy 2.6 takes the backend's header name, and skips a client in
 * either's `except` network.
 */
export function forwardedFor(
  fe: ForwardFor | undefined,
  be: ForwardFor | undefined,
  src: string,
): string | undefined {
  const ip = src.startsWith("::ffff:") && isIPv4(src.slice(7)) ? src.slice(7) : src;
  if (excepted(fe, ip) || excepted(be, ip)) return undefined;
  return `${(be ?? fe)!.header}: ${ip}`;
}

/** The request has its own header and both options say `if-none` (haproxy then adds none). */
export function forwardedAlready(
  fe: ForwardFor | undefined,
  be: ForwardFor | undefined,
  req: HttpHead,
): boolean {
  const ifNone = (fe?.ifNone ?? true) && (be?.ifNone ?? true);
  return ifNone && headerIndex(req, (be ?? fe)!.header.toLowerCase()) >= 0;
}

/**
 * option originalto's header line, or undefined: the backend's header name first, and no line for
 * a destination in either's `except` network.
 */
export function originalTo(
  fe: ForwardFor | undefined,
  be: ForwardFor | undefined,
  dst: string,
): string | undefined {
  const ip = dst.startsWith("::ffff:") && isIPv4(dst.slice(7)) ? dst.slice(7) : dst;
  // haproxy adds none for a destination that is no IP address.
  if (!isIP(ip) || excepted(fe, ip) || excepted(be, ip)) return undefined;
  return `${(be ?? fe)!.header}: ${ip}`;
}

function excepted(ff: ForwardFor | undefined, ip: string): boolean {
  const except = ff && exceptList(ff);
  return except !== undefined && except.check(ip, isIPv4(ip) ? "ipv4" : "ipv6");
}
