import { test } from "node:test";
import assert from "node:assert/strict";
import { TimerWheel, type WheelEntry } from "../../src/util/wheel.js";
import { Fifo } from "../../src/util/fifo.js";

function entry(onExpire: () => void): WheelEntry {
  return { deadline: 0, onExpire, wheelNext: null, wheelPrev: null, wheelSlot: -1 };
}

/** Waits (in real time, up to a second) for the wheel's interval to make `cond` true. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 1000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test("entries expire at their deadline, within a tick or two", async () => {
  const w = new TimerWheel();
  const fired: [string, number][] = [];
  const t0 = Date.now();
  const a = entry(() => fired.push(["a", Date.now() - t0]));
  const b = entry(() => fired.push(["b", Date.now() - t0]));
  w.schedule(a, t0 + 120);
  w.schedule(b, t0 + 40);
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(
    fired.map((f) => f[0]),
    ["b", "a"],
  );
  assert.ok(fired[0]![1] >= 40 && fired[0]![1] < 100, String(fired[0]![1]));
  assert.ok(fired[1]![1] >= 120 && fired[1]![1] < 180, String(fired[1]![1]));
  assert.equal(w.size, 0);
});

test("a deadline pushed later is honoured lazily; an earlier one moves the entry; cancel removes it", async () => {
  const w = new TimerWheel();
  const t0 = Date.now();
  let late = -1;
  let early = -1;
  let cancelled = false;
  const a = entry(() => (late = Date.now() - t0));
  const b = entry(() => (early = Date.now() - t0));
  const c = entry(() => (cancelled = true));
  w.schedule(a, t0 + 30);
  w.schedule(a, t0 + 150);
  w.schedule(b, t0 + 5000);
  w.schedule(b, t0 + 60);
  w.schedule(c, t0 + 30);
  w.cancel(c);
  await new Promise((r) => setTimeout(r, 260));
  assert.ok(late >= 150 && late < 220, `late ${late}`);
  assert.ok(early >= 60 && early < 130, `early ${early}`);
  assert.equal(cancelled, false);
  assert.equal(w.size, 0);
});

test("deadlines beyond the wheel's span wait and fire on time", async () => {
  const w = new TimerWheel();
  const e = entry(() => undefined);
  w.schedule(e, Date.now() + 60_000);
  assert.equal(w.size, 1);
  w.cancel(e);
  assert.equal(w.size, 0);
});

test("after a long idle spell the wheel slots a new deadline against the present", async () => {
  let t = 1_000_000;
  const w = new TimerWheel(() => t);
  const a = entry(() => undefined);
  w.schedule(a, t + 20);
  t += 30;
  await until(() => w.size === 0, "a to expire");
  // Idle for a minute, longer than the wheel's 10 s span: its timer is stopped, its clock frozen.
  t += 60_000;
  let firedAt = -1;
  const b = entry(() => (firedAt = w.now));
  w.schedule(b, t + 50);
  assert.equal(w.now, t);
  t += 60;
  await until(() => firedAt >= 0, "b to expire");
  assert.equal(firedAt, t);
});

test("moving the only entry earlier keeps the wheel running", async () => {
  let t = 1_000_000;
  const w = new TimerWheel(() => t);
  let fired = false;
  const e = entry(() => (fired = true));
  w.schedule(e, t + 5000);
  w.schedule(e, t + 20);
  t += 30;
  await until(() => fired, "e to expire");
  assert.equal(w.size, 0);
});

test("an entry cancelled, re-armed or put off by an earlier callback of the same tick does not expire then", async () => {
  let t = 1_000_000;
  const w = new TimerWheel(() => t);
  const fired: string[] = [];
  // Each pair is due in the same tick, and whichever of the two fires first cancels, re-arms (through
  // schedule) or puts off (by writing its deadline, as activity on a session does) the other.
  const pair = (a: string, b: string, act: (other: WheelEntry) => void): void => {
    let acted = false;
    const fire = (name: string, other: WheelEntry): void => {
      fired.push(name);
      if (!acted) act(other);
      acted = true;
    };
    const ea: WheelEntry = entry(() => fire(a, eb));
    const eb: WheelEntry = entry(() => fire(b, ea));
    w.schedule(ea, t + 20);
    w.schedule(eb, t + 20);
  };
  pair("x", "y", (other) => w.cancel(other));
  pair("p", "q", (other) => w.schedule(other, t + 1000));
  pair("r", "s", (other) => (other.deadline = t + 1000));
  const perPair = (): number[] => ["xy", "pq", "rs"].map((ab) => fired.filter((f) => ab.includes(f)).length);
  t += 30;
  await until(() => fired.length > 0, "the tick to pass");
  assert.deepEqual(perPair(), [1, 1, 1], fired.join());
  assert.equal(w.size, 2);
  t += 1000;
  await until(() => w.size === 0, "the re-armed and put-off entries to expire");
  assert.deepEqual(perPair(), [1, 2, 2], fired.join());
});

test("fifo: order, lazy cancel, length", () => {
  const q = new Fifo<{ cancelled: boolean; n: number }>();
  const items = Array.from({ length: 5 }, (_, n) => ({ cancelled: false, n }));
  for (const i of items) q.push(i);
  q.cancel(items[0]!);
  q.cancel(items[2]!);
  assert.equal(q.length, 3);
  assert.equal(q.shift()!.n, 1);
  assert.equal(q.peek()!.n, 3);
  assert.equal(q.shift()!.n, 3);
  assert.equal(q.shift()!.n, 4);
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
});
