// crypt(3) for the three password-hash schemes a `userlist` may store: MD5-crypt ($1$) and
// SHA-256/SHA-512-crypt ($5$, $6$), computed as libxcrypt (the crypt(3) of current Linux
// distributions, and so HAProxy's) computes them, so that a stored hash checks the same way here.
import { createHash, type Hash } from "node:crypto";

/** The crypt(3) schemes Sluice checks passwords with, by their prefix. */
export type CryptScheme = "md5" | "sha256" | "sha512";

/** The scheme of a stored hash ("$1$...", "$5$...", "$6$..."), or undefined for any other string. */
export function cryptScheme(stored: string): CryptScheme | undefined {
  if (stored.startsWith("$1$")) return "md5";
  if (stored.startsWith("$5$")) return "sha256";
  if (stored.startsWith("$6$")) return "sha512";
  return undefined;
}

/**
 * What `crypt` returns where libxcrypt refuses the input (it returns "*0" too). A stored hash of
 * ours starts with "$", so this can never equal one: a refused setting matches no password.
 */
const REFUSED = "*0";

/** libxcrypt refuses a password of this many bytes or more. */
const MAX_PASSWORD = 512;

/**
 * crypt(password, setting): the whole hash string crypt(3) returns for this password and the
 * setting's scheme, salt and rounds; undefined when the scheme is not one of ours.
 *
 * Where libxcrypt refuses, this returns "*0", which never equals a stored hash. It refuses:
 * - a setting with any character other than printable ASCII, or with one of `!*:;\` (anywhere,
 *   even after the salt);
 * - a password of 512 bytes or more;
 * - for $5$ and $6$, a `rounds=` that is not `rounds=N$` with N in [1000, 999999999] written
 *   without leading zeros. (glibc's own crypt clamped N into that range; libxcrypt refuses instead.)
 *
 * crypt(3) takes the password as a C string, so it ends at its first NUL byte here too.
 */
export function crypt(password: Buffer, setting: string): string | undefined {
  const scheme = cryptScheme(setting);
  if (scheme === undefined) return undefined;
  if (!validSetting(setting)) return REFUSED;
  const nul = password.indexOf(0);
  const key = nul < 0 ? password : password.subarray(0, nul);
  if (key.length >= MAX_PASSWORD) return REFUSED;
  const rest = setting.slice(3);
  if (scheme === "md5") return md5Crypt(key, saltOf(rest, 8));

  let rounds = 5000;
  let roundsText = "";
  let saltPart = rest;
  if (rest.startsWith("rounds=")) {
    // Four to nine digits, the first not 0: exactly the numbers 1000 to 999999999 as libxcrypt
    // writes them.
    const m = /^rounds=([1-9][0-9]{3,8})\$/.exec(rest);
    if (m === null) return REFUSED;
    rounds = Number(m[1]);
    roundsText = m[0];
    saltPart = rest.slice(m[0].length);
  }
  const salt = saltOf(saltPart, 16);
  const hash = scheme === "sha256" ? SHA256 : SHA512;
  const digest = shaCrypt(hash, key, Buffer.from(salt, "latin1"), rounds);
  return setting.slice(0, 3) + roundsText + salt + "$" + encode(digest, hash.order, hash.tail);
}

/** Whether every character is one libxcrypt accepts in a setting. */
function validSetting(setting: string): boolean {
  for (let i = 0; i < setting.length; i++) {
    const c = setting.charCodeAt(i);
    // Printable ASCII without the space (0x21-0x7e), less the characters that mean something
    // in passwd and shadow files: ":" separates fields, "!" and "*" mark locked accounts.
    if (c < 0x21 || c > 0x7e || c === 0x21 || c === 0x2a || c === 0x3a || c === 0x3b || c === 0x5c) {
      return false;
    }
  }
  return true;
}

/** The salt at the start of `s`: up to its first "$", and at most `max` characters. */
function saltOf(s: string, max: number): string {
  const end = s.indexOf("$");
  return (end < 0 ? s : s.slice(0, end)).slice(0, max);
}

/** crypt's base64 alphabet: not RFC 4648's, and little-endian within each 24-bit group. */
const ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Encodes `digest` as crypt does: each triple of byte indices in `order` (most significant byte
 * first) gives 4 characters, then `tail` (likewise, with its own character count) the last few.
 */
function encode(digest: Buffer, order: readonly number[], tail: readonly number[]): string {
  let out = "";
  const put = (a: number, b: number, c: number, chars: number): void => {
    let v = ((digest[a] ?? 0) << 16) | ((digest[b] ?? 0) << 8) | (digest[c] ?? 0);
    for (let i = 0; i < chars; i++, v >>= 6) out += ALPHABET[v & 63];
  };
  for (let i = 0; i < order.length; i += 3) put(order[i]!, order[i + 1]!, order[i + 2]!, 4);
  put(tail[0]!, tail[1]!, tail[2]!, tail[3]!);
  return out;
}

