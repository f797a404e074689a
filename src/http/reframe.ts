// A body leaves framed as the head that leaves with it says. Rules may delete, change or add
// Content-Length and Transfer-Encoding; haproxy 2.6's HTTP/1 layer knows the body apart from the
// head and writes the message from both: it chunks a body whose head no longer frames it, takes
// the chunks off one whose head now gives a length, fails a body longer than that length, and
// closes the connection after a head that says both. Sluice does the same, and only then: a body
// whose framing no rule touched goes as it came.
import { BodyKind, type HttpHead } from "./message.js";
import { strayLength } from "./parse.js";
import type { ChunkedScanner } from "./chunked.js";

/** How the head that leaves frames its body. */
export interface OutFraming {
  /** The Content-Length the body is held to, or -1. */
  length: number;
  /** The body leaves chunked. */
  chunked: boolean;
  /** No line says how the body is framed: `Transfer-Encoding: chunked` is to be added. */
  addChunked: boolean;
  /** The connection closes after this message: a length beside chunked, or chunked in HTTP/1.0. */
  close: boolean;
  /** Content-Length lines left out: those of a request received without a body that say it has one. */
  drop: number[] | undefined;
}

/**
 * The framing of a head that rules rewrote, read as haproxy reads the head it sends: the first
 * valid Content-Length counts (normalizeHead leaves the others that differ out), and a request
 * received without a body is held to 0, whatever a rule says. `mayChunk`: a message that must tell
 * where its body ends (not a CONNECT, nor a response without a body or read until the server
 * closes) gets chunked when no line says how, if its version has chunks.
 */
export function outFraming(head: HttpHead, bodyless: boolean, mayChunk: boolean): OutFraming {
  const length = bodyless ? 0 : head.contentLength;
  let drop: number[] | undefined;
  if (bodyless && head.contentLength > 0)
    for (let i = 0; i < head.count; i++) if (strayLength(head, i, 0)) (drop ??= []).push(i);
  const coded = head.body === BodyKind.Chunked;
  const addChunked = mayChunk && !coded && length < 0 && head.versionMinor === 1;
  return {
    length,
    chunked: coded || addChunked,
    addChunked,
    close: coded && (length >= 0 || head.versionMinor === 0),
    drop,
  };
}

const CRLF = Buffer.from("\r\n", "latin1");
const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");
const EMPTY = Buffer.alloc(0);

/**
 * Re-frames a body, piece by piece, from the framing it came with to `out`'s. Made only where they
 * differ: see reframer().
 */
export class Reframer {
  /** Payload bytes the length still allows. */
  private left: number;

  constructor(
    private readonly out: OutFraming,
    private readonly chunkedIn: boolean,
  ) {
    this.left = out.length < 0 ? Infinity : out.length;
  }

  /**
   * The bytes to send for the next `bytes` of the body as received (for a chunked one, what `sc`
   * let through of the chunks it just scanned); `end` when they end it. Undefined when the payload
   * passes the length said.
   */
  next(bytes: Buffer, end: boolean, sc: ChunkedScanner | undefined): Buffer | undefined {
    return this.chunkedIn ? this.chunks(bytes, sc!) : this.raw(bytes, end);
  }

  /** A body received raw (by length, until the close, or none at all). */
  raw(piece: Buffer, end: boolean): Buffer | undefined {
    if ((this.left -= piece.length) < 0) return undefined;
    if (!this.out.chunked) return piece;
    const parts: Buffer[] = [];
    if (piece.length > 0)
      parts.push(Buffer.from(piece.length.toString(16).toUpperCase() + "\r\n", "latin1"), piece, CRLF);
    if (end) parts.push(LAST_CHUNK);
    return parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** A chunked body: its chunks as they are when it leaves chunked, else its payload alone (no trailers). */
  private chunks(scanned: Buffer, sc: ChunkedScanner): Buffer | undefined {
    if (this.out.length >= 0 && sc.payload > this.out.length) return undefined;
    if (this.out.chunked) return scanned;
    const data = sc.data!;
    const payload = data.length === 0 ? EMPTY : data.length === 1 ? data[0]! : Buffer.concat(data);
    data.length = 0;
    return payload;
  }
}

/**
 * What re-frames a body received as `kind` (with `length` when by length) to leave as `out` says;
 * undefined when it leaves as it came. A chunked body that is to lose its chunks needs its scanner
 * to gather the payload (`data`).
 */
export function reframer(kind: BodyKind, length: number, out: OutFraming): Reframer | undefined {
  switch (kind) {
    case BodyKind.Chunked:
      return out.chunked && out.length < 0 ? undefined : new Reframer(out, true);
    case BodyKind.Length:
      return !out.chunked && (out.length < 0 || out.length >= length) ? undefined : new Reframer(out, false);
    case BodyKind.UntilClose:
      return out.chunked || out.length >= 0 ? new Reframer(out, false) : undefined;
    default:
      return out.chunked ? new Reframer(out, false) : undefined;
  }
}
