// haproxy's health counter. It runs from 0 to rise+fall-1; the server is UP from `rise` on.
// A success while UP restores the counter to the top; a failure takes one off, and below `rise`
// drops it to 0 (DOWN). A checked server starts UP at exactly `rise`, so one failed check is enough
// to take down a server that is dead at start-up (haproxy 2.6 does this), while a running server
// needs `fall` failures in a row.

export type Transition = "up" | "down" | undefined;

export class Health {
  private value: number;

  constructor(
    readonly rise: number,
    readonly fall: number,
    up: boolean,
  ) {
    this.value = up ? rise : 0;
  }

  get up(): boolean {
    return this.value >= this.rise;
  }

  /** True while the counter is between its ends: the check then runs at `fastinter`. */
  get transitional(): boolean {
    return this.value > 0 && this.value < this.rise + this.fall - 1;
  }

  get counter(): number {
    return this.value;
  }

  success(): Transition {
    const top = this.rise + this.fall - 1;
    if (this.value >= top) return undefined;
    const wasUp = this.up;
    this.value++;
    if (this.value >= this.rise) this.value = top;
    return !wasUp && this.up ? "up" : undefined;
  }

  failure(): Transition {
    if (this.value === 0) return undefined;
    const wasUp = this.up;
    this.value--;
    if (this.value < this.rise) this.value = 0;
    return wasUp && !this.up ? "down" : undefined;
  }
}
