import { test } from "node:test";
import assert from "node:assert/strict";
import { RoundRobin } from "../../src/balance/roundrobin.js";
import { LeastConn } from "../../src/balance/leastconn.js";
import { First } from "../../src/balance/first.js";

const srv = (name: string, weight: number, cur = 0) => ({ name, weight, cur });

test("roundrobin: each server gets its weight's share, interleaved", () => {
  const rr = new RoundRobin<ReturnType<typeof srv>>();
  const s = [srv("a", 1), srv("b", 3)];
  const picks = Array.from({ length: 8 }, () => rr.pick(s)!.name).join("");
  assert.equal(picks.replace(/b/g, "").length, 2);
  assert.doesNotMatch(picks, /aa/);
  const w = [srv("x", 10), srv("y", 10)];
  const even = Array.from({ length: 6 }, () => rr.pick(w)!.name).join("");
  assert.equal(even, "xyxyxy");
  assert.equal(rr.pick([]), undefined);
});

test("leastconn: fewest connections per weight; ties rotate", () => {
  const lc = new LeastConn<ReturnType<typeof srv>>();
  const s = [srv("a", 1, 2), srv("b", 3, 3)];
  assert.equal(lc.pick(s)!.name, "b");
  const t = [srv("a", 1, 0), srv("b", 1, 0)];
  const names = new Set([lc.pick(t)!.name, lc.pick(t)!.name]);
  assert.deepEqual([...names].sort(), ["a", "b"]);
});

test("first: the first offered server", () => {
  const f = new First<ReturnType<typeof srv>>();
  assert.equal(f.pick([srv("a", 1), srv("b", 1)])!.name, "a");
});
