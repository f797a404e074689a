// Re-emitting a parsed head with a few changes: header lines are copied as byte ranges from the
// original buffer, so names keep the sender's case and nothing is re-encoded.
import type { HttpHead } from "./message.js";

/** Changes to a head: header lines to drop (by index) and lines to append ("Name: value"). */
export class HeadEdits {
  /** Per header index, true when the line is dropped. Grown on demand, reused across requests. */
  private drop: Uint8Array = new Uint8Array(32);
  private dropped = 0;
  readonly add: string[] = [];
  /** A new start line, replacing the original one. */
  startLine: string | undefined;

  reset(): void {
    if (this.dropped > 0) this.drop.fill(0);
    this.dropped = 0;
    this.add.length = 0;
    this.startLine = undefined;
  }

  dropHeader(i: number): void {
    if (i >= this.drop.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.drop.length * 2));
      grown.set(this.drop);
      this.drop = grown;
    }
    if (this.drop[i] === 0) {
      this.drop[i] = 1;
      this.dropped++;
    }
  }

  isDropped(i: number): boolean {
    return i < this.drop.length && this.drop[i] === 1;
  }

  get empty(): boolean {
    return this.dropped === 0 && this.add.length === 0 && this.startLine === undefined;
  }

  get droppedCount(): number {
    return this.dropped;
  }
}

const CRLF = 0x0a0d;

/** The head's bytes with `edits` applied, as one new buffer (or the original slice when unchanged). */
export function serializeHead(head: HttpHead, edits: HeadEdits): Buffer {
  const { buf, hdr, count } = head;
  if (edits.empty) return buf.subarray(head.start, head.end);
  // The start line ends at its LF; each header line starts at its name and ends at the LF after its value.
  const firstLineEnd = buf.indexOf(0x0a, head.start) + 1;
  let size =
    edits.startLine !== undefined
      ? Buffer.byteLength(edits.startLine, "latin1") + 2
      : firstLineEnd - head.start;
  for (let i = 0; i < count; i++)
    if (!edits.isDropped(i)) size += buf.indexOf(0x0a, hdr[i * 4 + 3]!) + 1 - hdr[i * 4]!;
  for (const line of edits.add) size += Buffer.byteLength(line, "latin1") + 2;
  size += 2;
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  if (edits.startLine !== undefined) {
    o += out.write(edits.startLine, o, "latin1");
    o = out.writeUInt16LE(CRLF, o);
  } else o += buf.copy(out, o, head.start, firstLineEnd);
  for (let i = 0; i < count; i++) {
    if (edits.isDropped(i)) continue;
    o += buf.copy(out, o, hdr[i * 4]!, buf.indexOf(0x0a, hdr[i * 4 + 3]!) + 1);
  }
  for (const line of edits.add) {
    o += out.write(line, o, "latin1");
    o = out.writeUInt16LE(CRLF, o);
  }
  out.writeUInt16LE(CRLF, o);
  return out;
}
