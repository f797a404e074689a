import { test } from "node:test";
import assert from "node:assert/strict";
import { LinkedList, type ListEntry } from "../../src/util/linked-list.js";

interface Named extends ListEntry {
  name: string;
}
const entry = (name: string): Named => ({ name, list: null, listPrev: null, listNext: null });
const names = (l: LinkedList<Named>): string[] => l.toArray().map((e) => e.name);

test("entries leave from anywhere, the others keep their order, and one list's entry is no other's", () => {
  const a = new LinkedList<Named>();
  const b = new LinkedList<Named>();
  const [e1, e2, e3, e4] = ["1", "2", "3", "4"].map(entry) as [Named, Named, Named, Named];
  for (const e of [e1, e2, e3, e4]) a.add(e);
  assert.deepEqual(names(a), ["1", "2", "3", "4"]);
  a.delete(e2);
  assert.deepEqual(names(a), ["1", "3", "4"]);
  a.delete(e1);
  a.delete(e4);
  assert.deepEqual(names(a), ["3"]);
  assert.equal(a.size, 1);
  // Not on the list (any more, or another's): nothing changes.
  a.delete(e1);
  b.add(e1);
  a.delete(e1);
  assert.deepEqual(names(a), ["3"]);
  assert.deepEqual(names(b), ["1"]);
  a.delete(e3);
  assert.equal(a.size, 0);
  assert.deepEqual(names(a), []);
  // Emptied, it fills again from its start.
  a.add(e2);
  a.add(e3);
  assert.deepEqual(names(a), ["2", "3"]);
});
