// The strict HTTP/1.x head parser (RFC 9112, with haproxy 2.6's choices where the RFC leaves one).
// It walks the received bytes once, records offsets, and makes only the strings HttpHead carries:
// method, URI, reason and the Upgrade token, and only once the head is complete.
//
// Return values of parseRequest/parseResponse:
//   - the filled HttpHead when buf[start..end) holds a whole head (head.end is just past its blank
//     line, so a pipelined head starts there);
//   - NEED_MORE (-1) when the blank line has not arrived and what arrived so far is valid;
//   - an HTTP status when the head is invalid: 400 (or 422, see transfer codings) for requests,
//     always 502 for responses.
//
// The size limit is the caller's: see maxHeadWeight().
//
// Choices, checked against haproxy 2.6 (the oracle) unless marked "stricter":
//   - bare LF line ends are accepted anywhere a CRLF is (haproxy does, and re-encodes the head with
//     CRLF: normalizeHead() does the same); a CR must be followed by LF.
//   - empty lines before the start line are skipped (RFC 9112 2.2; haproxy does, also for responses).
//   - one or more SP/HTAB separate the start line's parts (haproxy accepts both); nothing may follow
//     the version (400).
//   - version: a request's is "HTTP/" DIGIT "." DIGIT, case-sensitive; a response's may name another
//     protocol, four bytes of upper-case letters, digits or dots ("RTSP/1.0"). Like haproxy, any such
//     version is accepted: 1.1 and above (HTTP/1.2, HTTP/2.0 ...) count as 1.1 and leave as
//     "HTTP/1.1", any other keeps its text (normalizedStartLine() gives the line to send).
//     "HTTP/1.10", "http/1.1", no version at all (HTTP/0.9): 400. No 505: haproxy 2.6 never sends one.
//     Leniency.InvalidHttp (option accept-invalid-http-request/-response) takes any run of those bytes
//     and slashes, and a GET without one (HTTP/0.9, whose head is its request line and which leaves
//     as HTTP/1.0); a version of 8 bytes counts as 1.1 when its sixth byte is above "1", or
//     is "1" with an eighth byte of "1" or above ("HTTP/A.B" too).
//   - method: a token (any case, unknown methods pass). request-target: bytes 0x21-0x7E plus DEL, no
//     '#', no 8-bit byte (as haproxy; Leniency.InvalidHttp lets both through); it must be
//     origin-form "/...", "*", an absolute-form "scheme://authority..." or, for CONNECT only,
//     "host:port" (stricter: haproxy also passes any other target whose part before the first '/'
//     equals Host, "GET x/p" with Host x). An
//     absolute-form's authority (without userinfo, without the scheme's default port, any case)
//     must equal Host when Host is present; several Host headers must agree (any case): otherwise
//     400, as haproxy. CONNECT's "host:port" must equal Host likewise, either side without ":80" or
//     ":443". As haproxy 2.6 does, an absolute-form target naming its scheme's default port (or an
//     empty one) leaves without it, every Host then carrying the target's host; a CONNECT's Host
//     leaves without ":80" or ":443" (head.hostValue).
//   - header name: a token directly followed by ':' (blank before colon, empty name: 400).
//     Leniency.InvalidHttp: any byte but ':' and LF (a blank or a CR too), still not empty.
//   - header value: HTAB, SP, VCHAR, obs-text. Stricter: other control characters (NUL included) are
//     400 here, where haproxy 2.6 forwards them; a bare CR is 400 in both.
//   - obs-fold: stricter, 400 (haproxy 2.6 unfolds it into spaces).
//   - more than maxhdr - 1 header lines: 400 (haproxy counts the same way: with tune.http.maxhdr 5,
//     4 lines pass and 5 are refused).
//   - Content-Length: digits, or a comma list of identical values; repeated headers must agree;
//     leading zeros pass; repeated ones (and repeated Host lines) leave as one, as in haproxy.
//     Empty, signs, hex, differing values: 400. Values above 2^53-1: 400 (stricter; haproxy goes
//     up to 2^63-1).
//   - Transfer-Encoding: codings over all TE lines, case-insensitive, empty list elements skipped
//     (haproxy refuses "chunked,," but not "chunked,").
//     haproxy 2.6 implements chunked only: a request whose codings end in chunked but carry another
//     one ("gzip, chunked") gets 422, any other misuse 400 (chunked not last, chunked twice, chunked
//     with parameters, nothing at all). A response with any of these is 502.
//   - a body (Content-Length above 0, or chunked) on an HTTP/1.0 GET, HEAD or DELETE: 413, unless
//     Leniency.PayloadAnyMethod (h1-accept-payload-with-any-method).
//   - a WebSocket upgrade (Connection lists upgrade, the last Upgrade line lists websocket, no body)
//     without a Sec-WebSocket-Key of 24 characters: 400 (the key is not decoded).
//   - Content-Length with Transfer-Encoding: stricter for requests, 400 (haproxy 2.6 drops the
//     Content-Length and goes on). Responses: chunked wins, as in haproxy; the caller should drop
//     the Content-Length line it forwards (headerIndex(res, "content-length")).
//   - response status: stricter, exactly three digits, 100 to 999 (haproxy forwards "20" or "2000").
//     The reason may be empty; it may not hold control characters other than HTAB.
// A head that rules rewrote is read back with `received` false: its target may hold any byte above
// the blank and need not match its method or Host, its Host and Content-Length lines are
// kept as they are (differing Host lines too), and the checks of a head's reception (413, the
// WebSocket key, PRI) are not made again. Its framing is read as haproxy's HTTP/1 layer reads a
// head it sends: the first valid Content-Length counts (strayLengths notes the others), and one may
// stand beside a chunked Transfer-Encoding (http/reframe.ts). The rest holds: haproxy sends some
// heads that fail it.
import { BodyKind, headerNameIs, HTX_HEAD, MAX_NAME_LENGTH, type HttpHead } from "./message.js";
import { ConnectionWord, connectionWord } from "./connection.js";
import {
  CR,
  LF,
  SP,
  HTAB,
  COLON,
  SEMI,
  COMMA,
  TCHAR,
  VALUE,
  LOWER,
  isBlank,
  latin1,
  nameIs,
} from "./chars.js";

