// Finds where a chunked body ends while its bytes are forwarded untouched. The input may be split
// anywhere, one byte at a time included; the state carries over between calls.

const enum St {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

const CR = 13;
const LF = 10;
/** More hex digits than this would overflow a safe integer: a bad chunk size. */
const MAX_SIZE_DIGITS = 13;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

export class ChunkedScanner {
  private st = St.Size;
  private size = 0;
  private digits = 0;
  private left = 0;
  /** Payload bytes seen (the sum of chunk sizes). */
  payload = 0;
  done = false;
  error = false;
  /** Where the current scan() call started, to count the bytes consumed. */
  private startOff = 0;

  reset(): void {
    this.st = St.Size;
    this.size = this.digits = this.left = this.payload = 0;
    this.done = this.error = false;
  }

  /** How many bytes of buf[off..end) belong to the body; stops at its end or at an error. */
  scan(buf: Buffer, off: number, end: number): number {
    if (this.done || this.error) return 0;
    this.startOff = off;
    let p = off;
    while (p < end) {
      if (this.st === St.Data) {
        const n = Math.min(this.left, end - p);
        p += n;
        this.left -= n;
        if (this.left === 0) this.st = St.DataCr;
        continue;
      }
      const c = buf[p++]!;
      switch (this.st) {
        case St.Size: {
          const d = HEX[c]!;
          if (d >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail(p);
            this.size = this.size * 16 + d;
          } else if (this.digits === 0) return this.fail(p);
          else if (c === 59 || c === 32 || c === 9) this.st = St.Ext;
          else if (c === CR) this.st = St.SizeLf;
          else if (c === LF) this.sizeDone();
          else return this.fail(p);
          break;
        }
        case St.Ext:
          // Chunk extensions are forwarded and not interpreted; control characters are refused.
          if (c === CR) this.st = St.SizeLf;
          else if (c === LF) this.sizeDone();
          else if (c < 32 && c !== 9) return this.fail(p);
          break;
        case St.SizeLf:
          if (c !== LF) return this.fail(p);
          this.sizeDone();
          break;
        case St.DataCr:
          if (c === CR) this.st = St.DataLf;
          else if (c === LF) this.st = St.Size;
          else return this.fail(p);
          break;
        case St.DataLf:
          if (c !== LF) return this.fail(p);
          this.st = St.Size;
          break;
        case St.TrailerStart:
          if (c === CR) this.st = St.FinalLf;
          else if (c === LF) return this.finish(p);
          else this.st = St.Trailer;
          break;
        case St.Trailer:
          if (c === CR) this.st = St.TrailerLf;
          else if (c === LF) this.st = St.TrailerStart;
          else if (c < 32 && c !== 9) return this.fail(p);
          break;
        case St.TrailerLf:
          if (c !== LF) return this.fail(p);
          this.st = St.TrailerStart;
          break;
        case St.FinalLf:
          if (c !== LF) return this.fail(p);
          return this.finish(p);
      }
    }
    return p - off;
  }

  private sizeDone(): void {
    this.digits = 0;
    if (this.size === 0) {
      this.st = St.TrailerStart;
      return;
    }
    this.payload += this.size;
    this.left = this.size;
    this.size = 0;
    this.st = St.Data;
  }

  private finish(p: number): number {
    this.st = St.Done;
    this.done = true;
    return p - this.startOff;
  }

  private fail(p: number): number {
    this.error = true;
    return p - this.startOff;
  }
}
