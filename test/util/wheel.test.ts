import { test } from "node:test";
import assert from "node:assert/strict";
import { TimerWheel, type WheelEntry } from "../../src/util/wheel.js";
import { Fifo } from "../../src/util/fifo.js";

function entry(onExpire: () => void): WheelEntry {
  return { deadline: 0, onExpire, wheelNext: null, wheelPrev: null, wheelSlot: -1 };
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
