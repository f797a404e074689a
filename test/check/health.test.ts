import { test } from "node:test";
import assert from "node:assert/strict";
import { Health } from "../../src/check/health.js";

test("a checked server starts UP at exactly `rise`: one failure takes it down (haproxy 2.6 does so)", () => {
  const h = new Health(2, 3, true);
  assert.equal(h.up, true);
  assert.equal(h.failure(), "down");
  assert.equal(h.up, false);
});

test("a running server needs `fall` failures in a row; one success restores it fully", () => {
  const h = new Health(2, 3, true);
  h.success(); // to the top: rise + fall - 1 = 4
  assert.equal(h.counter, 4);
  assert.equal(h.failure(), undefined);
  assert.equal(h.failure(), undefined);
  assert.equal(h.success(), undefined);
  assert.equal(h.counter, 4, "back to the top");
  assert.equal(h.failure(), undefined);
  assert.equal(h.failure(), undefined);
  assert.equal(h.failure(), "down");
  assert.equal(h.counter, 0);
});

test("a DOWN server needs `rise` successes in a row; a failure on the way resets it", () => {
  const h = new Health(3, 2, false);
  assert.equal(h.success(), undefined);
  assert.equal(h.success(), undefined);
  assert.equal(h.failure(), undefined);
  assert.equal(h.counter, 0);
  assert.equal(h.success(), undefined);
  assert.equal(h.success(), undefined);
  assert.equal(h.transitional, true);
  assert.equal(h.success(), "up");
  assert.equal(h.counter, 4);
  assert.equal(h.transitional, false);
});
