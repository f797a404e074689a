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
export const TRUNCATED = "Truncated PROXY protocol header received";
export const BAD_PROTOCOL = "Received an unhandled protocol in the PROXY protocol header";
export const PROXY_TIMEOUT = "Timeout while waiting for PROXY protocol header";
export const PROXY_CLOSED = "Connection closed while waiting for PROXY protocol header";
export const PROXY_ERROR = "Connection error while waiting for PROXY protocol header";

const V1 = Buffer.from("PROXY ", "latin1");
const V2 = Buffer.from("\r\n\r\n\0\r\nQUIT\n", "latin1");
/** The longest version 1 line, CRLF included. */
const V1_MAX = 107;

/**
 * The header at the start of what a connection first sent, or haproxy's reason for refusing it. As
 * haproxy, it must come whole in that first read: a header cut short is refused (Truncated).
 */
export function parseProxyHeader(buf: Buffer): ProxyHeader | string {
  if (buf.length < 6) return TRUNCATED;
  if (buf.compare(V1, 0, 6, 0, 6) === 0) {
    // Shorter than the shortest line haproxy could take.
    if (buf.length < 9) return TRUNCATED;
    const eol = buf.indexOf("\r\n", 0, "latin1");
    if (eol < 0 || eol + 2 > V1_MAX) return buf.length >= V1_MAX ? BAD_HEADER : TRUNCATED;
    return parseV1(buf.toString("latin1", 6, eol + 2), eol + 2);
  }
  if (buf.length < 16) return TRUNCATED;
  if (buf.compare(V2, 0, 12, 0, 12) !== 0 || buf[12]! >> 4 !== 2) return NOT_A_HEADER;
  return parseV2(buf);
}

/** A version 1 line past "PROXY ", its CRLF included. */
function parseV1(line: string, length: number): ProxyHeader | string {
  if (line === "UNKNOWN\r\n") return { length };
  const family = line.slice(0, 5);
  if (family !== "TCP4 " && family !== "TCP6 ") return BAD_PROTOCOL;
  const words = line.slice(5, -2).split(" ");
  if (words.length !== 4) return BAD_HEADER;
  const [src, dst, sport, dport] = words as [string, string, string, string];
  const address = family === "TCP4 " ? v4 : v6;
  const s = address(src);
  const d = address(dst);
  if (s === undefined || d === undefined || !isPort(sport) || !isPort(dport)) return BAD_HEADER;
  return { length, src: { address: s, port: Number(sport) }, dst: { address: d, port: Number(dport) } };
}

const v4 = (a: string): string | undefined => (isIPv4(a) ? a : undefined);

/** An IPv6 address as inet_pton takes it (no zone), written back as inet_ntop writes it. */
function v6(a: string): string | undefined {
  const bytes = new Uint8Array(16);
  return a.includes("%") || !parseIpv6(a, bytes) ? undefined : formatIpv6(bytes);
}

const isPort = (s: string): boolean => /^\d{1,5}$/.test(s) && Number(s) <= 65535;

/** A PROXY command's TLVs, walked as haproxy checks them (a checksum TLV is taken on trust). */
function tlvsOk(buf: Buffer, at: number, end: number): boolean {
  while (at < end) {
    if (at + 3 > end) return false;
    const type = buf[at]!;
    const len = buf.readUInt16BE(at + 1);
    at += 3 + len;
    if (at > end) return false;
    if ((type === 0x03 && len !== 4) || (type === 0x02 && len > 255) || (type === 0x05 && len > 128))
      return false;
  }
  return true;
}

function parseV2(buf: Buffer): ProxyHeader | string {
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return TRUNCATED;
  const cmd = buf[12]! & 0x0f;
  // LOCAL: the proxy in front speaks for itself (a health check): our own addresses stand.
  if (cmd === 0) return { length };
  if (cmd !== 1) return BAD_HEADER;
  const family = buf[13]!;
  const size = family === 0x11 ? 4 : family === 0x21 ? 16 : 0;
  // Other families (unix sockets, UDP, unspecified) are not taken.
  if (size === 0 || length < 16 + 2 * size + 4 || !tlvsOk(buf, 16 + 2 * size + 4, length)) return BAD_HEADER;
  const ip = (at: number) =>
    size === 4
      ? `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`
      : formatIpv6(buf.subarray(at, at + 16));
  return {
    length,
    src: { address: ip(16), port: buf.readUInt16BE(16 + 2 * size) },
    dst: { address: ip(16 + size), port: buf.readUInt16BE(18 + 2 * size) },
  };
}

/** 16 bytes as inet_ntop writes them: IPv4-mapped with its dotted tail, the longest zero run as "::". */
function formatIpv6(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
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

/** A version 2 header that speaks for no client (LOCAL): what a health check sends. */
export const LOCAL_V2 = Buffer.concat([V2, Buffer.from([0x20, 0x00, 0, 0])]);

/**
 * The header a `send-proxy` (1) or `send-proxy-v2` (2) server gets first on each connection, as
 * haproxy writes it: the client connection's addresses (those of its own PROXY header, if any), IPv4
 * when both are, else IPv6 with IPv4 mapped; UNKNOWN (v1) or LOCAL (v2) otherwise.
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
  if (!ok) return LOCAL_V2;
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