/** parseRequest/parseResponse: the blank line that ends the head has not arrived yet. */
export const NEED_MORE = -1;

/** What a head's reader lets through beyond the grammar above: haproxy's relaxations, a bit each. */
export const enum Leniency {
  None = 0,
  /** option accept-invalid-http-request (a client's heads) or -response (a server's). */
  InvalidHttp = 1,
  /** h1-accept-payload-with-any-method (global): an HTTP/1.0 GET, HEAD or DELETE may carry a body. */
  PayloadAnyMethod = 2,
}

/**
 * The most a head may weigh (HttpHead.weight) in haproxy's buffer: tune.bufsize less the space it
 * keeps for rewrites (tune.maxrewrite: by default 1024; at most half the buffer)
 * and its bookkeeping (85 bytes, measured with haproxy 2.6.12 at two buffer sizes: 15275 of 16384,
 * 7083 of 8192). Heavier: a request is 400 (no 414 nor 431, whatever part overflows), a
 * response 502.
 */
export function maxHeadWeight(bufsize: number, maxrewrite?: number): number {
  return maxHeadSize(bufsize, maxrewrite) - 85;
}

/** tune.bufsize less the space haproxy keeps for rewrites: also the most of a body it buffers. */
export function maxHeadSize(bufsize: number, maxrewrite?: number): number {
  const reserve = Math.min(maxrewrite ?? 1024, bufsize >> 1);
  return bufsize - reserve;
}

const SLASH = 47;

/** Bytes of a request-target, as haproxy 2.6 takes them: visible ASCII and DEL, but no '#'. */
const URI = new Uint8Array(256);
for (let c = 0x21; c <= 0x7f; c++) URI[c] = 1;
URI[35] = 0;
/** Bytes of a target a rule wrote, which haproxy sends as they are: any above the blank. So are a
 *  received target's under Leniency.InvalidHttp, '#' and 8-bit bytes included. */
const ANY_URI = new Uint8Array(256);
for (let c = 0x21; c <= 0xff; c++) ANY_URI[c] = 1;
/** Bytes of a header name under Leniency.InvalidHttp: all but the colon that ends it and LF. */
const ANY_NAME = new Uint8Array(256).fill(1);
ANY_NAME[COLON] = ANY_NAME[LF] = 0;
/** Bytes of a version (haproxy's version tokens): upper-case letters, digits, '.' and '/'. */
const VERSION = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./") VERSION[c.charCodeAt(0)] = 1;

/** The usual methods, so that they are not decoded again for each request. */
const METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

function methodString(buf: Buffer, s: number, e: number): string {
  for (const m of METHODS) if (m.length === e - s && bytesEqual(buf, s, m)) return m;
  return latin1(buf, s, e);
}

/** The reason phrase; the usual one, "OK", without a string made of the bytes. */
function reasonString(buf: Buffer, s: number, e: number): string {
  if (e - s === 2 && buf[s] === 0x4f && buf[s + 1] === 0x4b) return "OK";
  return latin1(buf, s, e);
}
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 48 && c <= 57;

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
    version: HTTP_1_1,
    startLineAsIs: false,
    hdr: new Int32Array(64),
    count: 0,
    body: BodyKind.None,
    contentLength: -1,
    strayLengths: false,
    connClose: false,
    connKeepAlive: false,
    connUpgrade: false,
    upgradeWebSocket: false,
    repeatedLength: false,
    repeatedHost: false,
    repeats: undefined,
    bareLf: false,
    looseValue: false,
    expectContinue: false,
    hostValue: undefined,
    weight: 0,
    htxSize: 0,
  };
}

/**
 * What the header lines say, gathered while they are read. One module-level instance: the parser is
 * synchronous, so it is never shared between two parses at once.
 */
const st = {
  count: 0,
  hdr: new Int32Array(64) as Int32Array,
  contentLength: -1,
  /** A Transfer-Encoding line was seen; codings counted; chunked last; chunked seen; other coding seen. */
  te: false,
  codings: 0,
  chunkedLast: false,
  chunked: false,
  otherCoding: false,
  /** A coding was misused (chunked twice, chunked not last, chunked with parameters). */
  teBad: false,
  connClose: false,
  connKeepAlive: false,
  connUpgrade: false,
  upgradeWebSocket: false,
  /** A Sec-WebSocket-Key of 24 characters was seen. */
  wsKey: false,
  /** Content-Length said more than once (lines or a list); Host more than once; a bare LF line end. */
  repeatedLength: false,
  /** A rewritten head's Content-Length line that is invalid or contradicts the first valid one. */
  strayLengths: false,
  repeatedHost: false,
  /** The lines repeating an earlier Host or Content-Length line. */
  repeats: undefined as number[] | undefined,
  bareLf: false,
  /** A header line is not "name: value" (one space after the colon, no blank after the value). */
  looseValue: false,
  expectContinue: false,
  /** An Expect line was seen (only the first one counts). */
  expectSeen: false,
  hostStart: -1,
  hostEnd: -1,
  /** The head came from a peer; a rule's (re-read after it) keeps every Host and Content-Length line. */
  received: true,
  /** The header lines' part of the head's weight (HttpHead.weight). */
  weight: 0,
  /**
   * Bytes of header names and values that haproxy's parser does not keep: repeated lines, a
   * Content-Length list past its last value, the close and keep-alive words of a Connection line
   * (and the line when nothing is left of it), a default port in Host.
   */
  dropped: 0,
  /** How many of the header lines haproxy's parser does not keep at all. */
  droppedLines: 0,
  /** The Content-Length lines' names and values: a response's are dropped beside chunked framing. */
  lengthBytes: 0,
  /** Just past the blank line. */
  end: 0,
};

