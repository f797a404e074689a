// Finds where a chunked body ends while its bytes are forwarded (RFC 9112 7.1). The input may be
// split anywhere, one byte at a time included: the state carries over between scan() calls.
//
// A scanner made to `normalize` also fixes the framing it lets through, as haproxy 2.6, which
// re-encodes every chunk, sends it on: a bare LF line end becomes CRLF, and blanks and extensions
// after a chunk size are dropped. A server must not read framing that only a lenient parser
// accepts: it could then see other requests than the proxy did. Regular framing, the usual case,
// costs no copy: `normalized` is then unset and the bytes scanned go as they are.
//
// Accepted, as haproxy 2.6 accepts them: bare LF line ends, leading zeros in a chunk size, blanks
// between the size and its CRLF or its extensions, extensions with any byte but CR and LF, trailer
// fields. Refused (error = true; the caller answers 400 to a client, 502 for a server): a size that
// is not hex, is empty, has blanks inside ("2 2") or exceeds 2^53-1; a chunk-size line or a trailer
// section longer than `maxLine`; chunk data not followed by CRLF; a trailer line that is not
// "token: value" (obs-fold included) or has a control character in its value; a trailer name longer
// than a header's may be, or as many trailer lines as a head may not have (tune.http.maxhdr).

import { CR, LF, SP, HTAB, COLON, COMMA, SEMI, TCHAR, VALUE } from "./chars.js";
import { HTX_TRAILERS_END, MAX_NAME_LENGTH } from "./message.js";
import { empty } from "../util/array.js";

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

const CRLF = Buffer.from("\r\n", "latin1");

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/** A Content-Length trailer's value: not one, at a number's start, in its digits, in blanks after it. */
const CL_NONE = 0;
const CL_START = 1;
const CL_DIGITS = 2;
const CL_AFTER = 3;
const CONTENT_LENGTH = Buffer.from("content-length", "latin1");

/** haproxy 2.6's parser refuses a chunk size of 2^52 or more (Sluice's numbers hold 2^53). */
const MAX_SIZE = 2 ** 52 - 1;

