// The converters that digest, checksum, encode or decrypt a sample's bytes (haproxy 2.6's sha1, sha2,
// digest, hmac, aes_gcm_dec, secure_memcmp, crc32c, xxh32, xxh64, xxh3, b64dec, ub64enc, ub64dec,
// be2dec, be2hex, hex2i, htonl, url_enc, cut_crlf). Bytes travel as latin1 strings, one char a byte.
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { CipherGCMTypes } from "node:crypto";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { Converter } from "./converters.js";
import { Sample, T, TRASH_SIZE, binaryOf, fromBig, toBig } from "./sample.js";
import { parseVarName, varValue, type VarRef } from "./vars.js";
import { fullHash } from "../balance/hash.js";

const bin = (smp: Sample, bytes: string): boolean => (smp.setStr(bytes, T.Bin), true);
const str = (smp: Sample, text: string): boolean => (smp.setStr(text), true);
const int = (smp: Sample, n: number): boolean => (smp.setInt(n), true);
const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

// ---- base64, as haproxy's own decoders read it ----

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** The pad's value: kept in the quartet, its bytes left out of the length. */
const PAD = 64;

/** Each character's 6-bit value, the pad 64; -1 for one outside the alphabet. */
function decodeTable(extra: Record<string, number>): Int8Array {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  for (const [c, v] of Object.entries(extra)) t[c.charCodeAt(0)] = v;
  return t;
}
const STD = decodeTable({ "+": 62, "/": 63, "=": PAD });
// base64url's table takes '=' for '_' (63): haproxy's does.
const URL = decodeTable({ "-": 62, _: 63, "=": 63 });

/** Writes a quartet's three bytes at `at` (the next quartet may write over the last ones). */
function putQuartet(out: number[], at: number, t: number[]): void {
  out[at] = ((t[0]! << 2) + (t[1]! >> 4)) & 255;
  out[at + 1] = ((t[1]! << 4) + (t[2]! >> 2)) & 255;
  out[at + 2] = ((t[2]! << 6) + t[3]!) & 255;
}

/**
 * haproxy's base64dec: a length that is a multiple of 4; a pad only ends a quartet, and not from its
 * second character on ("X===" gives nothing, "====" fails), and a quartet may follow a padded one.
 */
export function base64dec(s: string): string | undefined {
  if (s.length % 4) return undefined;
  const out: number[] = [];
  const t: number[] = [];
  let len = 0;
  let pad = 0;
  for (let k = 0; k < s.length; k++) {
    const b = STD[s.charCodeAt(k) & 255]!;
    if (b < 0 || (pad && b !== PAD) || (pad && t.length < 2)) return undefined;
    if (b === PAD) pad++;
    t.push(b);
    if (t.length === 4) {
      putQuartet(out, len, t);
      len += 3 - pad;
      pad = 0;
      t.length = 0;
    }
  }
  return Buffer.from(out.slice(0, len)).toString("latin1");
}

/** haproxy's base64urldec: no pad needed (a length of 4n+1 fails); '=' reads as '_'. */
export function base64urldec(s: string): string | undefined {
  const padLen = [0, -1, 2, 1][s.length % 4]!;
  if (padLen < 0) return undefined;
  const out: number[] = [];
  const t: number[] = [];
  let len = 0;
  for (let k = 0; k < s.length + padLen; k++) {
    const b = k < s.length ? URL[s.charCodeAt(k) & 255]! : PAD;
    if (b < 0) return undefined;
    t.push(b);
    if (t.length === 4) {
      putQuartet(out, len, t);
      len += 3;
      t.length = 0;
    }
  }
  return Buffer.from(out.slice(0, len - padLen)).toString("latin1");
}

/** ub64enc: base64url without its padding; none when it would fill haproxy's chunk. */
function base64url(s: string): string | undefined {
  if (Math.floor((s.length + 2) / 3) * 4 >= TRASH_SIZE) return undefined;
  return latin1(s).toString("base64url");
}

// ---- arguments: a base64 string, or a variable holding one ----

const BASE64_ARG = "argument needs to be base64 encoded, and can either be a string or a variable";

/** A key, nonce or tag argument: its bytes, decoded once, or the variable to read (and decode) each time. */
type Secret = { bytes: string } | { ref: VarRef };

