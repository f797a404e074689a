// A hashed timer wheel for connection timeouts. Ten thousand idle tunnels cost one Node timer, not
// ten thousand; pushing a deadline later (activity on a connection) only writes a number, and the
// entry moves to its new slot when its old slot comes round. Precision is one tick (10 ms).

export interface WheelEntry {
  /** Absolute expiry, in wheel ticks' clock (ms). */
  deadline: number;
  /** Called once the deadline has passed; the entry is out of the wheel by then. */
  onExpire(): void;
  /** Intrusive list links and the slot the entry sits in (-1 when not scheduled, -2 while due). */
  wheelNext: WheelEntry | null;
  wheelPrev: WheelEntry | null;
  wheelSlot: number;
}

const TICK_MS = 10;
const SLOTS = 1024;
/** wheelSlot of an entry taken out of its slot as due, until its onExpire is called. */
const DUE = -2;

export class TimerWheel {
  private readonly heads: (WheelEntry | null)[] = new Array(SLOTS).fill(null);
  /** The tick whose slot is processed next. */
  private tick: number;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The entries due in the slot being processed; kept to spare an array per tick. */
  private readonly due: WheelEntry[] = [];

  /** A clock good enough for deadlines: refreshed every tick, so reading it costs nothing. */
  now: number;

  /** `clock` is Date.now except in tests. */
  constructor(private readonly clock: () => number = Date.now) {
    this.now = clock();
    this.tick = Math.floor(this.now / TICK_MS);
  }

  get size(): number {
    return this.count;
  }

  /** Sets (or moves) the entry's deadline. Moving it later is O(1) and touches no list. */
  schedule(e: WheelEntry, deadline: number): void {
    e.deadline = deadline;
    // The tick and clock stood still while the wheel was idle: bring them up to date before slotting.
    if (!this.timer) this.start();
    const at = Math.max(Math.floor(deadline / TICK_MS), this.tick);
    if (e.wheelSlot >= 0) {
      // Already due no later than the slot it sits in: it is looked at again when that slot comes.
      if (this.slotTick(e.wheelSlot) <= at) return;
      this.unlink(e);
    }
    this.link(e, at);
  }

  cancel(e: WheelEntry): void {
    if (e.wheelSlot < 0) {
      e.wheelSlot = -1; // if it was due, it no longer is
      return;
    }
    this.unlink(e);
    if (this.count === 0) this.stop();
  }

  /** The next time the slot `slot` comes round, as a tick number. */
  private slotTick(slot: number): number {
    const base = this.tick - (this.tick % SLOTS);
    const t = base + slot;
    return t >= this.tick ? t : t + SLOTS;
  }

  private link(e: WheelEntry, at: number): void {
    // Deadlines past the wheel's span wait in the farthest slot and are re-slotted when it comes.
    const tickAt = Math.min(at, this.tick + SLOTS - 1);
    const slot = tickAt % SLOTS;
    const head = this.heads[slot]!;
    e.wheelPrev = null;
    e.wheelNext = head;
    if (head) head.wheelPrev = e;
    this.heads[slot] = e;
    e.wheelSlot = slot;
    this.count++;
  }

  private unlink(e: WheelEntry): void {
    if (e.wheelPrev) e.wheelPrev.wheelNext = e.wheelNext;
    else this.heads[e.wheelSlot] = e.wheelNext;
    if (e.wheelNext) e.wheelNext.wheelPrev = e.wheelPrev;
    e.wheelNext = e.wheelPrev = null;
    e.wheelSlot = -1;
    this.count--;
  }

  private start(): void {
    this.now = this.clock();
    this.tick = Math.max(this.tick, Math.floor(this.now / TICK_MS));
    this.timer = setInterval(this.advance, TICK_MS);
    // Connections keep the process alive, not their timeouts.
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly advance = (): void => {
    this.now = this.clock();
    const target = Math.floor(this.now / TICK_MS);
    // Catch up on ticks missed while the event loop was busy, one slot at a time.
    while (this.tick <= target && this.count > 0) {
      const slot = this.tick % SLOTS;
      let e = this.heads[slot]!;
      this.heads[slot] = null;
      const due = this.due;
      while (e) {
        const next = e.wheelNext;
        e.wheelNext = e.wheelPrev = null;
        this.count--;
        if (e.deadline <= this.now) {
          e.wheelSlot = DUE;
          due.push(e);
        } else this.relink(e);
        e = next!;
      }
      this.tick++;
      for (let i = 0; i < due.length; i++) {
        const d = due[i]!;
        // An earlier callback may have cancelled it, re-armed it, or pushed its deadline later.
        if (d.wheelSlot !== DUE) continue;
        d.wheelSlot = -1;
        if (d.deadline > this.now) this.schedule(d, d.deadline);
        else d.onExpire();
      }
      due.length = 0;
    }
    if (this.count === 0) this.stop();
    else this.tick = Math.max(this.tick, target);
  };

  private relink(e: WheelEntry): void {
    this.link(e, Math.max(Math.floor(e.deadline / TICK_MS), this.tick + 1));
  }
}

/** The wheel all sessions share. */
export const wheel = new TimerWheel();
