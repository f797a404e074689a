// The byte classes and delimiters of HTTP/1.1 (RFC 9110 5.6, RFC 9112), shared by the head parser
// and the chunked-body scanner.

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;
export const SEMI = 59;

/** tchar of RFC 9110: the bytes of a token (method, header or trailer name). */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** Bytes of a field value (header or trailer) or a reason phrase: HTAB, SP, VCHAR, obs-text. */
export const VALUE = new Uint8Array(256);
for (let c = 0; c < 256; c++) VALUE[c] = c === HTAB || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