function secretArg(arg: Arg | undefined): Secret | undefined {
  const text = String(arg ?? "");
  if (text === "") return { bytes: "" };
  const ref = parseVarName(text);
  if (typeof ref !== "string") return { ref };
  const bytes = base64dec(text);
  return bytes === undefined ? undefined : { bytes };
}

function secretBytes(secret: Secret, ctx: SampleContext): string | undefined {
  if ("bytes" in secret) return secret.bytes;
  const v = varValue(secret.ref, ctx);
  return v && base64dec(v.getStr());
}

// ---- digests ----

/**
 * Whether OpenSSL knows a digest by this name (EVP_get_digestbyname): those Node can use, and those of
 * the legacy provider (md4, whirlpool), known though not loaded; MDC2 is not built in.
 */
function digestKnown(name: string): boolean {
  try {
    createHash(name);
    return true;
  } catch (e) {
    return /unsupported$/.test(e instanceof Error ? e.message : "") && !/mdc2/i.test(name);
  }
}

const digestCheck = (args: Arg[]): string | undefined =>
  digestKnown(String(args[0])) ? undefined : "algorithm must be a valid OpenSSL message digest name.";

/** The digest of the bytes, undefined when OpenSSL cannot compute it (a name it knows but lacks). */
function digestOf(alg: string, bytes: string): string | undefined {
  try {
    return createHash(alg).update(latin1(bytes)).digest().toString("latin1");
  } catch {
    return undefined;
  }
}

function hmacOf(alg: string, key: string, bytes: string): string | undefined {
  try {
    return createHmac(alg, latin1(key)).update(latin1(bytes)).digest().toString("latin1");
  } catch {
    return undefined;
  }
}

const SHA2_BITS = [224, 256, 384, 512];

function sha2Check(args: Arg[]): string | undefined {
  if (args[0] === undefined || SHA2_BITS.includes(Number(args[0]))) return undefined;
  return `Unsupported number of bits: '${args[0]}'`;
}

/** A converter from bytes to the bytes `f` makes of them, none when it makes none. */
const bytesTo = (
  args: Converter["args"],
  min: number,
  make: (args: Arg[]) => (bytes: string, ctx: SampleContext) => string | undefined,
  check?: Converter["check"],
): Converter => ({
  args,
  min,
  in: "bin",
  out: T.Bin,
  check,
  make: (a) => {
    const f = make(a);
    return (smp, ctx) => {
      const v = f(smp.getStr(), ctx);
      return v !== undefined && bin(smp, v);
    };
  },
});

function hmacCheck(args: Arg[]): string | undefined {
  const bad = digestCheck(args);
  if (bad !== undefined) return bad;
  return secretArg(args[1]) ? undefined : `failed to parse key : ${BASE64_ARG}`;
}

// ---- aes_gcm_dec ----

const AES_BITS = [128, 192, 256];

function aesCheck(args: Arg[]): string | undefined {
  if (!AES_BITS.includes(Number(args[0]))) return "key size must be 128, 192 or 256 (bits).";
  const names = ["nonce", "key", "aead_tag"];
  const bad = names.findIndex((_, i) => secretArg(args[i + 1]) === undefined);
  return bad < 0 ? undefined : `failed to parse ${names[bad]} : ${BASE64_ARG}`;
}

/**
 * AES-GCM decryption, as OpenSSL does it for haproxy: the key's first bits/8 bytes (a shorter key
 * fails), a tag of 1 to 16 bytes compared with the computed tag's start. Node only takes some tag
 * lengths, so the tag is computed by encrypting the plaintext back.
 */
function aesGcmDecrypt(
  bits: number,
  nonce: string,
  key: string,
  tag: string,
  data: string,
): string | undefined {
  const keyLen = bits / 8;
  if (nonce === "" || key.length < keyLen || tag === "" || tag.length > 16) return undefined;
  const alg = `aes-${bits}-gcm`;
  const [k, iv, input] = [latin1(key.slice(0, keyLen)), latin1(nonce), latin1(data)];
  try {
    const plain = createDecipheriv(alg, k, iv).update(input);
    const enc = createCipheriv(alg as CipherGCMTypes, k, iv);
    enc.update(plain);
    enc.final();
    const computed = enc.getAuthTag().subarray(0, tag.length);
    return timingSafeEqual(computed, latin1(tag)) ? plain.toString("latin1") : undefined;
  } catch {
    return undefined;
  }
}

