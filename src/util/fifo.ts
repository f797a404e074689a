// A FIFO queue with O(1) push and shift and lazy removal: cancelled entries are skipped when they
// reach the head, so a waiter that times out costs nothing to take out.
export interface Cancellable {
  cancelled: boolean;
}

export class Fifo<T extends Cancellable> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private live = 0;

  get length(): number {
    return this.live;
  }

  push(item: T): void {
    this.items.push(item);
    this.live++;
  }

  /** The oldest entry not cancelled, without removing it. */
  peek(): T | undefined {
    this.skipCancelled();
    return this.items[this.head];
  }

  shift(): T | undefined {
    this.skipCancelled();
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined;
    this.live--;
    this.compact();
    return item;
  }

  /**
   * Takes every live entry out, oldest first, but those `keep` says stay; they are marked cancelled
   * since they are in no queue any more.
   */
  takeAll(keep: (item: T) => boolean): T[] {
    const live = this.items.slice(this.head).filter((i): i is T => i !== undefined && !i.cancelled);
    const taken = live.filter((i) => !keep(i));
    for (const i of taken) i.cancelled = true;
    this.items = live.filter((i) => !i.cancelled);
    this.head = 0;
    this.live = this.items.length;
    return taken;
  }

  /** Marks an entry cancelled; it leaves the queue when it reaches the head. */
  cancel(item: T): void {
    if (item.cancelled) return;
    item.cancelled = true;
    this.live--;
  }

  private skipCancelled(): void {
    while (this.head < this.items.length && this.items[this.head]!.cancelled)
      this.items[this.head++] = undefined;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.items.length && this.head > 0) {
      this.items.length = 0;
      this.head = 0;
    }
  }
}
