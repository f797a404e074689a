// The queues' order against a model of haproxy 2.6's own: 32-bit keys, the class in the top 12 bits
// and the entry time plus offset in the low 20, read from a boundary 2^19 ms before now.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PendingQueue, servedFirst, type Pending } from "../../src/proxy/queue.js";
import { IndexedHeap } from "../../src/util/indexed-heap.js";
import { prng } from "../helpers/prng.js";

interface Entry extends Pending {
  id: number;
  /** The model's: haproxy's key, and the order it entered. */
  key: number;
  entered: number;
}

const entry = (id: number, priorityClass: number, priorityOffset: number): Entry => ({
  id,
  priorityClass,
  priorityOffset,
  cancelled: false,
  at: 0,
  seq: 0,
  heapIndex: -1,
  key: 0,
  entered: 0,
});

/** haproxy's key of a request entering at `now` (pendconn_add). */
const makeKey = (e: Entry, now: number): number =>
  (((e.priorityClass + 0x7ff) << 20) >>> 0) + ((now + e.priorityOffset) & 0xfffff);

const boundary = (now: number): number => (now - 2 ** 19) & 0xfffff;

/** Where a key's time ranks at `now`: behind the boundary, it counts as 2^20 later. */
const keyRank = (key: number, now: number): number => {
  const t = key & 0xfffff;
  return t < boundary(now) ? t + 0x100000 : t;
};

/** haproxy's first entry of a queue (pendconn_first): the lowest class, then from the boundary on, wrapping. */
function modelFirst(live: Entry[], now: number): Entry | undefined {
  let best: Entry | undefined;
  for (const e of live) {
    if (best === undefined) {
      best = e;
      continue;
    }
    const [ce, cb] = [e.key >>> 20, best.key >>> 20];
    if (ce !== cb) {
      if (ce < cb) best = e;
      continue;
    }
    const [re, rb] = [keyRank(e.key, now), keyRank(best.key, now)];
    if (re < rb || (re === rb && e.entered < best.entered)) best = e;
  }
  return best;
}

/** haproxy's choice between a server's first entry and its backend's: the server's on a tie. */
const modelServerFirst = (a: Entry, b: Entry, now: number): boolean =>
  a.key >>> 20 !== b.key >>> 20 ? a.key >>> 20 < b.key >>> 20 : keyRank(a.key, now) <= keyRank(b.key, now);

test("a queue serves by class, then entry time plus offset, as haproxy's keys do: a time behind the boundary reads later", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = prng(seed);
    const queues = [new PendingQueue<Entry>(), new PendingQueue<Entry>()];
    const live: Entry[][] = [[], []];
    // Times span at most 900 s: haproxy's keys then still say what its manual says they do.
    const start = 1_000_000 + rnd(1 << 20);
    let now = start;
    let id = 0;
    const offsets = [0, 0, 0, -524287, 524287, -1000, 1000, -300000];
    for (let step = 0; step < 400; step++) {
      now = Math.min(now + (rnd(4) === 0 ? rnd(9000) : 0), start + 900_000);
      const q = rnd(2);
      // The queues fill, then empty: some entries wait long enough to fall behind the window.
      const op = rnd(10) + (step < 200 ? -2 : 2);
      if (op < 5) {
        const cls = rnd(3) === 0 ? rnd(5) - 2 : 0;
        const off = rnd(3) === 0 ? offsets[rnd(offsets.length)]! : 0;
        const e = entry(id++, cls, off);
        e.key = makeKey(e, now);
        e.entered = id;
        queues[q]!.push(e, now);
        live[q]!.push(e);
      } else if (op < 6 && live[q]!.length > 0) {
        const e = live[q]!.splice(rnd(live[q]!.length), 1)[0]!;
        queues[q]!.cancel(e);
        assert.ok(e.cancelled);
      } else {
        const want = modelFirst(live[q]!, now);
        assert.equal(queues[q]!.peek(now)?.id, want?.id, `seed ${seed}, step ${step}: peek`);
        const got = queues[q]!.shift(now);
        assert.equal(got?.id, want?.id, `seed ${seed}, step ${step}: shift`);
        if (want) live[q]!.splice(live[q]!.indexOf(want), 1);
      }
      assert.equal(queues[q]!.length, live[q]!.length);
      const [a, b] = [modelFirst(live[0]!, now), modelFirst(live[1]!, now)];
      if (a && b)
        assert.equal(servedFirst(a, b, now), modelServerFirst(a, b, now), `seed ${seed}, step ${step}`);
    }
    assert.ok(id > 100);
  }
});

test("a request without priority that waited past the boundary is served after one of its class that came since", () => {
  const q = new PendingQueue<Entry>();
  const [old, young, other] = [entry(0, 0, 0), entry(1, 0, 0), entry(2, -1, 0)];
  q.push(old, 0);
  q.push(other, 0);
  q.push(young, 600_000);
  assert.equal(q.peek(524_288), other);
  q.cancel(other);
  assert.equal(q.peek(524_288), old, "the oldest, still within the window");
  assert.equal(q.shift(600_000), young);
  assert.equal(q.shift(600_000), old);
});

test("a queue counts what it serves; takeAll leaves the kept ones, and gives the others in queue order", () => {
  const q = new PendingQueue<Entry>();
  const [a, b, c, d, e] = [entry(0, 0, 0), entry(1, 1, 0), entry(2, 0, -50), entry(3, -1, 0), entry(4, 0, 0)];
  for (const x of [a, b, c, d, e]) q.push(x, 1000);
  assert.equal(q.length, 5);
  assert.equal(q.shift(1000), d);
  assert.equal(q.taken, 1);
  const out = q.takeAll((x) => x === a || x === b);
  assert.deepEqual(
    out.map((x) => x.id),
    [2, 4],
  );
  assert.ok(out.every((x) => x.cancelled));
  assert.equal(q.taken, 1);
  assert.equal(q.length, 2);
  assert.equal(q.shift(1000), a);
  assert.equal(q.shift(1000), b);
  assert.equal(q.shift(1000), undefined);
  assert.equal(q.taken, 3);
});

test("an indexed heap takes any entry out and keeps its order", () => {
  const rnd = prng(7);
  const heap = new IndexedHeap<{ heapIndex: number; v: number }>((x, y) => x.v < y.v);
  const model: { heapIndex: number; v: number }[] = [];
  for (let i = 0; i < 2000; i++) {
    const op = rnd(3);
    if (op === 0 || model.length === 0) {
      const e = { heapIndex: -1, v: rnd(100) };
      heap.push(e);
      model.push(e);
    } else if (op === 1) {
      const e = model.splice(rnd(model.length), 1)[0]!;
      assert.ok(heap.remove(e));
      assert.ok(!heap.remove(e), "an entry out of the heap is not taken out twice");
    } else {
      const min = Math.min(...model.map((e) => e.v));
      const top = heap.pop()!;
      assert.equal(top.v, min);
      model.splice(model.indexOf(top), 1);
    }
    assert.equal(heap.size, model.length);
  }
  const kept = heap.removeAll((e) => e.v % 2 === 0);
  assert.ok(kept.every((e) => e.v % 2 === 1 && e.heapIndex === -1));
  let last = -1;
  for (let e = heap.pop(); e; e = heap.pop()) {
    assert.ok(e.v % 2 === 0 && e.v >= last);
    last = e.v;
  }
});