function aesGcmDec(args: Arg[]): (data: string, ctx: SampleContext) => string | undefined {
  const bits = Number(args[0]);
  // The check has made sure each one is a variable or base64.
  const secrets = [1, 2, 3].map((i) => secretArg(args[i])!);
  return (data, ctx) => {
    const [nonce, key, tag] = secrets.map((s) => secretBytes(s, ctx));
    if (nonce === undefined || key === undefined || tag === undefined) return undefined;
    return aesGcmDecrypt(bits, nonce, key, tag, data);
  };
}

// ---- secure_memcmp ----

function memcmpCheck(args: Arg[]): string | undefined {
  const a = String(args[0] ?? "");
  if (a === "") return "missing variable name";
  return typeof parseVarName(a) === "string" ? `failed to register variable name '${a}'` : undefined;
}

/** Whether the variable holds the same bytes (compared in constant time when as long); none if unset. */
function secureMemcmp(smp: Sample, ref: VarRef, ctx: SampleContext): boolean {
  const v = varValue(ref, ctx);
  if (!v) return false;
  const [a, b] = [latin1(smp.getStr()), latin1(binaryOf(v))];
  smp.setInt(a.length === b.length && timingSafeEqual(a, b) ? 1 : 0, T.Bool);
  return true;
}

// ---- checksums and hashes ----

const CRC32C = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c;
});

/** CRC-32C (Castagnoli, RFC 4960 appendix B). */
export function crc32c(s: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) crc = (crc >>> 8) ^ CRC32C[(crc ^ s.charCodeAt(i)) & 255]!;
  return (crc ^ 0xffffffff) >>> 0;
}

const P32 = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1] as const;
const rotl32 = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;
const mul32 = (a: number, b: number): number => Math.imul(a, b) >>> 0;
const le32 = (s: string, i: number): number =>
  (s.charCodeAt(i) |
    (s.charCodeAt(i + 1) << 8) |
    (s.charCodeAt(i + 2) << 16) |
    (s.charCodeAt(i + 3) << 24)) >>>
  0;

/** XXH32, seeded. */
export function xxh32(s: string, seed: number): number {
  const len = s.length;
  let i = 0;
  let h: number;
  if (len >= 16) {
    const v = [seed + P32[0] + P32[1], seed + P32[1], seed, seed - P32[0]].map((x) => x >>> 0);
    for (; i + 16 <= len; i += 16)
      for (let j = 0; j < 4; j++)
        v[j] = mul32(rotl32((v[j]! + mul32(le32(s, i + 4 * j), P32[1])) >>> 0, 13), P32[0]);
    h = (rotl32(v[0]!, 1) + rotl32(v[1]!, 7) + rotl32(v[2]!, 12) + rotl32(v[3]!, 18)) >>> 0;
  } else h = (seed + P32[4]) >>> 0;
  h = (h + len) >>> 0;
  for (; i + 4 <= len; i += 4) h = mul32(rotl32((h + mul32(le32(s, i), P32[2])) >>> 0, 17), P32[3]);
  for (; i < len; i++) h = mul32(rotl32((h + mul32(s.charCodeAt(i), P32[4])) >>> 0, 11), P32[0]);
  h = mul32(h ^ (h >>> 15), P32[1]);
  h = mul32(h ^ (h >>> 13), P32[2]);
  return (h ^ (h >>> 16)) >>> 0;
}

const M64 = 0xffffffffffffffffn;
const P64 = [
  0x9e3779b185ebca87n,
  0xc2b2ae3d27d4eb4fn,
  0x165667b19e3779f9n,
  0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n,
];
const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
const mul64 = (a: bigint, b: bigint): bigint => (a * b) & M64;
const add64 = (a: bigint, b: bigint): bigint => (a + b) & M64;
const le64 = (s: string, i: number): bigint => BigInt(le32(s, i)) | (BigInt(le32(s, i + 4)) << 32n);

const xxh64Round = (acc: bigint, input: bigint): bigint =>
  mul64(rotl64(add64(acc, mul64(input, P64[1]!)), 31n), P64[0]!);

function xxh64Avalanche(h: bigint): bigint {
  h = mul64(h ^ (h >> 33n), P64[1]!);
  h = mul64(h ^ (h >> 29n), P64[2]!);
  return h ^ (h >> 32n);
}

