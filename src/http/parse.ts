// The strict HTTP/1.x head parser (RFC 9112). It scans the received bytes in place and records
// offsets; the only strings it makes are the method, the URI, the reason and the Upgrade token.
import { BodyKind, type HttpHead } from "./message.js";

/** parseRequest/parseResponse: the blank line that ends the head has not arrived yet. */
export const NEED_MORE = -1;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** tchar of RFC 9110: the characters of a token (method, header name). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** Characters allowed in a header value: VCHAR, obs-text, SP, HTAB. */
const VALUE = new Uint8Array(256);
for (let c = 0; c < 256; c++) VALUE[c] = c === HTAB || (c >= 0x20 && c !== 0x7f) ? 1 : 0;

/** Characters allowed in a request-target: visible ASCII only. */
const URI = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) URI[c] = 1;

export const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) LOWER[c] = c >= 65 && c <= 90 ? c + 32 : c;

/** A head object for the parser to fill (or for a placeholder). */
export function newHead(buf: Buffer): HttpHead {
  return {
    buf,
    start: 0,
    end: 0,
    method: "",
    uri: "",
    status: 0,
    reason: "",
    versionMinor: 1,
    hdr: new Int32Array(64),
    count: 0,
    body: BodyKind.None,
    contentLength: -1,
    connClose: false,
    connKeepAlive: false,
    connUpgrade: false,
    upgrade: "",
    expectContinue: false,
  };
}

/** End of the line that starts at `pos` (its LF), or -1 when it is not complete within `end`. */
function lineEnd(buf: Buffer, pos: number, end: number): number {
  const nl = buf.indexOf(LF, pos);
  return nl < 0 || nl >= end ? -1 : nl;
}

/** The line's content ends before an optional CR. */
const contentEnd = (buf: Buffer, nl: number, from: number): number =>
  nl > from && buf[nl - 1] === CR ? nl - 1 : nl;

/** Parses `HTTP/1.x` at buf[p..p+8); returns the minor version, or -1. */
function version(buf: Buffer, p: number, e: number): number {
  if (e - p !== 8) return -1;
  if (buf[p] !== 72 || buf[p + 1] !== 84 || buf[p + 2] !== 84 || buf[p + 3] !== 80 || buf[p + 4] !== 47)
    return -1;
  if (buf[p + 5] !== 49 || buf[p + 6] !== 46) return -1;
  const minor = buf[p + 7]! - 48;
  return minor >= 0 && minor <= 9 ? Math.min(minor, 1) : -1;
}

export function parseRequest(
  buf: Buffer,
  start: number,
  end: number,
  maxhdr: number,
  into?: HttpHead,
): HttpHead | number {
  let pos = start;
  // RFC 9112 lets a server ignore empty lines before the request line.
  while (pos < end && (buf[pos] === CR || buf[pos] === LF)) pos++;
  const nl = lineEnd(buf, pos, end);
  if (nl < 0) return scanAhead(buf, pos, end);
  const le = contentEnd(buf, nl, pos);
  // method SP request-target SP HTTP-version
  let p = pos;
  while (p < le && TCHAR[buf[p]!]) p++;
  if (p === pos || buf[p] !== SP) return 400;
  const mEnd = p++;
  const uStart = p;
  while (p < le && URI[buf[p]!]) p++;
  if (p === uStart || buf[p] !== SP) return 400;
  const uEnd = p++;
  const minor = version(buf, p, le);
  if (minor < 0) return buf[p] === 72 && buf[p + 5] !== 49 ? 505 : 400;
  const h = into ?? newHead(buf);
  h.buf = buf;
  h.start = pos;
  h.method = buf.toString("latin1", pos, mEnd);
  h.uri = buf.toString("latin1", uStart, uEnd);
  h.status = 0;
  h.reason = "";
  h.versionMinor = minor;
  const r = parseHeaders(h, nl + 1, end, maxhdr, true);
  if (r !== 0) return r;
  return h;
}