/**
 * Skips the empty lines allowed before a start line; returns the first byte's offset, or -1 when a
 * lone CR is the last byte (more is needed to know).
 */
function skipEmptyLines(buf: Buffer, pos: number, end: number): number {
  while (pos < end) {
    const c = buf[pos];
    if (c === LF) pos++;
    else if (c === CR) {
      if (pos + 1 >= end) return -1;
      if (buf[pos + 1] !== LF) return pos;
      pos += 2;
    } else break;
  }
  return pos;
}

/** Blanks between start-line parts, at p < end: at least one. The offset after them, or -1 if none. */
function blanks(buf: Buffer, p: number, end: number): number {
  if (!isBlank(buf[p])) return -1;
  p++;
  while (p < end && isBlank(buf[p])) p++;
  return p;
}

/**
 * Reads a version at p, as strictly as RFC 9112 and haproxy 2.6 (see VERSION): "HTTP/" DIGIT "."
 * DIGIT for a request; for a response, four version bytes (the first not a slash) before the "/".
 * `lax` (Leniency.InvalidHttp) takes any run of version bytes, for a request an empty one too. Returns the
 * version's end, -1 when invalid, or -2 when buf ends before that can be told.
 */
function readVersion(buf: Buffer, p: number, end: number, request: boolean, lax: boolean): number {
  if (lax) {
    let q = p;
    while (q < end && VERSION[buf[q]!]) q++;
    if (q >= end) return -2;
    // A response's version starts its head, whose first byte is a token's.
    return !request && (q === p || buf[p] === SLASH) ? -1 : q;
  }
  for (let i = 0; i < 8; i++) {
    if (p + i >= end) return -2;
    const c = buf[p + i]!;
    const valid =
      i < 4 ? protocolByte(c, i, request) : i === 4 ? c === SLASH : i === 6 ? c === 46 : isDigit(c);
    if (!valid) return -1;
  }
  return p + 8;
}

/** Byte i of a version's protocol name: a request's says HTTP; a response's are version bytes, a slash not first. */
const protocolByte = (c: number, i: number, request: boolean): boolean =>
  request ? c === "HTTP".charCodeAt(i) : VERSION[c] === 1 && (i > 0 || c !== SLASH);

/**
 * 1 when the version in buf[s..e) counts as HTTP/1.1 (1.1 and above, "HTTP/2.0" too), 0 for 1.0
 * (below, or not 8 bytes long). haproxy compares the bytes where the digits stand, whatever they are.
 */
function minorOf(buf: Buffer, s: number, e: number): number {
  if (e - s !== 8) return 0;
  const major = buf[s + 5]!;
  return major > 49 || (major === 49 && buf[s + 7]! >= 49) ? 1 : 0;
}

/** The version's text: one of two constants for HTTP/1.0 and HTTP/1.1, so that most heads make none. */
function versionText(buf: Buffer, s: number, e: number): string {
  if (e - s === 8 && bytesEqual(buf, s, "HTTP/1.")) {
    if (buf[s + 7] === 49) return HTTP_1_1;
    if (buf[s + 7] === 48) return HTTP_1_0;
  }
  return latin1(buf, s, e);
}
export const HTTP_1_0 = "HTTP/1.0";
export const HTTP_1_1 = "HTTP/1.1";

/** Line end at p: returns the offset after CRLF/LF, -1 if something else, -2 if buf ends first. */
function eol(buf: Buffer, p: number, end: number): number {
  if (p >= end) return -2;
  const c = buf[p];
  if (c === LF) return p + 1;
  if (c !== CR) return -1;
  if (p + 1 >= end) return -2;
  return buf[p + 1] === LF ? p + 2 : -1;
}

/**
 * Parses a request head from buf[start..end): the head, NEED_MORE, or the status to answer (400, or
 * 413, or 422 for a transfer coding haproxy does not implement). `maxhdr` is tune.http.maxhdr: at
 * most maxhdr - 1 header lines. `into` is filled and returned instead of a new object; its `hdr`
 * array is reused and grown only when too small. Its header offsets are overwritten even when the
 * result is NEED_MORE or an error, so do not pass a head that is still in use.
 */
