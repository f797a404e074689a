// Re-emitting a parsed head with a few changes: header lines are copied as byte ranges from the
// original buffer, so names keep the sender's case and nothing is re-encoded.

// Buffer as an import: the global is a getter, a call at each use on the data path.
import { Buffer } from "node:buffer";
import { headerNameIs, type HttpHead } from "./message.js";
import { latin1, writeLatin1 } from "./chars.js";
import { strayLength } from "./parse.js";
import { empty } from "../util/array.js";

const KEEP = 0;
const DROP = 1;
const REWRITE = 2;

/**
 * Changes to a head: header lines to drop or to give a new value in place (by index), and lines to
 * append or to put first ("Name: value").
 */
export class HeadEdits {
  /** Per header index, KEEP, DROP or REWRITE. Grown on demand, reused across requests. */
  private line: Uint8Array = new Uint8Array(32);
  private changed = 0;
  /** One past the highest index marked since the last reset: what reset() has to clear. */
  private marked = 0;
  /** Per rewritten header index, its new value. */
  private readonly values = new Map<number, string>();
  readonly add: string[] = [];
  /** Lines to put first, before the head's own ("Name: value"). */
  readonly first: string[] = [];
  /** A new start line, replacing the original one. */
  startLine: string | undefined;

  reset(): void {
    // A loop over the few lines marked, and clear() only on a map in use: fill() and clear() are
    // calls into V8's runtime (clear() makes a new table even for an empty map), and a response
    // from a server that closes has its Connection line dropped every time.
    if (this.changed > 0) {
      const line = this.line;
      for (let i = 0; i < this.marked; i++) line[i] = KEEP;
      if (this.values.size > 0) this.values.clear();
    }
    this.changed = 0;
    this.marked = 0;
    empty(this.add);
    empty(this.first);
    this.startLine = undefined;
  }

  dropHeader(i: number): void {
    this.mark(i, DROP);
    this.values.delete(i);
  }

  /** Header line `i` keeps its name and place, with `value` as its value. */
  rewriteHeader(i: number, value: string): void {
    this.mark(i, REWRITE);
    this.values.set(i, value);
  }

  private mark(i: number, how: number): void {
    if (i >= this.line.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.line.length * 2));
      grown.set(this.line);
      this.line = grown;
    }
    if (this.line[i] === KEEP) this.changed++;
    this.line[i] = how;
    if (i >= this.marked) this.marked = i + 1;
  }

  isDropped(i: number): boolean {
    return i < this.line.length && this.line[i] === DROP;
  }

  /** The new value of header line `i`, or undefined when it is kept as is or dropped. */
  valueOf(i: number): string | undefined {
    return i < this.line.length && this.line[i] === REWRITE ? this.values.get(i) : undefined;
  }

  get empty(): boolean {
    return (
      this.changed === 0 && this.add.length === 0 && this.first.length === 0 && this.startLine === undefined
    );
  }

  /** How many header lines are dropped or rewritten. */
  get changedCount(): number {
    return this.changed;
  }
}

const CRLF = 0x0a0d;
const COLON_SP = 0x203a;

/** Where header line `i` ends: at the next line's name, or at the blank line for the last one. */
const lineEnd = (hdr: Int32Array, count: number, blankLine: number, i: number): number =>
  i + 1 < count ? hdr[(i + 1) * 4]! : blankLine;

/**
 * The head's bytes with `edits` applied, as one new buffer (or the original slice when unchanged),
 * followed by `tail`'s first `tailLength` bytes when given (a new buffer then, whose blank line is
 * CRLF even where the head's was a bare LF).
 */
