// The time as haproxy reads it: once per round of events (its now_ms), not at every use. A request
// asks for the time some ten times between the read that brings it and the writes it causes, and
// Date.now() is a call into V8's runtime (about 80 ns here). While the event loop runs one of
// tcp-socket.ts's callbacks, the clock is read at its first use and that reading serves the rest of
// the callback; anywhere else, now() is Date.now().

let held = false;
let reading = 0;

/** Milliseconds since the epoch: the callback's reading while one holds the clock. */
export function now(): number {
  if (!held) return Date.now();
  if (reading === 0) reading = Date.now();
  return reading;
}

/** A callback of the event loop starts: one reading serves it (tcp-socket.ts releases at the outermost's end). */
export function holdClock(): void {
  held = true;
}

/** The callback that held the clock ends: the reading goes. */
export function releaseClock(): void {
  held = false;
  reading = 0;
}