export function parseRequest(
  buf: Buffer,
  start: number,
  end: number,
  maxhdr: number,
  into?: HttpHead,
  received = true,
  leniency: Leniency = Leniency.None,
): HttpHead | number {
  const pos = skipEmptyLines(buf, start, end);
  if (pos < 0) return NEED_MORE;
  const lax = (leniency & Leniency.InvalidHttp) !== 0;
  // method SP+ request-target SP+ HTTP-version CRLF
  let p = pos;
  while (p < end && TCHAR[buf[p]!]) p++;
  if (p >= end) return NEED_MORE;
  const mEnd = p;
  if (mEnd === pos) return 400;
  p = blanks(buf, p, end);
  if (p < 0) return 400;
  if (p >= end) return NEED_MORE;
  const uStart = p;
  const uriBytes = received && !lax ? URI : ANY_URI;
  while (p < end && uriBytes[buf[p]!]) p++;
  if (p >= end) return NEED_MORE;
  const uEnd = p;
  if (uEnd === uStart) return 400;
  // HTTP/0.9 has no version: the line ends after the target (or its blanks).
  if (lax && (buf[p] === CR || buf[p] === LF))
    return requestWithoutVersion(buf, end, pos, mEnd, uStart, uEnd, into);
  p = blanks(buf, p, end);
  if (p < 0) return 400;
  if (p >= end) return NEED_MORE;
  const vStart = p;
  const vEnd = readVersion(buf, p, end, true, lax);
  if (vEnd === -2) return NEED_MORE;
  if (vEnd < 0) return 400;
  if (vEnd === vStart) return requestWithoutVersion(buf, end, pos, mEnd, uStart, uEnd, into);
  const next = eol(buf, vEnd, end);
  if (next === -2) return NEED_MORE;
  if (next < 0) return 400;
  const minor = minorOf(buf, vStart, vEnd);

  st.received = received;
  const r = readHeaders(buf, next, end, maxhdr, into?.hdr, true, lax ? ANY_NAME : TCHAR);
  if (r !== 0) return r;
  if (buf[next - 2] !== CR) st.bareLf = true;

  // Framing.
  let body: BodyKind;
  let contentLength = -1;
  if (st.te) {
    if (st.teBad || st.codings === 0) return 400;
    if (!st.chunkedLast) return 400;
    if (st.otherCoding) return 422;
    // A rule may write a length beside the coding: both leave, and the connection closes after.
    if (st.contentLength >= 0) {
      if (received) return 400;
      contentLength = st.contentLength;
    }
    body = BodyKind.Chunked;
  } else if (st.contentLength >= 0) {
    body = BodyKind.Length;
    contentLength = st.contentLength;
  } else body = BodyKind.None;
  // What haproxy's HTTP/1 layer refuses on reception; a head that rules rewrote is not checked again.
  const hasBody = body === BodyKind.Chunked || contentLength > 0;
  if (
    received &&
    hasBody &&
    minor === 0 &&
    (leniency & Leniency.PayloadAnyMethod) === 0 &&
    bodylessIn10(buf, pos, mEnd)
  )
    return 413;
  if (received && st.connUpgrade && st.upgradeWebSocket && !hasBody && !st.wsKey) return 400;

  // The request-target's form, and its authority against Host.
  const isConnect = mEnd - pos === 7 && bytesEqual(buf, pos, "CONNECT");
  // HTTP/2's connection preface is no HTTP/1 request: haproxy 2.6 refuses the PRI method.
  if (received && mEnd - pos === 3 && bytesEqual(buf, pos, "PRI")) return 400;
  // A rule's target is not checked against its method or Host: haproxy keeps Host and the target's
  // authority in step instead (proxy/rules.ts).
  if (!received) normalizedUri = normalizedHost = undefined;
  else if (!targetValid(buf, uStart, uEnd, isConnect)) return 400;

  const h = into ?? newHead(buf);
  h.buf = buf;
  h.start = pos;
  h.end = st.end;
  h.method = methodString(buf, pos, mEnd);
  h.uri = normalizedUri ?? latin1(buf, uStart, uEnd);
  h.hostValue = st.hostStart < 0 ? undefined : normalizedHost;
  if (h.hostValue !== undefined) st.dropped += st.hostEnd - st.hostStart - h.hostValue.length;
  h.status = 0;
  h.reason = "";
  h.versionMinor = minor;
  h.version = versionText(buf, vStart, vEnd);
  h.startLineAsIs =
    (h.version === HTTP_1_1 || h.version === HTTP_1_0) &&
    normalizedUri === undefined &&
    uStart === mEnd + 1 &&
    buf[mEnd] === SP &&
    vStart === uEnd + 1 &&
    buf[uEnd] === SP;
  // The version weighs 8 (HTTP/x.y), whatever was written.
  fill(h, body, contentLength, mEnd - pos + h.uri.length + 8);
  return h;
}

/**
 * An HTTP/0.9 request (Leniency.InvalidHttp), a GET: its head is its request line, without header lines,
 * and it leaves as HTTP/1.0, as haproxy sends it. The target's form is not checked, as haproxy does
 * not either.
 */
function requestWithoutVersion(
  buf: Buffer,
  end: number,
  pos: number,
  mEnd: number,
  uStart: number,
  uEnd: number,
  into: HttpHead | undefined,
): HttpHead | number {
  let p = uEnd;
  while (p < end && isBlank(buf[p])) p++;
  const next = eol(buf, p, end);
  if (next === -2) return NEED_MORE;
  // HTTP/0.9 knew GET alone, and haproxy takes no other method without a version.
  if (next < 0 || mEnd - pos !== 3 || !bytesEqual(buf, pos, "GET")) return 400;
  resetState();
  st.hdr = into?.hdr ?? new Int32Array(64);
  st.count = st.weight = 0;
  st.end = next;
  const h = into ?? newHead(buf);
  h.buf = buf;
  h.start = pos;
  h.end = next;
  h.method = methodString(buf, pos, mEnd);
  h.uri = latin1(buf, uStart, uEnd);
  h.hostValue = undefined;
  h.status = 0;
  h.reason = "";
  h.versionMinor = 0;
  h.version = HTTP_1_0;
  h.startLineAsIs = false;
  fill(h, BodyKind.None, -1, mEnd - pos + h.uri.length + 8);
  return h;
}