export function serializeHead(head: HttpHead, edits: HeadEdits, tail?: Buffer, tailLength = 0): Buffer {
  const { buf, hdr, count } = head;
  if (edits.empty && tailLength === 0) return buf.subarray(head.start, head.end);
  // Lines follow each other with nothing between them (the parser refuses obs-fold and a blank
  // before the first header), so line i spans from its name to the next line's name, the last one
  // to the blank line, which ends the head, and the start line to the first name.
  const blankLine = buf[head.end - 2] === 0x0d ? head.end - 2 : head.end - 1;
  const headersStart = count === 0 ? blankLine : hdr[0]!;
  let size = edits.startLine !== undefined ? edits.startLine.length + 2 : headersStart - head.start;
  size += blankLine - headersStart + 2;
  if (edits.changedCount > 0)
    for (let i = 0; i < count; i++) {
      const v = edits.valueOf(i);
      if (v === undefined && !edits.isDropped(i)) continue;
      // The original line goes; a rewritten one comes back as "name: value" CRLF.
      const name = hdr[i * 4]!;
      size -= lineEnd(hdr, count, blankLine, i) - name;
      if (v !== undefined) size += hdr[i * 4 + 1]! - name + v.length + 4;
    }
  for (const line of edits.add) size += line.length + 2;
  for (const line of edits.first) size += line.length + 2;
  const out = Buffer.allocUnsafe(size + tailLength);
  let o = 0;
  // Unchanged lines leave in runs, one copy each; an unchanged start line with the lines after it.
  let run = head.start;
  if (edits.startLine !== undefined || edits.first.length > 0) {
    if (edits.startLine !== undefined) {
      o += writeLatin1(out, edits.startLine, o);
      o = out.writeUInt16LE(CRLF, o);
    } else o += buf.copy(out, o, head.start, headersStart);
    for (const line of edits.first) {
      o += writeLatin1(out, line, o);
      o = out.writeUInt16LE(CRLF, o);
    }
    run = headersStart;
  }
  if (edits.changedCount > 0)
    for (let i = 0; i < count; i++) {
      const v = edits.valueOf(i);
      if (v === undefined && !edits.isDropped(i)) continue;
      o += buf.copy(out, o, run, hdr[i * 4]);
      if (v !== undefined) {
        o += buf.copy(out, o, hdr[i * 4]!, hdr[i * 4 + 1]!);
        o = out.writeUInt16LE(COLON_SP, o);
        o += writeLatin1(out, v, o);
        o = out.writeUInt16LE(CRLF, o);
      }
      run = lineEnd(hdr, count, blankLine, i);
    }
  o += buf.copy(out, o, run, blankLine);
  for (const line of edits.add) {
    o += writeLatin1(out, line, o);
    o = out.writeUInt16LE(CRLF, o);
  }
  o = out.writeUInt16LE(CRLF, o);
  if (tail) tail.copy(out, o, 0, tailLength);
  return out;
}

/**
 * What haproxy 2.6 re-encodes in every head it forwards, where Sluice otherwise passes the sender's
 * bytes: Content-Length or Host said more than once (with the same value) leave as one line, at the
 * first one's place (a rewritten head's stray lengths leave out), a header line not written
 * "name: value" leaves so, and a head with bare LF line ends leaves with CRLF (values trimmed).
 */
export function normalizeHead(head: HttpHead, edits: HeadEdits): void {
  // A rewritten head's Content-Length lines that are invalid or contradict its first valid one: the
  // HTTP/1 layer leaves them out as it sends the head.
  if (head.strayLengths)
    for (let i = 0; i < head.count; i++) if (strayLength(head, i, head.contentLength)) edits.dropHeader(i);
  const lengths = head.repeatedLength && head.contentLength >= 0;
  if (lengths || head.repeatedHost) {
    let firstLength = true;
    let firstHost = true;
    for (let i = 0; i < head.count; i++) {
      if (edits.isDropped(i)) continue;
      if (lengths && headerNameIs(head, i, "content-length")) {
        if (firstLength) edits.rewriteHeader(i, String(head.contentLength));
        else edits.dropHeader(i);
        firstLength = false;
      } else if (head.repeatedHost && headerNameIs(head, i, "host")) {
        if (!firstHost) edits.dropHeader(i);
        firstHost = false;
      }
    }
  }
  if (!head.bareLf && !head.looseValue) return;
  const { buf, hdr } = head;
  if (head.bareLf && edits.startLine === undefined) {
    const lf = buf.indexOf(0x0a, head.start);
    edits.startLine = latin1(buf, head.start, buf[lf - 1] === 0x0d ? lf - 1 : lf);
  }
  // Values leave trimmed, one space after the colon, as haproxy writes every header line. With a
  // bare LF anywhere, every line is rewritten: a kept line would keep its line end.
  for (let i = 0; i < head.count; i++) {
    if (edits.isDropped(i) || edits.valueOf(i) !== undefined) continue;
    const nEnd = hdr[i * 4 + 1]!;
    const vStart = hdr[i * 4 + 2]!;
    const vEnd = hdr[i * 4 + 3]!;
    if (!head.bareLf && vStart === nEnd + 2 && buf[nEnd + 1] === 0x20 && buf[vEnd] === 0x0d) continue;
    edits.rewriteHeader(i, latin1(buf, vStart, vEnd));
  }
}
