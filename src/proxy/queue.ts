// A backend's or a server's queue of requests waiting for a slot, served in haproxy's order: by
// priority class first (set-priority-class, the lower first), then by the time each one entered
// moved by its priority offset (set-priority-offset), the earlier first; equal times in the order
// they entered. Requests with neither (class 0, offset 0) enter in the order of their times: they
// wait in a Fifo, O(1) in and out, and only those with a priority go into a heap.
//
// haproxy keeps these times in 20 bits of milliseconds and reads them from a boundary 2^19 ms
// (8m44s288) before now: a time fallen behind it reads as 2^20 ms (17m28s576) later. So a request
// that waited past the boundary, or one whose offset is near -524287 once it waited a few
// milliseconds, comes after requests of its class that entered since (the manual's warning of
// requests "misidentified"; measured: docs/haproxy-behaviour.md §82). Such "late" entries move to
// a heap of their own, where their order holds as time passes.
import { Fifo, type Cancellable } from "../util/fifo.js";
import { IndexedHeap, type HeapEntry } from "../util/indexed-heap.js";

/** What waits in a queue. `heapIndex` and `seq` are the queue's, set as it enters. */
export interface Pending extends Cancellable, HeapEntry {
  /** Its priority class, -2047 to 2047: the lower, the sooner. */
  priorityClass: number;
  /** Its priority offset in milliseconds, -524287 to 524287, added to the time it enters. */
  priorityOffset: number;
  /** The time it entered (ms) plus its offset: within a class, the earlier first. */
  at: number;
  /** Its rank of entry in its queue: equal times are served in that order. */
  seq: number;
}

/** How far before now haproxy's boundary of queue times is. */
const LOOK_BACK = 2 ** 19;
/** A time behind the boundary reads as one that much later (haproxy's 20 bits wrap). */
const WRAP = 2 ** 20;

/** Where `p` ranks in its class, `edge` being the boundary: its time, read past it when behind. */
const rank = (p: Pending, edge: number): number => (p.at < edge ? p.at + WRAP : p.at);

/**
 * `a` is served before `b` or with them (haproxy compares the heads of a server's queue and of its
 * backend's so, the server's first on a tie).
 */
export const servedFirst = (a: Pending, b: Pending, now: number): boolean =>
  a.priorityClass < b.priorityClass ||
  (a.priorityClass === b.priorityClass && rank(a, now - LOOK_BACK) <= rank(b, now - LOOK_BACK));

/** Which of two entries of one queue, each one or none, is served first. */
function first<T extends Pending>(a: T | undefined, b: T | undefined, edge: number): T | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  if (a.priorityClass !== b.priorityClass) return a.priorityClass < b.priorityClass ? a : b;
  const [ra, rb] = [rank(a, edge), rank(b, edge)];
  return ra < rb || (ra === rb && a.seq < b.seq) ? a : b;
}

/** Queue order among entries that are all behind the boundary or all not. */
const before = (a: Pending, b: Pending): boolean =>
  a.priorityClass !== b.priorityClass
    ? a.priorityClass < b.priorityClass
    : a.at !== b.at
      ? a.at < b.at
      : a.seq < b.seq;

export class PendingQueue<T extends Pending> {
  /** Class 0, offset 0: in the order of their times, which is the order they enter. */
  private readonly plain = new Fifo<T>();
  private readonly ranked = new IndexedHeap<T>(before);
  /** Those whose time fell behind the boundary. */
  private readonly late = new IndexedHeap<T>(before);
  private entered = 0;
  /** Entries served since the queue was made (haproxy's queue index, for the log's %bq and %sq). */
  taken = 0;

  get length(): number {
    return this.plain.length + this.ranked.size + this.late.size;
  }

  /** `p` enters at `now`. */
  push(p: T, now: number): void {
    p.at = now + p.priorityOffset;
    p.seq = this.entered++;
    p.heapIndex = -1;
    if (p.priorityClass === 0 && p.priorityOffset === 0) this.plain.push(p);
    else this.ranked.push(p);
  }

  /** The entry to serve first at `now`, left in. */
  peek(now: number): T | undefined {
    const edge = now - LOOK_BACK;
    let p = this.plain.peek();
    while (p !== undefined && p.at < edge) {
      this.late.push(this.plain.shift()!);
      p = this.plain.peek();
    }
    if (this.ranked.size === 0 && this.late.size === 0) return p;
    let r = this.ranked.peek();
    while (r !== undefined && r.at < edge) {
      this.late.push(this.ranked.pop()!);
      r = this.ranked.peek();
    }
    return first(first(p, r, edge), this.late.peek(), edge);
  }

  /** Takes out the entry to serve first at `now`. */
  shift(now: number): T | undefined {
    const p = this.peek(now);
    if (p === undefined) return undefined;
    if (p.heapIndex < 0) this.plain.shift();
    else if (!this.ranked.remove(p)) this.late.remove(p);
    this.taken++;
    return p;
  }

  /** Takes `p` out: its request gave up waiting. */
  cancel(p: T): void {
    if (p.heapIndex < 0) return this.plain.cancel(p);
    if (!this.ranked.remove(p)) this.late.remove(p);
    p.cancelled = true;
  }

  /**
   * Takes every entry out, in queue order, but those `keep` says stay; they do not count as served,
   * and are marked cancelled since they are in no queue any more.
   */
  takeAll(keep: (p: T) => boolean): T[] {
    const out = [...this.ranked.removeAll(keep), ...this.late.removeAll(keep)];
    for (const p of out) p.cancelled = true;
    return [...this.plain.takeAll(keep), ...out].sort((a, b) => (before(a, b) ? -1 : 1));
  }
}