export function parseResponse(
  buf: Buffer,
  start: number,
  end: number,
  maxhdr: number,
  into?: HttpHead,
): HttpHead | number {
  const pos = start;
  const nl = lineEnd(buf, pos, end);
  if (nl < 0) return scanAhead(buf, pos, end, 502);
  const le = contentEnd(buf, nl, pos);
  // HTTP-version SP 3DIGIT SP [reason]
  const minor = version(buf, pos, pos + 8);
  if (minor < 0 || buf[pos + 8] !== SP) return 502;
  let status = 0;
  for (let i = pos + 9; i < pos + 12; i++) {
    const d = buf[i]! - 48;
    if (i >= le || d < 0 || d > 9) return 502;
    status = status * 10 + d;
  }
  if (status < 100) return 502;
  if (le > pos + 12 && buf[pos + 12] !== SP) return 502;
  for (let i = pos + 13; i < le; i++) if (!VALUE[buf[i]!]) return 502;
  const h = into ?? newHead(buf);
  h.buf = buf;
  h.start = pos;
  h.method = "";
  h.uri = "";
  h.status = status;
  h.reason = le > pos + 13 ? buf.toString("latin1", pos + 13, le) : "";
  h.versionMinor = minor;
  const r = parseHeaders(h, nl + 1, end, maxhdr, false);
  if (r !== 0) return r === 400 ? 502 : r;
  return h;
}

/**
 * A head is incomplete: say so, unless what is there already cannot be a valid start (then fail
 * early rather than wait for a timeout). Only control characters are checked this cheaply.
 */
function scanAhead(buf: Buffer, pos: number, end: number, status = 400): number {
  for (let i = pos; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x20 && c !== CR && c !== LF && c !== HTAB) return status;
  }
  return NEED_MORE;
}

/** Reads header lines from `pos` to the blank line; fills offsets and framing. 0 when complete. */
function parseHeaders(h: HttpHead, pos: number, end: number, maxhdr: number, request: boolean): number {
  const buf = h.buf;
  let count = 0;
  let hdr = h.hdr;
  let contentLength = -1;
  let te = false;
  let chunked = false;
  h.connClose = h.connKeepAlive = h.connUpgrade = false;
  h.upgrade = "";
  h.expectContinue = false;
  for (;;) {
    const nl = lineEnd(buf, pos, end);
    if (nl < 0) return scanAhead(buf, pos, end);
    const le = contentEnd(buf, nl, pos);
    if (le === pos) {
      h.end = nl + 1;
      break;
    }
    const first = buf[pos]!;
    // obs-fold (a line starting with blanks) is refused, as RFC 9112 allows and haproxy does.
    if (first === SP || first === HTAB) return 400;
    let p = pos;
    while (p < le && TCHAR[buf[p]!]) p++;
    if (p === pos || buf[p] !== COLON) return 400;
    const nEnd = p++;
    while (p < le && (buf[p] === SP || buf[p] === HTAB)) p++;
    const vStart = p;
    let vEnd = le;
    for (let i = vStart; i < le; i++) if (!VALUE[buf[i]!]) return 400;
    while (vEnd > vStart && (buf[vEnd - 1] === SP || buf[vEnd - 1] === HTAB)) vEnd--;
    if (count >= maxhdr) return 400;
    if (count * 4 + 4 > hdr.length) {
      const grown = new Int32Array(hdr.length * 2);
      grown.set(hdr);
      hdr = h.hdr = grown;
    }
    const o = count * 4;
    hdr[o] = pos;
    hdr[o + 1] = nEnd;
    hdr[o + 2] = vStart;
    hdr[o + 3] = vEnd;
    count++;
    switch (nEnd - pos) {
      case 14:
        if (nameIs(buf, pos, "content-length")) {
          const v = parseContentLength(buf, vStart, vEnd);
          if (v < 0 || (contentLength >= 0 && v !== contentLength)) return 400;
          contentLength = v;
        }
        break;
      case 17:
        if (nameIs(buf, pos, "transfer-encoding")) {
          te = true;
          const r = transferCodings(buf, vStart, vEnd, chunked);
          if (r < 0) return 400;
          chunked = r === 1;
        }
        break;
      case 10:
        if (nameIs(buf, pos, "connection")) connectionTokens(h, buf, vStart, vEnd);
        break;
      case 7:
        if (nameIs(buf, pos, "upgrade")) h.upgrade = buf.toString("latin1", vStart, vEnd).toLowerCase();
        break;
      case 6:
        if (nameIs(buf, pos, "expect") && vEnd - vStart === 12 && nameIs(buf, vStart, "100-continue"))
          h.expectContinue = true;
        break;
    }
    pos = nl + 1;
  }
  h.count = count;
  h.contentLength = -1;
  if (te) {
    // A request must end its codings with chunked, and may not also carry Content-Length.
    if (request && (!chunked || contentLength >= 0)) return 400;
    h.body = chunked ? BodyKind.Chunked : BodyKind.UntilClose;
  } else if (contentLength >= 0) {
    h.body = BodyKind.Length;
    h.contentLength = contentLength;
  } else h.body = request ? BodyKind.None : BodyKind.UntilClose;
  return 0;
}