/** Parses a response head, like parseRequest; every invalid head is 502. */
export function parseResponse(
  buf: Buffer,
  start: number,
  end: number,
  maxhdr: number,
  into?: HttpHead,
  received = true,
  leniency: Leniency = Leniency.None,
): HttpHead | number {
  const pos = skipEmptyLines(buf, start, end);
  if (pos < 0) return NEED_MORE;
  const lax = (leniency & Leniency.InvalidHttp) !== 0;
  // HTTP-version SP+ 3DIGIT [SP+ reason] CRLF
  const vEnd = readVersion(buf, pos, end, false, lax);
  if (vEnd === -2) return NEED_MORE;
  if (vEnd < 0) return 502;
  if (vEnd >= end) return NEED_MORE;
  let p = blanks(buf, vEnd, end);
  if (p < 0) return 502;
  const sStart = p;
  let status = 0;
  for (let i = 0; i < 3; i++, p++) {
    if (p >= end) return NEED_MORE;
    const c = buf[p]!;
    if (!isDigit(c)) return 502;
    status = status * 10 + c - 48;
  }
  if (status < 100) return 502;
  let rStart = p;
  let rEnd = p;
  if (p < end && isBlank(buf[p])) {
    while (p < end && isBlank(buf[p])) p++;
    rStart = p;
    // The reason keeps its trailing blanks, as haproxy 2.6 forwards it.
    while (p < end && VALUE[buf[p]!]) p++;
    rEnd = p;
  }
  const next = eol(buf, p, end);
  if (next === -2) return NEED_MORE;
  if (next < 0) return 502;

  st.received = received;
  const r = readHeaders(buf, next, end, maxhdr, into?.hdr, false, lax ? ANY_NAME : TCHAR);
  if (r === NEED_MORE) return NEED_MORE;
  if (r !== 0) return 502;
  if (buf[next - 2] !== CR) st.bareLf = true;

  let body: BodyKind;
  let contentLength = -1;
  if (st.te) {
    // haproxy 2.6 refuses a response coded with anything but chunked.
    if (st.teBad || st.codings === 0 || !st.chunkedLast || st.otherCoding) return 502;
    if (!received) contentLength = st.contentLength;
    else if (st.lengthBytes > 0) {
      st.dropped += st.lengthBytes;
      st.droppedLines++;
    }
    body = BodyKind.Chunked;
  } else if (st.contentLength >= 0) {
    body = BodyKind.Length;
    contentLength = st.contentLength;
  } else body = BodyKind.UntilClose;

  const h = into ?? newHead(buf);
  h.buf = buf;
  h.start = pos;
  h.end = st.end;
  h.method = "";
  h.uri = "";
  h.status = status;
  h.reason = reasonString(buf, rStart, rEnd);
  h.versionMinor = minorOf(buf, pos, vEnd);
  h.version = versionText(buf, pos, vEnd);
  // "HTTP/1.x 200 " and the reason, if any, after one space each. haproxy sends the space after the
  // status even when there is no reason ("HTTP/1.1 200" leaves as "HTTP/1.1 200 ").
  h.startLineAsIs =
    (h.version === HTTP_1_1 || h.version === HTTP_1_0) &&
    sStart === vEnd + 1 &&
    buf[vEnd] === SP &&
    buf[sStart + 3] === SP &&
    rStart === sStart + 4;
  fill(h, body, contentLength, 8 + 3 + rEnd - rStart);
  return h;
}

/** Copies what readHeaders gathered into the head; `startLine` is the start line's weight. */
function fill(h: HttpHead, body: BodyKind, contentLength: number, startLine: number): void {
  h.hdr = st.hdr;
  h.count = st.count;
  h.body = body;
  h.contentLength = contentLength;
  h.strayLengths = st.strayLengths;
  h.connClose = st.connClose;
  h.connKeepAlive = st.connKeepAlive;
  h.connUpgrade = st.connUpgrade;
  h.upgradeWebSocket = st.upgradeWebSocket;
  h.repeatedLength = st.repeatedLength;
  h.repeatedHost = st.repeatedHost;
  h.repeats = st.repeats;
  h.bareLf = st.bareLf;
  h.looseValue = st.looseValue;
  h.expectContinue = st.expectContinue;
  h.weight = startLine + st.weight - st.dropped - 8 * st.droppedLines;
  h.htxSize = HTX_HEAD + startLine + st.weight - 8 * st.count - st.dropped;
}

/** Forgets what the last head's header lines said. */
function resetState(): void {
  st.contentLength = -1;
  st.te = st.chunkedLast = st.chunked = st.otherCoding = st.teBad = false;
  st.codings = 0;
  st.connClose =
    st.connKeepAlive =
    st.connUpgrade =
    st.upgradeWebSocket =
    st.wsKey =
    st.expectContinue =
    st.expectSeen =
    st.repeatedLength =
    st.strayLengths =
    st.repeatedHost =
    st.bareLf =
    st.looseValue =
      false;
  st.hostStart = st.hostEnd = -1;
  st.repeats = undefined;
  st.dropped = st.droppedLines = st.lengthBytes = 0;
}

/**
 * Reads header lines from `pos` up to the blank line into `st`. Returns 0 when complete, NEED_MORE,
 * or 400. `hdr` is the array to fill (the reused head's), grown when too small.
 */