/** XXH64 of the bytes, seeded (both unsigned 64-bit). */
export function xxh64(s: string, seed: bigint): bigint {
  const len = s.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    const v = [add64(seed, P64[0]! + P64[1]!), add64(seed, P64[1]!), seed, (seed - P64[0]!) & M64];
    for (; i + 32 <= len; i += 32) for (let j = 0; j < 4; j++) v[j] = xxh64Round(v[j]!, le64(s, i + 8 * j));
    h = (rotl64(v[0]!, 1n) + rotl64(v[1]!, 7n) + rotl64(v[2]!, 12n) + rotl64(v[3]!, 18n)) & M64;
    for (const x of v) h = add64(mul64(h ^ xxh64Round(0n, x), P64[0]!), P64[3]!);
  } else h = add64(seed, P64[4]!);
  h = add64(h, BigInt(len));
  for (; i + 8 <= len; i += 8)
    h = add64(mul64(rotl64(h ^ xxh64Round(0n, le64(s, i)), 27n), P64[0]!), P64[3]!);
  if (i + 4 <= len) {
    h = add64(mul64(rotl64(h ^ mul64(BigInt(le32(s, i)), P64[0]!), 23n), P64[1]!), P64[2]!);
    i += 4;
  }
  for (; i < len; i++) h = mul64(rotl64(h ^ mul64(BigInt(s.charCodeAt(i)), P64[4]!), 11n), P64[0]!);
  return xxh64Avalanche(h);
}

// XXH3's default secret, a constant of the algorithm.
const K_SECRET = Buffer.from(
  "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671fcb79e64eccc0e578825ad07dccff7221" +
    "b8084674f743248ee03590e6813a264c3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8" +
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364eac5ac8334d3ebc3c581a0fffa1363eb" +
    "170ddd51b7f0da49d316552629d4689e2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e",
  "hex",
).toString("latin1");
const PRIME_MX1 = 0x165667919e3779f9n;
const PRIME_MX2 = 0x9fb21c651e98df25n;

function xxh3Avalanche(h: bigint): bigint {
  h = mul64(h ^ (h >> 37n), PRIME_MX1);
  return h ^ (h >> 32n);
}

const fold64 = (a: bigint, b: bigint): bigint => {
  const p = a * b;
  return (p ^ (p >> 64n)) & M64;
};
const swap32 = (x: number): number =>
  ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0;
const swap64 = (x: bigint): bigint =>
  (BigInt(swap32(Number(x & 0xffffffffn))) << 32n) | BigInt(swap32(Number(x >> 32n)));

function mix16(s: string, i: number, sec: string, j: number, seed: bigint): bigint {
  return fold64(le64(s, i) ^ add64(le64(sec, j), seed), le64(s, i + 8) ^ ((le64(sec, j + 8) - seed) & M64));
}

function xxh3UpTo16(s: string, seed: bigint): bigint {
  const len = s.length;
  const k = K_SECRET;
  if (len > 8) {
    const lo = le64(s, 0) ^ add64(le64(k, 24) ^ le64(k, 32), seed);
    const hi = le64(s, len - 8) ^ (((le64(k, 40) ^ le64(k, 48)) - seed) & M64);
    return xxh3Avalanche((BigInt(len) + swap64(lo) + hi + fold64(lo, hi)) & M64);
  }
  if (len >= 4) {
    const sd = seed ^ (BigInt(swap32(Number(seed & 0xffffffffn))) << 32n);
    const input = BigInt(le32(s, len - 4)) + (BigInt(le32(s, 0)) << 32n);
    let h = input ^ (((le64(k, 8) ^ le64(k, 16)) - sd) & M64);
    h ^= rotl64(h, 49n) ^ rotl64(h, 24n);
    h = mul64(h, PRIME_MX2);
    h ^= (h >> 35n) + BigInt(len);
    h = mul64(h, PRIME_MX2);
    return h ^ (h >> 28n);
  }
  if (len > 0) {
    const c = (i: number): number => s.charCodeAt(i);
    const combined = ((c(0) << 16) | (c(len >> 1) << 24) | c(len - 1) | (len << 8)) >>> 0;
    return xxh64Avalanche(BigInt(combined) ^ add64(BigInt((le32(k, 0) ^ le32(k, 4)) >>> 0), seed));
  }
  return xxh64Avalanche(seed ^ le64(k, 56) ^ le64(k, 64));
}

