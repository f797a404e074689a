// The hash functions of haproxy's `hash-type` (sdbm by default), over a key's bytes (a latin1
// string: one byte per character), as 32-bit unsigned numbers.

export type HashFunction = "sdbm" | "djb2" | "wt6" | "crc32";

export function hashKey(fn: HashFunction, key: string): number {
  switch (fn) {
    case "djb2":
      return djb2(key);
    case "wt6":
      return wt6(key);
    case "crc32":
      return crc32(key);
    default:
      return sdbm(key);
  }
}

function sdbm(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = ((key.charCodeAt(i) & 255) + (h << 6) + (h << 16) - h) >>> 0;
  return h;
}

function djb2(key: string): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) h = ((h << 5) + h + (key.charCodeAt(i) & 255)) >>> 0;
  return h;
}

/** haproxy's own: two rotating accumulators whose rotations depend on what was hashed so far. */
function wt6(key: string): number {
  let h0 = 0xa53c965a;
  let h1 = 0x5ca6953a;
  let step0 = 6;
  let step1 = 18;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i) & 255;
    h0 = ~(h0 ^ c) >>> 0;
    h1 = ~(h1 + c) >>> 0;
    const t = rotl(h1, step0);
    h1 = rotl(h0, step1);
    h0 = t;
    const s = ((h0 >>> 16) ^ h1) & 0xffff;
    step0 = s & 0x1f;
    step1 = s >>> 11;
  }
  return (h0 ^ h1) >>> 0;
}

/** A left rotation as C computes `(x << n) | (x >> (32 - n))`: a shift by 32 is taken modulo 32. */
function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

/** CRC-32 (IEEE 802.3, reflected), as zlib's. */
function crc32(key: string): number {
  let h = 0xffffffff;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i) & 255;
    for (let bit = 0; bit < 8; bit++) h = (h >>> 1) ^ (h & 1 ? 0xedb88320 : 0);
  }
  return ~h >>> 0;
}

/**
 * haproxy's full_hash: one of Bob Jenkins' 32-bit integer hashes, then a multiplication by a large
 * prime; the avalanche modifier, and the places of servers on a consistent hash ring.
 */
export function fullHash(a: number): number {
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0;
  a = (a ^ 0xc761c23c ^ (a >>> 19)) >>> 0;
  a = (a + 0x165667b1 + (a << 5)) >>> 0;
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0;
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0;
  a = (a ^ 0xb55a4f09 ^ (a >>> 16)) >>> 0;
  return Math.imul(a, 3221225473) >>> 0;
}