/** `b` with its bare LF line ends made CRLF, as every other line of the framing leaves. */
function crlfLines(b: Buffer): Buffer {
  for (let i = 0; i < b.length; i++)
    if (b[i] === LF && b[i - 1] !== CR)
      return Buffer.from(b.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
  return b;
}

export class ChunkedScanner {
  private st = St.Size;
  private size = 0;
  private left = 0;
  /** Bytes of the current chunk-size line, or of the trailer section, so far. */
  private lineLen = 0;
  /** Trailer lines so far, and the current one's name length. */
  private fields = 0;
  private nameLen = 0;
  /** Payload bytes seen so far (chunk data without the framing). */
  payload = 0;
  /** The trailers' names and values so far, the values trimmed; the current value's length and its trailing blanks. */
  private trailerBytes = 0;
  private valueLen = 0;
  private valueBlanks = 0;
  /** The last chunk, the trailers and the final empty line have been seen. */
  done = false;
  /** The framing is invalid; scan() returns at the offending byte and does nothing more. */
  error = false;
  /**
   * With `normalize`, after a scan() that had framing to fix: the bytes to send in place of the ones
   * it counted. Unset when they go as they are.
   */
  normalized: Buffer | undefined = undefined;
  /** Pieces of the normalized output of the current scan(), and where its unsent run of input starts. */
  private pieces: Buffer[] = [];
  private runStart = 0;
  private edited = false;
  /**
   * A trailer named Content-Length must hold one (haproxy 2.6 parses it as in a head): how much of
   * the name matched so far (-1: another name), then where its value is (CL_*), and the value's
   * digits, the first number's and the current one's.
   */
  private clName = -1;
  private clState = CL_NONE;
  private clFirst = "";
  private clDigits = "";
  /**
   * When set, scan() adds here the chunk data it passes, as views on its input, and keeps the
   * trailer section in `trailers` once done: a compressed body is made of the payload alone.
   */
  data: Buffer[] | undefined = undefined;
  /** With `data`, once done: the trailer fields and the final line end, with CRLF line ends. */
  trailers: Buffer | undefined = undefined;
  private trailerPieces: Buffer[] = [];
  /** Where the trailer section starts in the current scan()'s input, or -1. */
  private trailerFrom = -1;

  /**
   * @param maxLine the longest chunk-size line (size and extensions) and the longest trailer
   *   section accepted, in bytes; haproxy needs each to fit in its buffer (tune.bufsize).
   * @param normalize fix the framing as it goes (see above); a scanner that only finds the end
   *   of a body does not need to.
   * @param maxFields tune.http.maxhdr: a trailer section holds fewer lines than that.
   */
  constructor(
    private maxLine = 16384,
    private readonly normalize = false,
    private maxFields = 101,
  ) {}

  /** What haproxy counts of the body so far (HTX_HEAD): the payload, and once done its trailers and their end. */
  get htxSize(): number {
    return this.done ? this.payload + HTX_TRAILERS_END + this.trailerBytes : this.payload;
  }

  /** The bytes of the chunk under way that are still to come: 0 outside a chunk's data. */
  get dataLeft(): number {
    return this.st === St.Data ? this.left : 0;
  }

  /** Ready for the next body; `maxLine` may change with it (a shared scanner serves every config). */
  reset(maxLine = this.maxLine, maxFields = this.maxFields): void {
    this.maxLine = maxLine;
    this.maxFields = maxFields;
    this.st = St.Size;
    this.size = this.left = this.lineLen = this.payload = this.fields = this.trailerBytes = 0;
    this.done = this.error = this.edited = false;
    this.clName = -1;
    this.clState = CL_NONE;
    this.normalized = undefined;
    empty(this.pieces);
    this.trailers = undefined;
    empty(this.trailerPieces);
  }

  /**
   * How many bytes of buf[off..end) belong to the body. Fewer than end - off when the body ends
   * inside (done is then true) or at an error (error is then true; the count stops before the
   * offending byte).
   */
  scan(buf: Buffer, off: number, end: number): number {
    this.normalized = undefined;
    if (this.done || this.error) return 0;
    let p = off;
    let st = this.st;
    this.runStart = off;
    this.trailerFrom = this.data && st >= St.TrailerStart ? off : -1;
    while (p < end) {
      if (st === St.Data) {
        const n = Math.min(this.left, end - p);
        if (this.data && n > 0) this.data.push(buf.subarray(p, p + n));
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
          else if (c === LF) {
            this.bareLf(buf, p);
            st = this.sizeDone(p);
          } else if (c === SEMI || c === SP || c === HTAB) {
            // What follows the size, up to the line end, is dropped.
            this.cut(buf, p, undefined);
            st = c === SEMI ? St.Ext : St.SizeBlank;
          } else return this.fail(p, off);
          break;
        }
        case St.SizeBlank:
        case St.Ext:
          if (c === CR || c === LF) {
            this.drop(p);
            if (c === CR) st = St.SizeLf;
            else {
              this.bareLf(buf, p);
              st = this.sizeDone(p);
            }
          } else if (st === St.SizeBlank && c === SEMI) st = St.Ext;
          else if (st === St.SizeBlank && c !== SP && c !== HTAB) return this.fail(p, off);
          break;
        case St.SizeLf:
          if (c !== LF) return this.fail(p, off);
          st = this.sizeDone(p);
          break;
        case St.DataCr:
          if (c === CR) st = St.DataLf;
          else if (c === LF) {
            this.bareLf(buf, p);
            st = St.Size;
          } else return this.fail(p, off);
          break;
        case St.DataLf:
          if (c !== LF) return this.fail(p, off);
          st = St.Size;
          break;
        case St.TrailerStart:
          if (c === CR) st = St.FinalLf;
          else if (c === LF) {
            this.bareLf(buf, p);
            return this.finish(buf, p + 1, off);
          } else if (TCHAR[c] && ++this.fields < this.maxFields) {
            st = St.TrailerName;
            this.nameLen = 1;
            this.clName = (c | 0x20) === CONTENT_LENGTH[0] ? 1 : -1;
          } else return this.fail(p, off);
          break;
        case St.TrailerName:
          if (c === COLON) {
            st = St.TrailerValue;
            this.valueLen = this.valueBlanks = 0;
            this.clState = this.clName === CONTENT_LENGTH.length ? CL_START : CL_NONE;
            this.clFirst = this.clDigits = "";
          } else if (!TCHAR[c] || ++this.nameLen > MAX_NAME_LENGTH) return this.fail(p, off);
          else if (this.clName >= 0)
            this.clName = (c | 0x20) === CONTENT_LENGTH[this.clName] ? this.clName + 1 : -1;
          break;
        case St.TrailerValue:
          if (c === CR || c === LF) {
            if (this.clState !== CL_NONE && !this.clEnd()) return this.fail(p, off);
            this.trailerBytes += this.nameLen + this.valueLen - this.valueBlanks;
            if (c === CR) st = St.TrailerLf;
            else {
              this.bareLf(buf, p);
              st = St.TrailerStart;
            }
          } else if (!VALUE[c] || (this.clState !== CL_NONE && !this.clByte(c))) return this.fail(p, off);
          else if (c !== SP && c !== HTAB) {
            this.valueLen++;
            this.valueBlanks = 0;
          } else if (this.valueLen > 0) {
            this.valueLen++;
            this.valueBlanks++;
          }
          break;
        case St.TrailerLf:
          if (c !== LF) return this.fail(p, off);
          st = St.TrailerStart;
          break;
        case St.FinalLf:
          if (c !== LF) return this.fail(p, off);
          return this.finish(buf, p + 1, off);
      }
      p++;
      // Everything but chunk data counts towards the line limit; it restarts at each size line.
      if (++this.lineLen > this.maxLine) return this.fail(p - 1, off);
    }
    this.st = st;
    // A call that ends inside dropped bytes (blanks, extensions) counts them, sends none.
    if (st === St.SizeBlank || st === St.Ext) this.drop(p);
    if (this.trailerFrom >= 0) this.trailerPieces.push(buf.subarray(this.trailerFrom, p));
    this.flush(buf, p);
    return p - off;
  }

  /** One byte of a Content-Length trailer's value: digits, blanks, and commas between equal numbers. */
  private clByte(c: number): boolean {
    if (c >= 48 && c <= 57) {
      if (this.clState === CL_AFTER) return false;
      this.clState = CL_DIGITS;
      this.clDigits += String.fromCharCode(c);
      return this.clDigits.length <= 20;
    }
    if (c === SP || c === HTAB) {
      if (this.clState === CL_DIGITS) this.clState = CL_AFTER;
      return true;
    }
    if (c !== COMMA || this.clState === CL_START || !this.clNumberDone()) return false;
    this.clState = CL_START;
    return true;
  }

  /** The value's end: it must end with a number. */
  private clEnd(): boolean {
    return this.clState !== CL_START && this.clNumberDone();
  }

  /** A number of the list ends: it must equal the first (leading zeros aside). */
  private clNumberDone(): boolean {
    const n = this.clDigits.replace(/^0+(?=\d)/, "");
    this.clDigits = "";
    if (this.clFirst === "") this.clFirst = n;
    return n === this.clFirst;
  }

  /** The size line ends at p: next comes the chunk's data, or the trailers after the last chunk. */
  private sizeDone(p: number): St {
    this.lineLen = 0;
    if (this.size === 0) {
      if (this.data) this.trailerFrom = p + 1;
      return St.TrailerStart;
    }
    this.left = this.size;
    return St.Data;
  }

  private finish(buf: Buffer, p: number, off: number): number {
    this.st = St.Done;
    this.done = true;
    if (this.trailerFrom >= 0) {
      this.trailerPieces.push(buf.subarray(this.trailerFrom, p));
      this.trailers = crlfLines(Buffer.concat(this.trailerPieces));
      this.trailerPieces.length = 0;
    }
    this.flush(buf, p);
    return p - off;
  }

  /** A bare LF at p: it leaves as CRLF. */
  private bareLf(buf: Buffer, p: number): void {
    this.cut(buf, p, CRLF);
    this.runStart = p + 1;
  }

  /**
   * Ends the run of input that goes as it is at p, with what replaces the bytes from p on. The
   * bytes skipped up to the next run (set by the caller) are dropped. No-op unless normalizing.
   */
  private cut(buf: Buffer, p: number, replacement: Buffer | undefined): void {
    if (!this.normalize) return;
    const pieces = this.pieces;
    if (p > this.runStart) pieces.push(buf.subarray(this.runStart, p));
    if (replacement) pieces.push(replacement);
    this.runStart = p;
    this.edited = true;
  }

  /** The bytes from the end of the last run up to p are not sent. */
  private drop(p: number): void {
    if (!this.normalize) return;
    this.runStart = p;
    this.edited = true;
  }

  /** Builds `normalized` from the pieces of a scan() that had framing to fix. */
  private flush(buf: Buffer, p: number): void {
    if (!this.edited) return;
    const pieces = this.pieces;
    if (p > this.runStart) pieces.push(buf.subarray(this.runStart, p));
    this.normalized = Buffer.concat(pieces);
    pieces.length = 0;
    this.edited = false;
  }

  private fail(p: number, off: number): number {
    this.error = true;
    return p - off;
  }
}