function xxh3UpTo240(s: string, seed: bigint): bigint {
  const len = s.length;
  const k = K_SECRET;
  let acc = mul64(BigInt(len), P64[0]!);
  if (len <= 128) {
    // 16-byte pairs, one from each end, one more every 32 bytes of length.
    for (let j = (len - 1) >> 5; j >= 0; j--) {
      acc = add64(acc, mix16(s, 16 * j, k, 32 * j, seed));
      acc = add64(acc, mix16(s, len - 16 * (j + 1), k, 32 * j + 16, seed));
    }
    return xxh3Avalanche(acc);
  }
  for (let i = 0; i < 8; i++) acc = add64(acc, mix16(s, 16 * i, k, 16 * i, seed));
  acc = xxh3Avalanche(acc);
  for (let i = 8; i < len >> 4; i++) acc = add64(acc, mix16(s, 16 * i, k, 16 * (i - 8) + 3, seed));
  acc = add64(acc, mix16(s, len - 16, k, 136 - 17, seed));
  return xxh3Avalanche(acc);
}

function accumulate512(acc: bigint[], s: string, at: number, sec: string, j: number): void {
  for (let i = 0; i < 8; i++) {
    const v = le64(s, at + 8 * i);
    const key = v ^ le64(sec, j + 8 * i);
    acc[i ^ 1] = add64(acc[i ^ 1]!, v);
    acc[i] = add64(acc[i]!, (key & 0xffffffffn) * (key >> 32n));
  }
}

/** The secret a seed makes: each 16-byte lane's first half plus the seed, its second minus it. */
function seededSecret(seed: bigint): string {
  const out = Buffer.alloc(K_SECRET.length);
  for (let i = 0; i < K_SECRET.length; i += 16) {
    out.writeBigUInt64LE(add64(le64(K_SECRET, i), seed), i);
    out.writeBigUInt64LE((le64(K_SECRET, i + 8) - seed) & M64, i + 8);
  }
  return out.toString("latin1");
}

function xxh3Long(s: string, seed: bigint): bigint {
  const sec = seed === 0n ? K_SECRET : seededSecret(seed);
  const len = s.length;
  const acc = [BigInt(P32[2]), P64[0]!, P64[1]!, P64[2]!, P64[3]!, BigInt(P32[1]), P64[4]!, BigInt(P32[0])];
  const stripesPerBlock = (sec.length - 64) / 8;
  const blockLen = 64 * stripesPerBlock;
  const blocks = Math.floor((len - 1) / blockLen);
  for (let b = 0; b < blocks; b++) {
    for (let n = 0; n < stripesPerBlock; n++) accumulate512(acc, s, b * blockLen + 64 * n, sec, 8 * n);
    for (let i = 0; i < 8; i++) {
      const a = acc[i]!;
      acc[i] = mul64(a ^ (a >> 47n) ^ le64(sec, sec.length - 64 + 8 * i), BigInt(P32[0]));
    }
  }
  const stripes = Math.floor((len - 1 - blockLen * blocks) / 64);
  for (let n = 0; n < stripes; n++) accumulate512(acc, s, blocks * blockLen + 64 * n, sec, 8 * n);
  accumulate512(acc, s, len - 64, sec, sec.length - 64 - 7);
  let h = mul64(BigInt(len), P64[0]!);
  for (let i = 0; i < 4; i++)
    h = add64(h, fold64(acc[2 * i]! ^ le64(sec, 11 + 16 * i), acc[2 * i + 1]! ^ le64(sec, 19 + 16 * i)));
  return xxh3Avalanche(h);
}

/** XXH3's 64-bit hash of the bytes, seeded (both unsigned 64-bit). */
export function xxh3(s: string, seed: bigint): bigint {
  if (s.length <= 16) return xxh3UpTo16(s, seed);
  if (s.length <= 240) return xxh3UpTo240(s, seed);
  return xxh3Long(s, seed);
}

