// `option forwardfor [except NET] [header NAME] [if-none]`: the client address for the server.
import { BlockList, isIPv4 } from "node:net";
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

/** The header line to add, or undefined when this client gets none. */
export function forwardedFor(ff: ForwardFor, req: HttpHead, src: string): string | undefined {
  const ip = src.startsWith("::ffff:") && isIPv4(src.slice(7)) ? src.slice(7) : src;
  const except = exceptList(ff);
  if (except && except.check(ip, isIPv4(ip) ? "ipv4" : "ipv6")) return undefined;
  if (ff.ifNone && headerIndex(req, ff.header.toLowerCase()) >= 0) return undefined;
  return `${ff.header}: ${ip}`;
}
