// The PROXY protocol header (versions 1 and 2) that a `bind ... accept-proxy` expects before anything
// else: it carries the addresses of the connection the proxy in front of us accepted, which stand for
// this one's in logs, ACLs and X-Forwarded-For. Read as haproxy 2.6 reads it, with its reasons for
// refusing one.
import { isIPv4, isIPv6 } from "node:net";
import { parseIpv4, parseIpv6 } from "../acl/ip.js";

export interface Endpoint {
  address: string;
  port: number;
}

/** What the header says: the addresses (none for LOCAL or UNKNOWN), and its length. */
export interface ProxyHeader {
  length: number;
  src?: Endpoint;
  dst?: Endpoint;
}

/** haproxy's reasons, as its log line words them. */
export const NOT_A_HEADER = "Received something which does not look like a PROXY protocol header";
export const BAD_HEADER = "Received an invalid PROXY protocol header";
export const TRUNCATED = "Received a truncated PROXY protocol header";
export const BAD_PROTOCOL = "Received an unhandled protocol in the PROXY protocol header";
export const PROXY_TIMEOUT = "Timeout while waiting for PROXY protocol header";
export const PROXY_CLOSED = "Connection closed while waiting for PROXY protocol header";

const V1 = Buffer.from("PROXY ", "latin1");
const V2 = Buffer.from("\r\n\r\n\0\r\nQUIT\n", "latin1");
/** The longest version 1 line, CRLF included. */
const V1_MAX = 107;

/** The header at the start of `buf`: parsed, a reason to refuse it, or undefined while more may complete it. */
export function parseProxyHeader(buf: Buffer): ProxyHeader | string | undefined {
  if (startsLike(buf, V2)) return buf.length < 16 ? undefined : parseV2(buf);
  if (!startsLike(buf, V1)) return NOT_A_HEADER;
  const eol = buf.indexOf("\r\n", 0, "latin1");
  if (eol < 0) return buf.length >= V1_MAX ? BAD_HEADER : undefined;
  if (eol + 2 > V1_MAX) return BAD_HEADER;
  return parseV1(buf.toString("latin1", V1.length, eol), eol + 2);
}

/** Whether what came so far is the start of `magic` (or longer, starting with it). */
function startsLike(buf: Buffer, magic: Buffer): boolean {
  const n = Math.min(buf.length, magic.length);
  return buf.compare(magic, 0, n, 0, n) === 0;
}

function parseV1(line: string, length: number): ProxyHeader | string {
  const words = line.split(" ");
  if (words[0] === "UNKNOWN") return { length };
  if (words.length !== 5 || (words[0] !== "TCP4" && words[0] !== "TCP6")) return BAD_HEADER;
  const [family, src, dst, sport, dport] = words as [string, string, string, string, string];
  const valid = family === "TCP4" ? isIPv4 : isIPv6;
  if (!valid(src) || !valid(dst) || !isPort(sport) || !isPort(dport)) return BAD_HEADER;
  return { length, src: { address: src, port: Number(sport) }, dst: { address: dst, port: Number(dport) } };
}

const isPort = (s: string): boolean => /^\d{1,5}$/.test(s) && Number(s) <= 65535;

function parseV2(buf: Buffer): ProxyHeader | string | undefined {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return BAD_HEADER;
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return undefined;
  const cmd = verCmd & 0x0f;
  // LOCAL: the proxy in front speaks for itself (a health check): our own addresses stand.
  if (cmd === 0) return { length };
  if (cmd !== 1) return BAD_HEADER;
  const family = buf[13]!;
  if (family === 0x11) {
    if (length < 16 + 12) return TRUNCATED;
    const ip = (at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
    return {
      length,
      src: { address: ip(16), port: buf.readUInt16BE(24) },
      dst: { address: ip(20), port: buf.readUInt16BE(26) },
    };
  }
  if (family === 0x21) {
    if (length < 16 + 36) return TRUNCATED;
    return {
      length,
      src: { address: ipv6(buf, 16), port: buf.readUInt16BE(48) },
      dst: { address: ipv6(buf, 32), port: buf.readUInt16BE(50) },
    };
  }
  // UNSPEC and the families haproxy does not take (unix sockets): our own addresses stand.
  if (family === 0x00) return { length };
  return BAD_PROTOCOL;
}

/** An IPv6 address as Node writes one (compressed, lower case). */
function ipv6(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(at + i).toString(16));
  return compress(groups);
}

function compress(groups: string[]): string {
  // The longest run of zero groups (two at least) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/**
 * The header a `send-proxy` (1) or `send-proxy-v2` (2) server gets first on each connection, as
 * haproxy writes it: the client connection's addresses (those of its own PROXY header, if any), IPv4
 * when both are, else IPv6 with IPv4 mapped; UNKNOWN (v1) or the unspecified family (v2) otherwise.
 */
export function proxyHeaderFor(version: 1 | 2, src: Endpoint, dst: Endpoint): Buffer {
  const both4 = isIPv4(src.address) && isIPv4(dst.address);
  const known = (a: string) => isIPv4(a) || isIPv6(a);
  const ok = known(src.address) && known(dst.address);
  const as6 = (a: string) => (isIPv4(a) ? `::ffff:${a}` : a);
  if (version === 1) {
    if (!ok) return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
    const fam = both4 ? "TCP4" : "TCP6";
    const [s, d] = both4 ? [src.address, dst.address] : [as6(src.address), as6(dst.address)];
    return Buffer.from(`PROXY ${fam} ${s} ${d} ${src.port} ${dst.port}\r\n`, "latin1");
  }
  if (!ok) return Buffer.concat([V2, Buffer.from([0x21, 0x00, 0, 0])]);
  const size = both4 ? 4 : 16;
  const body = Buffer.alloc(2 * size + 4);
  const put = (a: string, at: number) => {
    const bytes = new Uint8Array(16);
    if (both4) parseIpv4(a, bytes);
    else parseIpv6(as6(a), bytes);
    body.set(both4 ? bytes.subarray(0, 4) : bytes, at);
  };
  put(src.address, 0);
  put(dst.address, size);
  body.writeUInt16BE(src.port, 2 * size);
  body.writeUInt16BE(dst.port, 2 * size + 2);
  return Buffer.concat([V2, Buffer.from([0x21, both4 ? 0x11 : 0x21, 0, body.length]), body]);
}