/** xxh64 and xxh3: the 64-bit hash, seeded by the argument, read back as haproxy's signed integer. */
const hash64 = (f: (s: string, seed: bigint) => bigint): Converter => ({
  args: ["int"],
  min: 0,
  in: "bin",
  out: T.Int,
  make: (args) => {
    const seed = BigInt.asUintN(64, toBig(Number(args[0] ?? 0)));
    return (smp) => int(smp, fromBig(BigInt.asIntN(64, f(smp.getStr(), seed))));
  },
});

// ---- be2dec, be2hex ----

function be2decCheck(args: Arg[]): string | undefined {
  const size = Number(args[1] ?? 0);
  if (size <= 0 || size > 8) return `chunk_size out of [1..8] range (${size})`;
  return truncateCheck(args);
}

function truncateCheck(args: Arg[]): string | undefined {
  const t = Number(args[2] ?? 0);
  return t === 0 || t === 1 ? undefined : `Unsupported truncate value (${t})`;
}

function be2hexCheck(args: Arg[]): string | undefined {
  const size = Number(args[1] ?? 0);
  if (size <= 0 && (String(args[0] ?? "") !== "" || Number(args[2] ?? 0) !== 0))
    return `chunk_size needs to be positive (${size})`;
  return truncateCheck(args);
}

/**
 * be2dec: each chunk of bytes as its big-endian unsigned number, separated; the last chunk shorter
 * (or left out, to truncate); as many as haproxy's chunk holds.
 */
function be2dec(s: string, sep: string, size: number, truncate: boolean): string {
  const last = truncate ? s.length - size + 1 : s.length;
  let max = TRASH_SIZE - 2;
  let out = "";
  for (let p = 0; p < last && out.length <= max;) {
    const start = out.length;
    if (p) out += sep;
    else max -= sep.length;
    let n = 0n;
    for (let i = 0; i < size && p < s.length; i++) n = (n << 8n) + BigInt(s.charCodeAt(p++));
    const digits = n.toString();
    if (digits.length + 1 > TRASH_SIZE - out.length) return out.slice(0, start);
    out += digits;
  }
  return out;
}

/** be2hex: two upper-case hex digits a byte, a separator between chunks. */
function be2hex(s: string, sep: string, size: number, truncate: boolean): string {
  const last = truncate ? s.length - size + 1 : s.length;
  if (sep === "" && !truncate) size = s.length;
  let max = TRASH_SIZE - 2 * size;
  let out = "";
  // haproxy compares the length with the limit unsigned: a negative one is no limit.
  for (let p = 0; p < last && (max < 0 || out.length <= max);) {
    if (p) out += sep;
    else max -= sep.length;
    const end = Math.min(p + size, s.length);
    out += latin1(s.slice(p, end)).toString("hex").toUpperCase();
    p = end;
  }
  return out;
}

// ---- hex2i, url_enc, cut_crlf ----

/** hex2i: hex digits as a 64-bit integer, wrapping; no sample when another character is there. */
function hex2i(s: string): number | undefined {
  if (!/^[0-9A-Fa-f]*$/.test(s)) return undefined;
  let n = 0n;
  for (let i = 0; i < s.length; i++) n = BigInt.asIntN(64, (n << 4n) + BigInt(parseInt(s[i]!, 16)));
  return fromBig(n);
}

const urlEncCheck = (args: Arg[]): string | undefined =>
  args[0] === "" || args[0] === "query" ? undefined : "Unexpected encode type. Allowed value is 'query'";

/** The bytes url_enc keeps as they are: RFC 3986's unreserved characters (1), the others 0. */
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-")
  UNRESERVED[c.charCodeAt(0)] = 1;
const HEX_DIGITS = Buffer.from("0123456789ABCDEF", "latin1");
/** url_enc's output, written in place: at most haproxy's chunk, less its last byte. */
const encoded = Buffer.alloc(TRASH_SIZE - 1);

/** url_enc: all but the unreserved bytes as %XX, stopping where haproxy's chunk is full. */
function urlEncode(s: string): string {
  const stop = encoded.length;
  let n = 0;
  for (let i = 0; i < s.length && n < stop; i++) {
    const c = s.charCodeAt(i);
    if (UNRESERVED[c] === 1) encoded[n++] = c;
    else if (n + 3 >= stop) break;
    else {
      encoded[n++] = 0x25; // %
      encoded[n++] = HEX_DIGITS[c >> 4]!;
      encoded[n++] = HEX_DIGITS[c & 15]!;
    }
  }
  return encoded.toString("latin1", 0, n);
}

