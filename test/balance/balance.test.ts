import { test } from "node:test";
import assert from "node:assert/strict";
import { addressHash } from "../../src/balance/map.js";

test("source: an address hashes as haproxy's, IPv6 as the XOR of its four words", () => {
  assert.equal(addressHash("127.0.0.1"), 0x7f000001);
  assert.equal(addressHash("255.255.255.255"), 0xffffffff);
  assert.equal(addressHash("::1"), 1);
  assert.equal(addressHash("2001:db8::ff00:42:8329"), (0x20010db8 ^ 0 ^ 0x0000ff00 ^ 0x00428329) >>> 0);
  // An IPv4 client of a dual-stack listener comes as ::ffff:a.b.c.d, hashed as IPv6.
  assert.equal(addressHash("::ffff:127.0.0.1"), (0x0000ffff ^ 0x7f000001) >>> 0);
});
