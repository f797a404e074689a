// Finds where a chunked body ends while its bytes are forwarded untouched (RFC 9112 7.1). The input
// may be split anywhere, one byte at a time included: the state carries over between scan() calls.
//
// Accepted, as haproxy 2.6 accepts them: bare LF line ends, leading zeros in a chunk size, blanks
// between the size and its CRLF or its extensions, extensions with any byte but CR and LF, trailer
// fields. Refused (error = true; the caller answers 400 to a client, 502 for a server): a size that
// is not hex, is empty, has blanks inside ("2 2") or exceeds 2^53-1; a chunk-size line or a trailer
// section longer than `maxLine`; chunk data not followed by CRLF; a trailer line that is not
// "token: value" (obs-fold included) or has a control character in its value.

import { CR, LF, SP, HTAB, COLON, SEMI, TCHAR, VALUE } from "./chars.js";

const enum St {
  /** Before the first hex digit of a size. */
  Size,
  /** In the size's hex digits. */
  SizeDigits,
  /** Blanks after the size. */
  SizeBlank,
  /** In the extensions, up to the line end. */
  Ext,
  /** CR seen at the end of the size line. */
  SizeLf,
  Data,
  DataCr,
  DataLf,
  /** Start of a trailer line, or of the final empty line. */
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  FinalLf,
  Done,
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/** A chunk size above this would lose precision. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export class ChunkedScanner {
  private st = St.Size;
  private size = 0;
  private left = 0;
  /** Bytes of the current chunk-size line, or of the trailer section, so far. */
  private lineLen = 0;
  /** Payload bytes seen so far (chunk data without the framing). */
  payload = 0;
  /** The last chunk, the trailers and the final empty line have been seen. */
  done = false;
  /** The framing is invalid; scan() returns at the offending byte and does nothing more. */
  error = false;

  /**
   * @param maxLine the longest chunk-size line (size and extensions) and the longest trailer
   *   section accepted, in bytes; haproxy needs each to fit in its buffer (tune.bufsize).
   */
  constructor(readonly maxLine = 16384) {}

  reset(): void {
    this.st = St.Size;
    this.size = this.left = this.lineLen = this.payload = 0;
    this.done = this.error = false;
  }

  /**
   * How many bytes of buf[off..end) belong to the body. Fewer than end - off when the body ends
   * inside (done is then true) or at an error (error is then true; the count stops before the
   * offending byte).
   */
  scan(buf: Buffer, off: number, end: number): number {
    if (this.done || this.error) return 0;
    let p = off;
    let st = this.st;
    while (p < end) {
      if (st === St.Data) {
        const n = Math.min(this.left, end - p);
        p += n;
        this.left -= n;
        this.payload += n;
        if (this.left === 0) st = St.DataCr;
        continue;
      }
      const c = buf[p]!;
      switch (st) {
        case St.Size: {
          const d = HEX[c]!;
          if (d < 0) return this.fail(p, off);
          this.size = d;
          st = St.SizeDigits;
          break;
        }
        case St.SizeDigits: {
          const d = HEX[c]!;
          if (d >= 0) {
            this.size = this.size * 16 + d;
            if (this.size > MAX_SIZE) return this.fail(p, off);
          } else if (c === CR) st = St.SizeLf;
          else if (c === LF) st = this.sizeDone();
          else if (c === SEMI) st = St.Ext;
          else if (c === SP || c === HTAB) st = St.SizeBlank;
          else return this.fail(p, off);
          break;
        }
        case St.SizeBlank:
          if (c === CR) st = St.SizeLf;
          else if (c === LF) st = this.sizeDone();
          else if (c === SEMI) st = St.Ext;
          else if (c !== SP && c !== HTAB) return this.fail(p, off);
          break;
        case St.Ext:
          if (c === CR) st = St.SizeLf;
          else if (c === LF) st = this.sizeDone();
          break;
        case St.SizeLf:
          if (c !== LF) return this.fail(p, off);
          st = this.sizeDone();
          break;
        case St.DataCr:
          if (c === CR) st = St.DataLf;
          else if (c === LF) st = St.Size;
          else return this.fail(p, off);
          break;
        case St.DataLf:
          if (c !== LF) return this.fail(p, off);
          st = St.Size;
          break;
        case St.TrailerStart:
          if (c === CR) st = St.FinalLf;
          else if (c === LF) return this.finish(p + 1, off);
          else if (TCHAR[c]) st = St.TrailerName;
          else return this.fail(p, off);
          break;
        case St.TrailerName:
          if (c === COLON) st = St.TrailerValue;
          else if (!TCHAR[c]) return this.fail(p, off);
          break;
        case St.TrailerValue:
          if (c === CR) st = St.TrailerLf;
          else if (c === LF) st = St.TrailerStart;
          else if (!VALUE[c]) return this.fail(p, off);
          break;
        case St.TrailerLf:
          if (c !== LF) return this.fail(p, off);
          st = St.TrailerStart;
          break;
        case St.FinalLf:
          if (c !== LF) return this.fail(p, off);
          return this.finish(p + 1, off);
      }
      p++;
      // Everything but chunk data counts towards the line limit; it restarts at each size line.
      if (++this.lineLen > this.maxLine) return this.fail(p - 1, off);
    }
    this.st = st;
    return p - off;
  }

  /** The size line is complete: next comes the chunk's data, or the trailers after the last chunk. */
  private sizeDone(): St {
    this.lineLen = 0;
    if (this.size === 0) return St.TrailerStart;
    this.left = this.size;
    return St.Data;
  }

  private finish(p: number, off: number): number {
    this.st = St.Done;
    this.done = true;
    return p - off;
  }

  private fail(p: number, off: number): number {
    this.error = true;
    return p - off;
  }
}