const cutCrlf = (s: string): string => s.split(/[\r\n]/, 1)[0]!;

/** htonl: the integer's low 32 bits, 4 bytes in network order. */
function htonl(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(Number(BigInt.asUintN(32, toBig(n))));
  return b.toString("latin1");
}

const textConv = (f: (s: string) => string): Converter => ({
  args: [],
  min: 0,
  in: "str",
  out: T.Str,
  make: () => (smp) => str(smp, f(smp.getStr())),
});

export function digestConverters(): [string, Converter][] {
  return [
    ["sha1", bytesTo([], 0, () => (s) => digestOf("sha1", s))],
    ["sha2", bytesTo(["int"], 0, (a) => (s) => digestOf(`sha${Number(a[0] ?? 256)}`, s), sha2Check)],
    ["digest", bytesTo(["str"], 1, (a) => (s) => digestOf(String(a[0]), s), digestCheck)],
    [
      "hmac",
      bytesTo(
        ["str", "str"],
        2,
        (a) => {
          const [alg, key] = [String(a[0]), secretArg(a[1])!];
          return (s, ctx) => {
            const k = secretBytes(key, ctx);
            return k === undefined ? undefined : hmacOf(alg, k, s);
          };
        },
        hmacCheck,
      ),
    ],
    ["aes_gcm_dec", bytesTo(["int", "str", "str", "str"], 4, aesGcmDec, aesCheck)],
    [
      "secure_memcmp",
      {
        args: ["str"],
        min: 1,
        in: "bin",
        out: T.Bool,
        check: memcmpCheck,
        make: (args) => {
          const ref = parseVarName(String(args[0])) as VarRef;
          return (smp, ctx) => secureMemcmp(smp, ref, ctx);
        },
      },
    ],
    [
      "crc32c",
      {
        args: ["int"],
        min: 0,
        in: "bin",
        out: T.Int,
        make: (args) => {
          const avalanche = Boolean(args[0]);
          return (smp) => int(smp, avalanche ? fullHash(crc32c(smp.getStr())) : crc32c(smp.getStr()));
        },
      },
    ],
    [
      "xxh32",
      {
        args: ["int"],
        min: 0,
        in: "bin",
        out: T.Int,
        make: (args) => {
          const seed = Number(BigInt.asUintN(32, toBig(Number(args[0] ?? 0))));
          return (smp) => int(smp, xxh32(smp.getStr(), seed));
        },
      },
    ],
    ["xxh64", hash64(xxh64)],
    ["xxh3", hash64(xxh3)],
    ["b64dec", { ...bytesTo([], 0, () => base64dec), in: "str" }],
    ["ub64dec", { ...bytesTo([], 0, () => base64urldec), in: "str" }],
    [
      "ub64enc",
      {
        args: [],
        min: 0,
        in: "bin",
        out: T.Str,
        make: () => (smp) => {
          const v = base64url(smp.getStr());
          return v !== undefined && str(smp, v);
        },
      },
    ],
    ["be2dec", beConv(be2dec, be2decCheck)],
    ["be2hex", beConv(be2hex, be2hexCheck)],
    [
      "hex2i",
      {
        args: [],
        min: 0,
        in: "str",
        out: T.Int,
        make: () => (smp) => {
          const n = hex2i(smp.getStr());
          return n !== undefined && int(smp, n);
        },
      },
    ],
    ["htonl", { args: [], min: 0, in: "int", out: T.Bin, make: () => (smp) => bin(smp, htonl(smp.num)) }],
    ["url_enc", { ...textConv(urlEncode), args: ["str"], min: 1, check: urlEncCheck }],
    ["cut_crlf", textConv(cutCrlf)],
  ];
}

function beConv(
  f: (s: string, sep: string, size: number, truncate: boolean) => string,
  check: (args: Arg[]) => string | undefined,
): Converter {
  return {
    args: ["str", "int", "int"],
    min: 1,
    in: "bin",
    out: T.Str,
    check,
    make: (args) => {
      const [sep, size, truncate] = [String(args[0] ?? ""), Number(args[1] ?? 0), Boolean(args[2])];
      return (smp) => str(smp, f(smp.getStr(), sep, size, truncate));
    },
  };
}
