// An event rate over a period, as haproxy's freq_ctr counts it: the events of the current period,
// those of the one before, and the tick the current one started at. A rate read mid-period adds to
// the current count the share of the previous one that the period's remaining time stands for, so
// it moves smoothly instead of dropping to zero at each period's start.

export class FreqCtr {
  /**
   * Start of the current period; before the first event, so long ago that the first one starts a
   * period (a monotonic clock starts near 0: 0 would be a period of its own).
   */
  private tick = -Infinity;
  private curr = 0;
  private prev = 0;

  /** Counts `inc` events at `now` (ms); returns the current period's count. */
  add(now: number, period: number, inc: number): number {
    if (now - this.tick < period) return (this.curr += inc);
    this.prev = this.curr;
    this.curr = inc;
    this.tick += period;
    // Two periods or more went by without an event: nothing of the last one is left.
    if (now - this.tick >= period) {
      this.prev = 0;
      this.tick = now;
    }
    return inc;
  }

  /**
   * How long (ms) before one more event keeps the rate within `freq` per period (as haproxy's
   * accept limits count it): 0 when it may happen now. The weighted count of the window falls as
   * the previous period slides out of it: this is when it falls under the limit.
   */
  nextEventDelay(now: number, period: number, freq: number): number {
    if (this.total(now, period, false) < freq * period) return 0;
    let tick = this.tick;
    let curr = this.curr;
    let past = this.prev;
    if (now - tick >= period) {
      // The current period is over: it became the past one (total() found it under two periods old).
      past = curr;
      curr = 0;
      tick += period;
    }
    // Within this period the total is past * (tick + period - t) + curr * period; past the next
    // one's start, curr * (tick + 2 * period - t).
    const at =
      curr < freq && past > 0
        ? tick + period - ((freq - curr) * period) / past
        : tick + 2 * period - (freq * period) / curr;
    return Math.max(1, Math.floor(at - now) + 1);
  }

  /** The rate at `now`: events per period, rounded down. */
  read(now: number, period: number): number {
    return Math.floor(this.total(now, period, true) / period);
  }

  /**
   * haproxy's freq_ctr_total: the events of the period that ends now, in events x ms, the previous
   * period's counted for the share of it still in the window. `smooth`: very low rates do not flap
   * between 0 and 1.
   */
  private total(now: number, period: number, smooth: boolean): number {
    let curr = this.curr;
    let past = this.prev;
    let remain = this.tick + period - now;
    if (remain < 0) {
      // The current period is over: it becomes the past one, if not too long ago.
      remain += period;
      if (remain < 0) return 0;
      past = curr;
      curr = 0;
    }
    if (smooth && curr === 0 && past <= 1) return past * period;
    return past * remain + curr * period;
  }
}