/** Case-insensitive comparison of buf[pos..] with a lower-case ASCII name of the same length. */
function nameIs(buf: Buffer, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (LOWER[buf[pos + i]!] !== lower.charCodeAt(i)) return false;
  return true;
}

/** Content-Length: digits, or a list of identical values ("5, 5"). -1 when invalid. */
function parseContentLength(buf: Buffer, s: number, e: number): number {
  let value = -1;
  let p = s;
  while (p < e) {
    let n = 0;
    const d0 = p;
    while (p < e && buf[p]! >= 48 && buf[p]! <= 57) {
      n = n * 10 + buf[p]! - 48;
      if (n > Number.MAX_SAFE_INTEGER) return -1;
      p++;
    }
    if (p === d0 || (value >= 0 && n !== value)) return -1;
    value = n;
    while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
    if (p < e) {
      if (buf[p] !== 44) return -1;
      p++;
      while (p < e && (buf[p] === SP || buf[p] === HTAB)) p++;
      if (p === e) return -1;
    }
  }
  return value;
}

/**
 * Transfer-Encoding codings, possibly over several header lines. Returns 1 when the last coding
 * is chunked, 0 when it is something else, -1 when invalid (empty, or chunked not last).
 */
function transferCodings(buf: Buffer, s: number, e: number, chunkedBefore: boolean): number {
  let last = chunkedBefore ? 1 : 0;
  let p = s;
  let any = false;
  while (p < e) {
    while (p < e && (buf[p] === SP || buf[p] === HTAB || buf[p] === 44)) p++;
    const t = p;
    while (p < e && buf[p] !== 44 && buf[p] !== SP && buf[p] !== HTAB && buf[p] !== 59) p++;
    if (p === t) break;
    // Coding parameters (";q=...") are skipped.
    while (p < e && buf[p] !== 44) p++;
    if (last === 1) return -1;
    any = true;
    last = p - t >= 7 && nameIs(buf, t, "chunked") && tokenEnd(buf, t + 7, p) ? 1 : 0;
  }
  return any ? last : -1;
}

const tokenEnd = (buf: Buffer, p: number, e: number): boolean =>
  p === e || buf[p] === SP || buf[p] === HTAB || buf[p] === 59;

function connectionTokens(h: HttpHead, buf: Buffer, s: number, e: number): void {
  let p = s;
  while (p < e) {
    while (p < e && (buf[p] === SP || buf[p] === HTAB || buf[p] === 44)) p++;
    const t = p;
    while (p < e && buf[p] !== 44 && buf[p] !== SP && buf[p] !== HTAB) p++;
    const n = p - t;
    if (n === 5 && nameIs(buf, t, "close")) h.connClose = true;
    else if (n === 10 && nameIs(buf, t, "keep-alive")) h.connKeepAlive = true;
    else if (n === 7 && nameIs(buf, t, "upgrade")) h.connUpgrade = true;
  }
}

/** How the response's body is delimited, given the request it answers. */
export function responseBodyKind(res: HttpHead, requestMethod: string): BodyKind {
  const s = res.status;
  if (requestMethod === "HEAD" || s < 200 || s === 204 || s === 304) return BodyKind.None;
  if (requestMethod === "CONNECT" && s < 300) return BodyKind.None;
  return res.body;
}

/** Index of the first header named `lowerName` at or after `from`, or -1. */
export function headerIndex(head: HttpHead, lowerName: string, from = 0): number {
  const { buf, hdr, count } = head;
  const n = lowerName.length;
  for (let i = from; i < count; i++) {
    const s = hdr[i * 4]!;
    if (hdr[i * 4 + 1]! - s === n && nameIs(buf, s, lowerName)) return i;
  }
  return -1;
}

export const headerName = (head: HttpHead, i: number): string =>
  head.buf.toString("latin1", head.hdr[i * 4]!, head.hdr[i * 4 + 1]!);

export const headerValue = (head: HttpHead, i: number): string =>
  head.buf.toString("latin1", head.hdr[i * 4 + 2]!, head.hdr[i * 4 + 3]!);
