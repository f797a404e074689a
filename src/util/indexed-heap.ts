// A binary min-heap whose entries carry their index in it: any entry leaves in O(log n), not only
// the top one, without a search and without leaving a tombstone behind.

export interface HeapEntry {
  /** Its index in the heap that holds it; -1 in none. */
  heapIndex: number;
}

export class IndexedHeap<T extends HeapEntry> {
  private items: T[] = [];

  /** `before(a, b)`: a comes out of the heap first. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The entry that comes out first, left in. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(e: T): void {
    e.heapIndex = this.items.length;
    this.items.push(e);
    this.up(e.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Takes `e` out; false when this heap does not hold it. */
  remove(e: T): boolean {
    const i = e.heapIndex;
    if (this.items[i] !== e) return false;
    const last = this.items.pop()!;
    e.heapIndex = -1;
    if (last !== e) {
      this.place(last, i);
      this.down(i);
      this.up(last.heapIndex);
    }
    return true;
  }

  /** Takes out every entry but those `keep` says stay, in no particular order. */
  removeAll(keep: (e: T) => boolean): T[] {
    const out: T[] = [];
    const kept: T[] = [];
    for (const e of this.items) (keep(e) ? kept : out).push(e);
    for (const e of out) e.heapIndex = -1;
    this.items = kept;
    kept.forEach((e, i) => (e.heapIndex = i));
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.down(i);
    return out;
  }

  private place(e: T, i: number): void {
    this.items[i] = e;
    e.heapIndex = i;
  }

  private up(i: number): void {
    const e = this.items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.items[parent]!;
      if (!this.before(e, p)) break;
      this.place(p, i);
      i = parent;
    }
    this.place(e, i);
  }

  private down(i: number): void {
    const n = this.items.length;
    const e = this.items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(this.items[r]!, this.items[l]!) ? r : l;
      const child = this.items[c]!;
      if (!this.before(child, e)) break;
      this.place(child, i);
      i = c;
    }
    this.place(e, i);
  }
}
