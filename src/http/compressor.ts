// A response body compressed as it passes, as haproxy's compression filter does it: each piece
// of the server's body that arrives is compressed at once and leaves as one chunk, flushed to a
// byte boundary (libslz keeps a piece's last bits for the next one), so that the client never waits
// for more data than the server sent. Each piece is compressed alone (like haproxy's libslz, which
// keeps no dictionary from one call to the next):
// deflate blocks ending on a sync flush can follow each other, and the last piece's blocks end
// the stream. The wrapper around them (RFC 1950 for `deflate`, RFC 1952 for `gzip`, none for
// `raw-deflate`) is written here, its checksum carried from piece to piece.
import { constants, crc32, deflateRawSync, type ZlibOptions } from "node:zlib";

/** haproxy's compression algorithms, by their configuration name. */
export type CompAlgo = "identity" | "deflate" | "raw-deflate" | "gzip";

export const COMP_ALGOS: readonly CompAlgo[] = ["identity", "deflate", "raw-deflate", "gzip"];

/** The name a client asks for in Accept-Encoding, and the server's Content-Encoding says. */
export const encodingName = (a: CompAlgo): string => (a === "raw-deflate" ? "deflate" : a);

/** The gzip header as haproxy's libslz writes it: no name, no time, "fastest", Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]);
/** The zlib header: deflate with a 32 KiB window, "fastest" level, no dictionary. */
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);
/** An empty final block (fixed Huffman codes): ends a stream whose last piece brought no data. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);
const CRLF = Buffer.from("\r\n", "latin1");
const LAST_CHUNK = Buffer.from("0\r\n", "latin1");

const ADLER_MOD = 65521;
/** The most bytes whose sums fit in 2^53 before a reduction. */
const ADLER_RUN = 1 << 20;

function adler32(a: number, buf: Buffer): number {
  let s1 = a & 0xffff;
  let s2 = a >>> 16;
  for (let i = 0; i < buf.length;) {
    const end = Math.min(buf.length, i + ADLER_RUN);
    for (; i < end; i++) {
      s1 += buf[i]!;
      s2 += s1;
    }
    s1 %= ADLER_MOD;
    s2 %= ADLER_MOD;
  }
  return ((s2 << 16) | s1) >>> 0;
}

export class Compressor {
  /** The compression level of the next piece: lowered while over maxcomprate or maxcompcpuusage. */
  level: number;
  /** The compressed bytes of the last piece, without their chunk's framing. */
  encoded = 0;
  private started = false;
  private check: number;
  private size = 0;
  private readonly more: ZlibOptions;
  private readonly last: ZlibOptions;

  constructor(
    readonly algo: CompAlgo,
    private readonly maxLevel: number,
  ) {
    this.level = maxLevel;
    this.check = algo === "deflate" ? 1 : 0;
    this.more = { level: maxLevel, finishFlush: constants.Z_SYNC_FLUSH };
    this.last = { level: maxLevel, finishFlush: constants.Z_FINISH };
  }

  /**
   * The chunk (chunked framing) for the next piece of the body; `end` when it is the last one,
   * then followed by the last chunk and `trailers` (the trailer fields and the final CRLF; a bare
   * CRLF when undefined). Returns an empty buffer when there is nothing to send yet.
   */
  chunk(piece: Buffer, end: boolean, trailers?: Buffer): Buffer {
    const parts: Buffer[] = [];
    const data = (this.encoded = this.encode(piece, end, parts));
    if (data > 0) {
      parts.unshift(Buffer.from(data.toString(16) + "\r\n", "latin1"));
      parts.push(CRLF);
    }
    if (end) parts.push(LAST_CHUNK, trailers ?? CRLF);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * After a piece, as haproxy's filter adapts: one level down while compression runs over its
   * limits (to 0, where blocks are stored as they are), one up, to the configured level, when not.
   */
  adjust(over: boolean): void {
    if (over) this.level = Math.max(0, this.level - 1);
    else if (this.level < this.maxLevel) this.level++;
  }

  /** Pushes the encoded bytes of `piece` onto `parts`; returns their length. */
  private encode(piece: Buffer, end: boolean, parts: Buffer[]): number {
    if (this.algo === "identity") {
      if (piece.length > 0) parts.push(piece);
      return piece.length;
    }
    if (piece.length === 0 && !end) return 0;
    let n = 0;
    if (!this.started) {
      this.started = true;
      const header = this.algo === "gzip" ? GZIP_HEADER : this.algo === "deflate" ? ZLIB_HEADER : undefined;
      if (header) {
        parts.push(header);
        n += header.length;
      }
    }
    if (piece.length > 0) {
      const opts = end ? this.last : this.more;
      opts.level = this.level;
      const blocks = deflateRawSync(piece, opts);
      parts.push(blocks);
      n += blocks.length;
      if (this.algo === "gzip") this.check = crc32(piece, this.check);
      else if (this.algo === "deflate") this.check = adler32(this.check, piece);
      this.size = (this.size + piece.length) % 2 ** 32;
    } else {
      parts.push(FINAL_BLOCK);
      n += FINAL_BLOCK.length;
    }
    if (end && this.algo !== "raw-deflate") {
      const trailer = Buffer.allocUnsafe(this.algo === "gzip" ? 8 : 4);
      if (this.algo === "gzip") {
        trailer.writeUInt32LE(this.check, 0);
        trailer.writeUInt32LE(this.size, 4);
      } else trailer.writeUInt32BE(this.check, 0);
      parts.push(trailer);
      n += trailer.length;
    }
    return n;
  }
}