function readHeaders(
  buf: Buffer,
  pos: number,
  end: number,
  maxhdr: number,
  hdr: Int32Array | undefined,
  request: boolean,
  names: Uint8Array,
): number {
  let arr = hdr ?? new Int32Array(64);
  let count = 0;
  let weight = 0;
  resetState();
  let p = pos;
  for (;;) {
    if (p >= end) return NEED_MORE;
    let c = buf[p]!;
    // The blank line.
    if (c === LF || c === CR) {
      const n = eol(buf, p, end);
      if (n === -2) return NEED_MORE;
      if (n < 0) return 400;
      if (n === p + 1) st.bareLf = true;
      st.end = n;
      break;
    }
    // obs-fold (stricter than haproxy, which unfolds) and a blank before the first header line.
    if (c === SP || c === HTAB) return 400;
    const nStart = p;
    while (names[c]) {
      if (++p >= end) return NEED_MORE;
      c = buf[p]!;
    }
    if (c !== COLON || p === nStart || p - nStart > MAX_NAME_LENGTH) return 400;
    const nEnd = p++;
    while (p < end && isBlank(buf[p])) p++;
    const vStart = p;
    // One pass checks the value and finds the line's end: the first byte no value may hold.
    while (p < end && VALUE[buf[p]!]) p++;
    if (p >= end) return NEED_MORE;
    let nl = p;
    if (buf[p] === CR) {
      if (p + 1 >= end) return NEED_MORE;
      if (buf[p + 1] !== LF) return 400;
      nl = p + 1;
    } else if (buf[p] === LF) st.bareLf = true;
    else return 400;
    let vEnd = p;
    while (vEnd > vStart && isBlank(buf[vEnd - 1])) vEnd--;
    if (vEnd !== p || vStart !== nEnd + 2 || buf[nEnd + 1] !== SP) st.looseValue = true;
    p = nl + 1;

    if (count + 1 >= maxhdr) return 400;
    const o = count << 2;
    if (o + 4 > arr.length) {
      const grown = new Int32Array(arr.length * 2);
      grown.set(arr);
      arr = grown;
    }
    arr[o] = nStart;
    arr[o + 1] = nEnd;
    arr[o + 2] = vStart;
    arr[o + 3] = vEnd;
    count++;
    weight += nEnd - nStart + vEnd - vStart + 8;

    const r = special(buf, nStart, nEnd, vStart, vEnd, request, count - 1);
    if (r !== 0) return r;
  }
  st.hdr = arr;
  st.count = count;
  st.weight = weight;
  return 0;
}

/** The headers the parser interprets. Returns 0, or 400. */
function special(
  buf: Buffer,
  n: number,
  ne: number,
  v: number,
  ve: number,
  request: boolean,
  line: number,
): number {
  switch (ne - n) {
    case 4:
      if (request && nameIs(buf, n, "host")) {
        if (st.hostStart < 0) {
          st.hostStart = v;
          st.hostEnd = ve;
        } else if (!st.received) {
          // A rule's Host lines all leave, as haproxy sends them.
        } else if (!sameCaseless(buf, st.hostStart, st.hostEnd, v, ve)) return 400;
        else {
          st.repeatedHost = true;
          (st.repeats ??= []).push(line);
          st.dropped += ne - n + ve - v;
          st.droppedLines++;
        }
      }
      return 0;
    case 6:
      // haproxy 2.6 reads the first value of the first Expect line.
      if (nameIs(buf, n, "expect") && !st.expectSeen) {
        st.expectSeen = true;
        let e = v;
        while (e < ve && buf[e] !== COMMA) e++;
        while (e > v && isBlank(buf[e - 1])) e--;
        st.expectContinue = e - v === 12 && nameIs(buf, v, "100-continue");
      }
      return 0;
    case 7:
      if (nameIs(buf, n, "upgrade")) st.upgradeWebSocket = namesWebSocket(buf, v, ve);
      return 0;
    case 10:
      if (nameIs(buf, n, "connection")) {
        const kept = connectionTokens(buf, v, ve);
        if (kept > 0) st.dropped += ve - v - kept;
        else {
          st.dropped += ne - n + ve - v;
          st.droppedLines++;
        }
      }
      return 0;
    case 14:
      if (nameIs(buf, n, "content-length")) {
        const len = contentLengthValue(buf, v, ve, true);
        if (len < 0 || (st.contentLength >= 0 && len !== st.contentLength)) {
          // haproxy leaves such a line of a head it sends out (see reframe.ts).
          if (st.received) return 400;
          st.strayLengths = true;
          return 0;
        }
        // A list leaves as its one value (noted as it is read; the head's later length lines go); a
        // received head's repeated line is dropped.
        if (st.contentLength >= 0 && st.received) {
          st.repeatedLength = true;
          (st.repeats ??= []).push(line);
          st.dropped += ne - n + ve - v;
          st.droppedLines++;
        } else {
          // haproxy keeps a list's last value, as written.
          let d = ve;
          while (d > v && isDigit(buf[d - 1])) d--;
          st.dropped += d - v;
          st.lengthBytes += ne - n + ve - d;
        }
        st.contentLength = len;
      }
      return 0;
    case 17:
      if (nameIs(buf, n, "transfer-encoding")) {
        st.te = true;
        transferCodings(buf, v, ve);
      } else if (ve - v === 24 && nameIs(buf, n, "sec-websocket-key")) st.wsKey = true;
      return 0;
  }
  return 0;
}

/** GET, HEAD and DELETE: methods whose HTTP/1.0 requests may carry no body. */
function bodylessIn10(buf: Buffer, s: number, e: number): boolean {
  switch (e - s) {
    case 3:
      return bytesEqual(buf, s, "GET");
    case 4:
      return bytesEqual(buf, s, "HEAD");
    case 6:
      return bytesEqual(buf, s, "DELETE");
    default:
      return false;
  }
}

/** Exact comparison of buf[pos..] with an ASCII string. */
function bytesEqual(buf: Buffer, pos: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (buf[pos + i] !== s.charCodeAt(i)) return false;
  return true;
}

function sameCaseless(buf: Buffer, a: number, ae: number, b: number, be: number): boolean {
  if (ae - a !== be - b) return false;
  for (let i = 0; i < ae - a; i++) if (LOWER[buf[a + i]!] !== LOWER[buf[b + i]!]) return false;
  return true;
}

/**
 * Content-Length: digits, or a comma list of identical values ("5, 5"). -1 when invalid. `noteList`:
 * the parser's own reading, which notes a list as a repeated length.
 */
