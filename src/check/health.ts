// haproxy's health counter, as in its check.c and measured on haproxy 2.6. It runs from 0 to
// rise+fall-1; the server is UP from `rise` on.
// - A success below the top adds one, and reaching `rise` jumps to the top (UP, fully healthy).
// - A failure above 0 takes one off, and falling below `rise` drops to 0 (DOWN).
// A checked server starts UP with the counter at exactly `rise`: a server dead at start-up goes
// DOWN after its first failed check, while one that passed a check since needs `fall` failures.

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

  get top(): number {
    return this.rise + this.fall - 1;
  }

  get up(): boolean {
    return this.value >= this.rise;
  }

  get counter(): number {
    return this.value;
  }

  /** haproxy's `status: a/b` figures: progress towards DOWN when UP, towards UP when DOWN. */
  get progress(): [number, number] {
    return this.up ? [this.value - this.rise + 1, this.fall] : [this.value, this.rise];
  }

  success(): Transition {
    if (this.value >= this.top) return undefined;
    const wasUp = this.up;
    this.value++;
    if (this.value >= this.rise) this.value = this.top;
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
