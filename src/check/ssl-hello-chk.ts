// `option ssl-hello-chk`: an SSLv3 ClientHello, answered by a handshake record (a ServerHello) or
// an alert record, either of which shows an SSL/TLS server (Layer6).
import { randomBytes } from "node:crypto";
import type { CannedRule } from "./tcp-check.js";

/** Record and handshake types, and the version offered (SSL 3.0), from RFC 6101 and RFC 5246. */
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SSL3 = [3, 0];

/** RSA, DHE and ECDHE suites with AES, 3DES and RC4 (RFC 5246 appendix A.5, RFC 4492 §6). */
const CIPHER_SUITES = [
  0xc014, 0xc013, 0x0039, 0x0033, 0x0035, 0x002f, 0xc012, 0x0016, 0x000a, 0x0005, 0x0004,
];

const u16 = (n: number): number[] => [n >> 8, n & 0xff];

/** A ClientHello in its record: version, random (time and 28 random bytes), no session, null compression. */
export function clientHello(now = Date.now()): Buffer {
  const random = Buffer.alloc(32);
  random.writeUInt32BE(Math.floor(now / 1000) >>> 0);
  randomBytes(28).copy(random, 4);
  const suites = CIPHER_SUITES.flatMap(u16);
  const body = Buffer.from([...SSL3, ...random, 0, ...u16(suites.length), ...suites, 1, 0]);
  const handshake = Buffer.concat([Buffer.from([CLIENT_HELLO, 0, ...u16(body.length)]), body]);
  return Buffer.concat([Buffer.from([HANDSHAKE, ...SSL3, ...u16(handshake.length)]), handshake]);
}

export const sslHelloChk = (): CannedRule[] => [
  { action: "send", data: clientHello().toString("latin1") },
  {
    action: "expect",
    kind: "rbinary",
    // A handshake (22) or alert (21) record, known from its five-byte header.
    pattern: "^1[56]",
    negate: false,
    minRecv: 5,
    okStatus: "L6OK",
    errorStatus: "L6RSP",
    toutStatus: "L6TOUT",
  },
];
