// The parsed view of an HTTP/1.x head. The head's bytes stay in `buf`; the parser records offsets
// so that forwarding copies byte ranges instead of re-serialising strings.
import { nameIs } from "./chars.js";

/**
 * The longest header or trailer name haproxy 2.6 takes: its messages keep a name's length in a byte.
 * A longer one is malformed (a request's 400, a response's 502).
 */
export const MAX_NAME_LENGTH = 255;

/**
 * What haproxy 2.6 counts of a message (its logs' %B and %U, the stick-table byte counters) is the
 * size of its internal (HTX) form, not its bytes on the wire (measured): a head counts its start
 * line's three parts, each header's name and value as its parser keeps them (HttpHead.htxSize), and
 * HTX_HEAD more (the start line's bookkeeping and the end of the head); a body, its payload; a
 * chunked body also its trailers' names and values and HTX_TRAILERS_END. Headers that the proxy
 * adds or removes once a message is in do not change what it counted.
 */
export const HTX_HEAD = 21;
export const HTX_TRAILERS_END = 1;

/** How the body that follows a head is delimited. */
export const enum BodyKind {
  None = 0,
  Length = 1,
  Chunked = 2,
  /** Response read until the server closes. */
  UntilClose = 3,
}

export interface HttpHead {
  /** Holds the head's bytes from `start` to `end`. */
  buf: Buffer;
  start: number;
  /** Just past the blank line that ends the head. */
  end: number;
  /** Request: method and request-target as sent; response: "" and "". */
  method: string;
  uri: string;
  /** Response: status code and reason; request: 0 and "". */
  status: number;
  reason: string;
  /** 1 for a version that counts as HTTP/1.1 (1.1 and above), 0 for HTTP/1.0 (and below, and other). */
  versionMinor: number;
  /** The version as received ("HTTP/1.1", "HTTP/2.0", "RTSP/1.0"...); an HTTP/0.9 request's is "HTTP/1.0". */
  version: string;
  /** The start line is already as haproxy sends it (single spaces, HTTP/1.0 or HTTP/1.1). */
  startLineAsIs: boolean;
  /** Header lines as offsets into buf, four per line: name start, name end, value start, value end
   *  (value without leading/trailing blanks). Names keep the sender's case. */
  hdr: Int32Array;
  count: number;
  body: BodyKind;
  /**
   * Content-Length when body is Length, otherwise -1; in a head that rules rewrote, the first valid
   * one, also beside a chunked Transfer-Encoding.
   */
  contentLength: number;
  /** A rewritten head has a Content-Length line that is invalid or contradicts the first valid one. */
  strayLengths: boolean;
  /** Tokens of the Connection header, lower-cased flags. */
  connClose: boolean;
  connKeepAlive: boolean;
  connUpgrade: boolean;
  /** The (last) Upgrade header lists websocket. */
  upgradeWebSocket: boolean;
  /** Content-Length was said more than once, in several lines or a list (all the same value). */
  repeatedLength: boolean;
  /** Host was said more than once (all the same value). */
  repeatedHost: boolean;
  /**
   * The lines that repeat an earlier Host or Content-Length line: haproxy's parser drops them, so no
   * rule or fetch sees them (and they do not leave). Undefined when there are none.
   */
  repeats: number[] | undefined;
  /** A line of the head ends in a bare LF. */
  bareLf: boolean;
  /** A header line is not written "name: value" (one space after the colon, none after the value). */
  looseValue: boolean;
  /** Request carried `Expect: 100-continue`. */
  expectContinue: boolean;
  /**
   * The value every Host header takes before any rule sees the head, when the target named its
   * scheme's default port (haproxy's scheme-based normalization, RFC 3986 6.2.3); else undefined.
   */
  hostValue: string | undefined;
  /**
   * What the head weighs in haproxy's buffer: its start line's parts, and each header's name and
   * value plus 8, as haproxy's parser keeps them (without a repeated line, the close and keep-alive
   * words of a Connection line, ...). See maxHeadWeight().
   */
  weight: number;
  /**
   * What haproxy 2.6 counts of the head, see HTX_HEAD: as its parser would keep it, meaningful for a
   * head as received.
   */
  htxSize: number;
}

/** Whether header line `i` of `head` is named `lowerName` (in any case). */
export function headerNameIs(head: HttpHead, i: number, lowerName: string): boolean {
  const s = head.hdr[i << 2]!;
  return head.hdr[(i << 2) + 1]! - s === lowerName.length && nameIs(head.buf, s, lowerName);
}
