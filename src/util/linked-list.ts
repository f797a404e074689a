// A list whose links live on its entries: adding and removing allocate nothing and rehash nothing.
// A server's sessions are one: every request joins its server's list and leaves it, and a Set that
// filled and emptied that often grew and shrank its table again and again.

/** An entry of a LinkedList: on one list at most, which it names. */
export interface ListEntry {
  list: LinkedList<ListEntry> | null;
  listPrev: ListEntry | null;
  listNext: ListEntry | null;
}

export class LinkedList<T extends ListEntry> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends `e`, which is on no list. */
  add(e: T): void {
    e.list = this as LinkedList<ListEntry>;
    e.listPrev = this.tail;
    e.listNext = null;
    if (this.tail) this.tail.listNext = e;
    else this.head = e;
    this.tail = e;
    this.count++;
  }

  /** Takes `e` out, if it is on this list. */
  delete(e: T): void {
    if (e.list !== (this as LinkedList<ListEntry>)) return;
    if (e.listPrev) e.listPrev.listNext = e.listNext;
    else this.head = e.listNext as T | null;
    if (e.listNext) e.listNext.listPrev = e.listPrev;
    else this.tail = e.listPrev as T | null;
    e.list = e.listPrev = e.listNext = null;
    this.count--;
  }

  /** The entries, oldest first, as an array of their own (the caller may change the list meanwhile). */
  toArray(): T[] {
    const out: T[] = [];
    for (let e = this.head; e; e = e.listNext as T | null) out.push(e);
    return out;
  }
}
