// One sample as a fetch produces it. A compiled ACL owns one Sample and reuses it for every request:
// header values stay as byte ranges of the head's buffer until a matcher needs them as a string.
import { parseIpv4, parseIpv6 } from "./ip.js";

/** haproxy's trash buffer (tune.bufsize's default): what a converter writes must fit in it. */
export const TRASH_SIZE = 16384;

/** Sample types, named after haproxy's (SMP_T_*). */
export const enum T {
  Str = 0,
  Int = 1,
  Ip = 2,
  Meth = 3,
  Bool = 4,
  /** Bytes, any of them NUL: cast to text, haproxy stops at the first NUL (c_bin2str). */
  Bin = 5,
}

export class Sample {
  type: T = T.Str;
  /** The value as a string, or undefined while it is a byte range (buf, bs, be). */
  str: string | undefined = undefined;
  buf: Buffer | undefined = undefined;
  bs = 0;
  be = 0;
  num = 0;
  /**
   * Iteration cursor for fetches that yield several values: a header line and the position of its
   * next value (i, j), and a walk within that value, as the cookies of a Cookie line (p up to pe).
   */
  i = 0;
  j = 0;
  p = 0;
  pe = 0;

  setBytes(buf: Buffer, s: number, e: number, type: T = T.Str): void {
    this.type = type;
    this.str = undefined;
    this.buf = buf;
    this.bs = s;
    this.be = e;
  }
  setStr(s: string, type: T = T.Str): void {
    this.type = type;
    this.str = s;
    this.buf = undefined;
  }
  setInt(n: number, type: T = T.Int): void {
    this.type = type;
    this.num = n;
    this.str = undefined;
    this.buf = undefined;
  }

  /** The value as a string (haproxy's cast to SMP_T_STR). */
  getStr(): string {
    if (this.type === T.Bin) return untilNul(this.rawBytes());
    return this.rawBytes();
  }

  /** The string held, or the text an integer or a boolean writes: for bytes, all of them, NULs included. */
  rawBytes(): string {
    if (this.str !== undefined) return this.str;
    if (this.buf !== undefined) {
      this.str = this.buf.toString("latin1", this.bs, this.be);
      return this.str;
    }
    this.str = this.type === T.Bool ? (this.num ? "1" : "0") : intText(this.num);
    return this.str;
  }

  /** Length in bytes of the string form. */
  strLen(): number {
    if (this.str === undefined && this.buf !== undefined && this.type !== T.Bin) return this.be - this.bs;
    return this.getStr().length;
  }

  /** The value as an integer (haproxy's cast to SMP_T_SINT); undefined when the cast fails. */
  getInt(): number | undefined {
    if (this.type === T.Int || this.type === T.Bool) return this.num;
    if (this.type === T.Meth || this.type === T.Bin) return undefined;
    if (this.type === T.Ip) return ipv4ToInt(this.getStr());
    if (this.str === undefined && this.buf !== undefined) return readIntBytes(this.buf, this.bs, this.be);
    return readIntStr(this.getStr());
  }
}

/**
 * haproxy's integers are 64-bit, a result past them capped at LLONG_MAX or LLONG_MIN; here (exact to
 * 2^53) both bounds are 2^63 in size, and print as haproxy's.
 */
export const INT_LIMIT = 2 ** 63;

/** A number read or computed, held within haproxy's 64-bit range (read_int64 caps as it reads). */
export const capped = (n: number): number => (n >= INT_LIMIT ? INT_LIMIT : n <= -INT_LIMIT ? -INT_LIMIT : n);

/** An integer sample as a 64-bit integer, its caps LLONG_MAX and LLONG_MIN. */
export const toBig = (n: number): bigint =>
  n >= INT_LIMIT ? 0x7fffffffffffffffn : n <= -INT_LIMIT ? -0x8000000000000000n : BigInt(Math.trunc(n));

/** An integer's low 32 bits, unsigned, as C's cast to `unsigned int` keeps them. */
export const toU32 = (n: number): number => Number(BigInt.asUintN(32, toBig(n)));

/** A 64-bit result back as a sample's number (capped values stay the caps). */
export const fromBig = (b: bigint): number =>
  b >= 0x7fffffffffffffffn ? INT_LIMIT : b <= -0x8000000000000000n ? -INT_LIMIT : Number(b);

/**
 * read_int64 on a whole word: optional sign, digits (none: 0), nothing after them; undefined when
 * something follows.
 */
export function readWholeInt(text: string): number | undefined {
  return /^[-+]?\d*$/.test(text) ? (readIntStr(text) ?? 0) : undefined;
}

const intText = (n: number): string =>
  n >= INT_LIMIT ? "9223372036854775807" : n <= -INT_LIMIT ? "-9223372036854775808" : String(n);

function untilNul(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

const bytes = new Uint8Array(16);
const int64 = Buffer.alloc(8);

/**
 * The sample's bytes, one character each (haproxy's cast to SMP_T_BIN): a string's own, an
 * integer's 8 big-endian, an address's 4 or 16.
 */
export function binaryOf(smp: Sample): string {
  if (smp.type === T.Int || smp.type === T.Bool) {
    int64.writeBigInt64BE(toBig(smp.num));
    return int64.toString("latin1");
  }
  if (smp.type === T.Bin) return smp.rawBytes();
  const s = smp.getStr();
  if (smp.type === T.Ip) {
    if (parseIpv4(s, bytes)) return Buffer.from(bytes.subarray(0, 4)).toString("latin1");
    if (parseIpv6(s, bytes)) return Buffer.from(bytes).toString("latin1");
  }
  return s;
}

/**
 * A sample cast to an integer, as haproxy's sample_fetch_as_type(SINT): undefined when a string has
 * none, and for bytes and methods, which have no such cast.
 */
export const sampleInt = (smp: Sample): number | undefined =>
  smp.type === T.Str
    ? readIntStr(smp.getStr())
    : smp.type === T.Bin || smp.type === T.Meth
      ? undefined
      : smp.num;

/** haproxy's read_int64 on a string cast: optional sign, leading digits, stops at anything else. */
export function readIntStr(s: string): number | undefined {
  if (s.length === 0) return undefined;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43) {
    neg = s.charCodeAt(0) === 45;
    i = 1;
  }
  let v = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  return capped(neg ? -v : v);
}

/**
 * haproxy's strl2ic: a 32-bit integer read from the digits on, wrapping as a C int does. It stops
 * at a byte past '9' only: a byte before '0' adds its difference from '0' ("1+2" is 52), and so does
 * one from 0x80 on, a negative char in C.
 */
export function strl2ic(b: Buffer | string, s: number, e: number): number {
  const at = typeof b === "string" ? (k: number) => b.charCodeAt(k) & 0xff : (k: number) => b[k]!;
  let i = 0;
  if (s >= e) return 0;
  const neg = at(s) === 45;
  for (let k = neg ? s + 1 : s; k < e; k++) {
    const c = at(k);
    const d = (c < 128 ? c : c - 256) - 48;
    if (d > 9) break;
    i = (Math.imul(i, 10) + (neg ? -d : d)) | 0;
  }
  return i;
}

export function readIntBytes(b: Buffer, s: number, e: number): number | undefined {
  if (s >= e) return undefined;
  let i = s;
  let neg = false;
  if (b[i] === 45 || b[i] === 43) {
    neg = b[i] === 45;
    i++;
  }
  let v = 0;
  for (; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  return capped(neg ? -v : v);
}

function ipv4ToInt(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  return ((+m[1]! << 24) >>> 0) + (+m[2]! << 16) + (+m[3]! << 8) + +m[4]!;
}