export function contentLengthValue(buf: Buffer, s: number, e: number, noteList = false): number {
  let value = -1;
  let p = s;
  for (;;) {
    const d0 = p;
    let n = 0;
    while (p < e && isDigit(buf[p])) {
      n = n * 10 + (buf[p]! - 48);
      p++;
    }
    if (p === d0 || n > Number.MAX_SAFE_INTEGER || (value >= 0 && n !== value)) return -1;
    value = n;
    while (p < e && isBlank(buf[p])) p++;
    if (p === e) return value;
    if (buf[p] !== COMMA) return -1;
    if (noteList) st.repeatedLength = true;
    p++;
    while (p < e && isBlank(buf[p])) p++;
  }
}

/** Whether header `i` of `head` is a Content-Length line that does not say `length` (or is invalid). */
export function strayLength(head: HttpHead, i: number, length: number): boolean {
  if (!headerNameIs(head, i, "content-length")) return false;
  const o = i << 2;
  const v = contentLengthValue(head.buf, head.hdr[o + 2]!, head.hdr[o + 3]!);
  return v < 0 || v !== length;
}

/** Transfer-Encoding codings of one line, added to what earlier lines said. */
function transferCodings(buf: Buffer, s: number, e: number): void {
  let p = s;
  // p sits on the comma that ends the last coding: the next one starts after it.
  let afterCoding = false;
  while (p < e) {
    const c = buf[p];
    if (isBlank(c)) {
      p++;
      continue;
    }
    if (c === COMMA) {
      // As haproxy 2.6 reads a list, a comma where a coding should start is an empty one: a coding
      // it does not implement (",chunked" is refused with 422, "chunked,," with 400).
      if (!afterCoding) {
        if (st.chunkedLast) st.teBad = true;
        st.codings++;
        st.otherCoding = true;
        st.chunkedLast = false;
      }
      afterCoding = false;
      p++;
      continue;
    }
    afterCoding = true;
    const t = p;
    while (p < e && TCHAR[buf[p]!]) p++;
    const te = p;
    while (p < e && isBlank(buf[p])) p++;
    const params = p < e && buf[p] === SEMI;
    // Anything up to the next comma is the coding's parameters (or garbage, an unknown coding).
    while (p < e && buf[p] !== COMMA) p++;
    const isChunked = te - t === 7 && nameIs(buf, t, "chunked");
    if (st.chunkedLast) st.teBad = true; // something after chunked
    st.codings++;
    if (isChunked) {
      if (st.chunked || params) st.teBad = true;
      st.chunked = st.chunkedLast = true;
    } else {
      st.otherCoding = true;
      st.chunkedLast = false;
      if (te === t) st.teBad = true;
    }
  }
}

/**
 * Whether one Upgrade line lists "websocket" among its comma-separated protocols. As in haproxy 2.6,
 * the last Upgrade line of a message decides.
 */
function namesWebSocket(buf: Buffer, s: number, e: number): boolean {
  for (let p = s; p < e;) {
    while (p < e && isBlank(buf[p])) p++;
    let n = p;
    while (n < e && buf[n] !== COMMA) n++;
    let we = n;
    while (we > p && isBlank(buf[we - 1])) we--;
    if (we - p === 9 && nameIs(buf, p, "websocket")) return true;
    p = n + 1;
  }
  return false;
}

/**
 * The Connection header's words, comma-separated and trimmed as haproxy 2.6 reads them. Returns the
 * length of the value its parser keeps (0: the line goes): the close and keep-alive words go; the
 * bytes before the first of them stay as they are, up to the comma after the last word kept, and the
 * words after it follow, trimmed, each after a bare comma (measured).
 */
function connectionTokens(buf: Buffer, s: number, e: number): number {
  let kept = 0;
  let cut = false;
  for (let p = s; p < e;) {
    while (p < e && isBlank(buf[p])) p++;
    if (p === e) break;
    let n = p;
    while (n < e && buf[n] !== COMMA) n++;
    const word = connectionWord(buf, p, n);
    switch (word) {
      case ConnectionWord.Close:
        st.connClose = true;
        break;
      case ConnectionWord.KeepAlive:
        st.connKeepAlive = true;
        break;
      case ConnectionWord.Upgrade:
        st.connUpgrade = true;
    }
    if (word === ConnectionWord.Close || word === ConnectionWord.KeepAlive) cut = true;
    else if (!cut) kept = n - s;
    else {
      let we = n;
      while (we > p && isBlank(buf[we - 1])) we--;
      kept += (kept === 0 ? 0 : 1) + we - p;
    }
    p = n + 1;
  }
  return kept;
}

/**
 * The target and Host as haproxy 2.6 sends them when the target names its scheme's default port (or
 * an empty one): set by targetValid(), undefined when nothing changes.
 */
let normalizedUri: string | undefined;
let normalizedHost: string | undefined;

/**
 * The request-target's form (RFC 9112 3.2) and, for absolute-form and CONNECT, its authority
 * against Host (haproxy 2.6 answers 400 when they differ). Sets normalizedUri and normalizedHost.
 */