/** Stands for "no byte" in a tail group: `encode` reads a missing index as 0. */
const NONE = -1;

/** MD5-crypt's byte order: five triples, then the last byte alone in 2 characters. */
const MD5_ORDER = [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5] as const;
const MD5_TAIL = [NONE, NONE, 11, 2] as const;

/**
 * MD5-crypt (Poul-Henning Kamp's, from FreeBSD): 1000 rounds, salt at most 8 characters. The
 * rounds mix the password, the salt and the previous digest in a fixed pattern of 42 rounds.
 */
function md5Crypt(key: Buffer, salt: string): string {
  const saltBytes = Buffer.from(salt, "latin1");
  const alternate = createHash("md5").update(key).update(saltBytes).update(key).digest();

  const h = createHash("md5").update(key).update("$1$").update(saltBytes);
  for (let left = key.length; left > 0; left -= 16) h.update(alternate.subarray(0, Math.min(left, 16)));
  // For each bit of the length, lowest first: a zero byte for a 1 bit, the first password byte
  // for a 0 bit. (The original adds the first byte of a digest buffer it has just zeroed.)
  const zero = Buffer.alloc(1);
  const first = key.subarray(0, 1);
  for (let n = key.length; n > 0; n >>= 1) h.update(n & 1 ? zero : first);
  let digest = h.digest();

  for (let i = 0; i < 1000; i++) {
    const r = createHash("md5");
    r.update(i & 1 ? key : digest);
    if (i % 3) r.update(saltBytes);
    if (i % 7) r.update(key);
    r.update(i & 1 ? digest : key);
    digest = r.digest();
  }
  return "$1$" + salt + "$" + encode(digest, MD5_ORDER, MD5_TAIL);
}

/** What differs between SHA-256-crypt and SHA-512-crypt. */
interface ShaVariant {
  readonly algorithm: "sha256" | "sha512";
  /** The encoding's byte order, in triples. */
  readonly order: readonly number[];
  /** The last group: byte indices and how many characters it makes. */
  readonly tail: readonly number[];
}

// The byte orders Drepper's specification gives. Each triple takes one byte from each third
// of the digest, and the position of the first third's byte rotates with each triple.
const SHA256: ShaVariant = {
  algorithm: "sha256",
  order: [
    0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19,
    29,
  ],
  tail: [NONE, 31, 30, 3],
};
const SHA512: ShaVariant = {
  algorithm: "sha512",
  order: [
    0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30,
    51, 31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37, 58, 16, 59, 17, 38, 18,
    39, 60, 40, 61, 19, 62, 20, 41,
  ],
  tail: [NONE, NONE, 63, 2],
};

/** `length` bytes of `digest` repeated: how the scheme stretches a digest to a given length. */
function stretch(digest: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let at = 0; at < length; at += digest.length) {
    digest.copy(out, at, 0, Math.min(digest.length, length - at));
  }
  return out;
}

/** Feeds `digest` to `h` repeated up to `length` bytes, without building the repeated buffer. */
function updateRepeated(h: Hash, digest: Buffer, length: number): void {
  for (let left = length; left > 0; left -= digest.length) {
    h.update(left >= digest.length ? digest : digest.subarray(0, left));
  }
}

/**
 * SHA-crypt (Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"): the final digest for this
 * key, salt and number of rounds, before encoding.
 */
function shaCrypt(variant: ShaVariant, key: Buffer, salt: Buffer, rounds: number): Buffer {
  const { algorithm } = variant;
  const alternate = createHash(algorithm).update(key).update(salt).update(key).digest();

  const h = createHash(algorithm).update(key).update(salt);
  updateRepeated(h, alternate, key.length);
  // For each bit of the length, lowest first: the alternate digest for a 1, the key for a 0.
  for (let n = key.length; n > 0; n >>= 1) h.update(n & 1 ? alternate : key);
  let digest = h.digest();

  // The rounds hash these stand-ins rather than the key and the salt themselves: digests of many
  // copies of each, stretched or cut to the original's length.
  const keyDigest = createHash(algorithm);
  for (let i = 0; i < key.length; i++) keyDigest.update(key);
  const p = stretch(keyDigest.digest(), key.length);
  const saltDigest = createHash(algorithm);
  for (let i = 0; i < 16 + digest[0]!; i++) saltDigest.update(salt);
  const s = stretch(saltDigest.digest(), salt.length);

  for (let i = 0; i < rounds; i++) {
    const r = createHash(algorithm);
    r.update(i & 1 ? p : digest);
    if (i % 3) r.update(s);
    if (i % 7) r.update(p);
    r.update(i & 1 ? digest : p);
    digest = r.digest();
  }
  return digest;
}
