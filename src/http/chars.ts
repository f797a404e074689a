// The byte classes and delimiters of HTTP/1.1 (RFC 9110 5.6, RFC 9112), and the byte-level helpers
// shared by the head parser, the chunked-body scanner and the Connection header's rewriting.

/**
 * Configuration text as the bytes it stands for, one character per byte (latin1): the form every
 * string of the data path takes, so that what a user wrote in UTF-8 leaves in UTF-8, as haproxy
 * sends the configuration's bytes.
 */
export const wireText = (s: string): string => Buffer.from(s, "utf8").toString("latin1");

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SEMI = 59;
export const COMMA = 44;

/** tchar of RFC 9110: the bytes of a token (method, header or trailer name). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** Bytes of a field value (header or trailer) or a reason phrase: HTAB, SP, VCHAR, obs-text. */
export const VALUE = new Uint8Array(256);
for (let c = 0; c < 256; c++) VALUE[c] = c === HTAB || (c >= 0x20 && c !== 0x7f) ? 1 : 0;

/** ASCII lower-casing of a byte. */
export const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 65 && c <= 90 ? c + 32 : c;

export const isBlank = (c: number | undefined): boolean => c === SP || c === HTAB;

/**
 * The end of one comma-separated element of a header value starting at s (or at `stop` too, a cookie's
 * ';'): neither ends it inside a quoted string.
 */
export function elementEnd(b: Buffer, s: number, e: number, stop = COMMA): number {
  let quoted = false;
  for (; s < e; s++) {
    const c = b[s]!;
    if (quoted) {
      if (c === 92) s++;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === COMMA || c === stop) return s;
  }
  return e;
}

/** Case-insensitive comparison of buf[pos..] with a lower-case ASCII name (the caller checks length). */
export function nameIs(buf: Buffer, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (LOWER[buf[pos + i]!] !== lower.charCodeAt(i)) return false;
  return true;
}

/** Buffer's own latin1 codec, on every Buffer, without toString()'s and write()'s argument handling. */
interface Latin1Codec {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
}
/**
 * buf[s, e) as a string, a character per byte. An empty range needs no call into C++: the value left
 * of a Connection line once its close word is taken out, say, at every response from a server that
 * closes.
 */
export const latin1 = (buf: Buffer, s: number, e: number): string =>
  s === e ? "" : (buf as unknown as Latin1Codec).latin1Slice(s, e);

/** Writes `text` into buf at `o`, a byte per character; the count written. */
export const writeLatin1 = (buf: Buffer, text: string, o: number): number =>
  (buf as unknown as Latin1Codec).latin1Write(text, o, text.length);
