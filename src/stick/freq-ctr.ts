// An event rate over a period, as haproxy's freq_ctr counts it: the events of the current period,
// those of the one before, and the tick the current one started at. A rate read mid-period adds to
// the current count the share of the previous one that the period's remaining time stands for, so
// it moves smoothly instead of dropping to zero at each period's start.

export class FreqCtr {
  /** Start of the current period (0 before the first event: the first one starts a period). */
  private tick = 0;
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

  /** The rate at `now`: events per period, rounded down. */
  read(now: number, period: number): number {
    let curr = this.curr;
    let past = this.prev;
    let remain = this.tick + period - now;
    if (remain < 0) {
      // The current period is over: it becomes the past one, if not too long ago.
      remain += period;
      past = remain >= 0 ? curr : 0;
      curr = 0;
    }
    // Very low rates do not flap between 0 and 1.
    if (curr === 0 && past <= 1) return past;
    return Math.floor((past * remain + curr * period) / period);
  }
}