function targetValid(buf: Buffer, s: number, e: number, isConnect: boolean): boolean {
  normalizedUri = normalizedHost = undefined;
  const c = buf[s];
  if (isConnect) {
    // authority-form: host ":" port.
    let colon = -1;
    for (let i = s; i < e; i++) {
      const b = buf[i];
      if (b === SLASH || b === 63 || b === 64) return false;
      if (b === COLON) colon = i;
    }
    if (colon <= s || colon === e - 1) return false;
    for (let i = colon + 1; i < e; i++) if (!isDigit(buf[i])) return false;
    if (st.hostStart < 0) return true;
    // haproxy drops either default port before comparing ("x:80" and "x:443" both match "x"), and
    // from the Host it sends.
    const hEnd = withoutPort(buf, st.hostStart, withoutPort(buf, st.hostStart, st.hostEnd, ":443"), ":80");
    if (hEnd < st.hostEnd) normalizedHost = latin1(buf, st.hostStart, hEnd);
    return sameCaseless(
      buf,
      s,
      withoutPort(buf, s, withoutPort(buf, s, e, ":443"), ":80"),
      st.hostStart,
      hEnd,
    );
  }
  if (c === SLASH) return true;
  if (c === 42) return e - s === 1;
  // absolute-form: scheme "://" authority [path-abempty] [? query]
  let p = s;
  if (!isAlpha(c)) return false;
  while (p < e && (isAlpha(buf[p]) || isDigit(buf[p]) || buf[p] === 43 || buf[p] === 45 || buf[p] === 46))
    p++;
  if (p + 3 > e || buf[p] !== COLON || buf[p + 1] !== SLASH || buf[p + 2] !== SLASH) return false;
  const schemeEnd = p;
  let aStart = p + 3;
  const pathStart = authorityEnd(buf, aStart, e);
  for (let i = pathStart - 1; i >= aStart; i--)
    if (buf[i] === 64) {
      aStart = i + 1;
      break;
    }
  const http = schemeEnd - s === 4 && nameIs(buf, s, "http");
  const https = schemeEnd - s === 5 && nameIs(buf, s, "https");
  const port = http ? ":80" : https ? ":443" : "";
  const aEnd = withoutDefaultPort(buf, aStart, pathStart, port);
  if (aEnd < pathStart) {
    normalizedUri = latin1(buf, s, aEnd) + latin1(buf, pathStart, e);
    normalizedHost = latin1(buf, aStart, aEnd);
  }
  // An empty authority ("http:///x") is compared with nothing, as haproxy 2.6 does.
  if (st.hostStart < 0 || aStart === pathStart) return true;
  const hEnd = withoutDefaultPort(buf, st.hostStart, st.hostEnd, port);
  return sameCaseless(buf, aStart, aEnd, st.hostStart, hEnd);
}

/** The end of buf[s..e) without its port when that is the scheme's default one (`port`) or empty. */
function withoutDefaultPort(buf: Buffer, s: number, e: number, port: string): number {
  const end = withoutPort(buf, s, e, port);
  if (end < e || e === s || buf[e - 1] !== COLON) return end;
  return portless(buf, s, e - 1) ? e - 1 : e;
}

/** Where an absolute-form target's authority ends: at its path, or at the end. */
function authorityEnd(buf: Buffer, s: number, e: number): number {
  let p = s;
  while (p < e && buf[p] !== SLASH) p++;
  return p;
}

/**
 * buf[s..e) has no port of its own: it ends in "]" (an IPv6 literal) or has no colon ("x" in "x:",
 * not "x:1" in "x:1:").
 */
function portless(buf: Buffer, s: number, e: number): boolean {
  if (buf[e - 1] === 93) return true;
  for (let i = s; i < e; i++) if (buf[i] === COLON) return false;
  return true;
}

const isAlpha = (c: number | undefined): boolean =>
  c !== undefined && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122));

/** The end of buf[s..e) without a trailing default port (":80"), when it has one. */
function withoutPort(buf: Buffer, s: number, e: number, port: string): number {
  if (port === "" || e - s <= port.length) return e;
  return bytesEqual(buf, e - port.length, port) ? e - port.length : e;
}

/** The version a head leaves with: HTTP/1.1 for any that counts as 1.1, any other as it came. */
export const outgoingVersion = (head: HttpHead): string =>
  head.versionMinor === 1 ? HTTP_1_1 : head.version;

/**
 * The start line haproxy would send for this head, when the received one is not already in that
 * form: extra or tab separators, or a version other than HTTP/1.0 and HTTP/1.1.
 * undefined when the received line can be forwarded as it is.
 */
export function normalizedStartLine(head: HttpHead): string | undefined {
  if (head.startLineAsIs) return undefined;
  const version = outgoingVersion(head);
  if (head.status === 0) return `${head.method} ${head.uri} ${version}`;
  return `${version} ${head.status} ${head.reason}`;
}

/**
 * How the response's body is delimited, given the method of the request it answers; `s`: the status
 * the server sent, when a rule has set another.
 */
export function responseBodyKind(res: HttpHead, requestMethod: string, s = res.status): BodyKind {
  if (s < 200 || s === 204 || s === 304 || requestMethod === "HEAD") return BodyKind.None;
  if (s < 300 && requestMethod === "CONNECT") return BodyKind.None;
  return res.body;
}

/** Index of the first header named `lowerName` (lower-case ASCII) at or after `from`, or -1. */
export function headerIndex(head: HttpHead, lowerName: string, from = 0): number {
  for (let i = from; i < head.count; i++) if (headerNameIs(head, i, lowerName)) return i;
  return -1;
}

/** How many headers are named `lowerName`. */
export function headerCount(head: HttpHead, lowerName: string): number {
  let n = 0;
  for (let i = headerIndex(head, lowerName); i >= 0; i = headerIndex(head, lowerName, i + 1)) n++;
  return n;
}

/** The name of header `i` as sent (latin1). */
export const headerName = (head: HttpHead, i: number): string =>
  latin1(head.buf, head.hdr[i << 2]!, head.hdr[(i << 2) + 1]!);

/** The value of header `i` without surrounding blanks (latin1). */
export const headerValue = (head: HttpHead, i: number): string =>
  latin1(head.buf, head.hdr[(i << 2) + 2]!, head.hdr[(i << 2) + 3]!);

/** Case-insensitive comparison of header `i`'s value with a lower-case ASCII string, without a string. */
export function headerValueIs(head: HttpHead, i: number, lower: string): boolean {
  const s = head.hdr[(i << 2) + 2]!;
  return head.hdr[(i << 2) + 3]! - s === lower.length && nameIs(head.buf, s, lower);
}
