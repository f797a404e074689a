// The health counter, against what haproxy 2.6 does with the same rise/fall.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Health } from "../../src/check/health.js";

test("a checked server starts UP at exactly `rise`: one failure takes it down (haproxy 2.6 does so)", () => {
  const h = new Health(2, 3, true);
  assert.equal(h.up, true);
  assert.equal(h.counter, 2);
  assert.equal(h.failure(), "down");
  assert.equal(h.up, false);
  assert.equal(h.counter, 0);
});

test("a first success lifts a starting server to the top: then `fall` failures are needed", () => {
  const h = new Health(2, 3, true);
  assert.equal(h.success(), undefined, "already UP: no transition");
  assert.equal(h.counter, 4);
  assert.deepEqual(h.progress, [3, 3]);
  assert.equal(h.failure(), undefined);
  assert.deepEqual(h.progress, [2, 3]);
  assert.equal(h.failure(), undefined);
  assert.equal(h.success(), undefined);
  assert.equal(h.counter, 4, "one success restores the top");
  assert.equal(h.failure(), undefined);
  assert.equal(h.failure(), undefined);
  assert.equal(h.failure(), "down");
  assert.deepEqual(h.progress, [0, 2]);
});

test("a DOWN server needs `rise` successes in a row; a failure on the way resets it", () => {
  const h = new Health(3, 2, false);
  assert.equal(h.success(), undefined);
  assert.equal(h.success(), undefined);
  assert.deepEqual(h.progress, [2, 3]);
  assert.equal(h.failure(), undefined);
  assert.equal(h.counter, 0);
  assert.equal(h.success(), undefined);
  assert.equal(h.success(), undefined);
  assert.equal(h.success(), "up");
  assert.equal(h.counter, 4);
});

test("rise 1 fall 1: every check decides", () => {
  const h = new Health(1, 1, true);
  assert.equal(h.top, 1);
  assert.equal(h.success(), undefined);
  assert.equal(h.failure(), "down");
  assert.equal(h.failure(), undefined);
  assert.equal(h.success(), "up");
});

test("a disabled (not UP) server starts at 0", () => {
  const h = new Health(2, 3, false);
  assert.equal(h.up, false);
  assert.equal(h.counter, 0);
});
