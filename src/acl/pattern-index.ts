// Indexed patterns, as haproxy keeps them in trees: a lookup costs what one key does however many
// patterns there are, and add-acl, del-acl, set-map and del-map change one entry in place.
import type { PatternChange, PatternEntry } from "./pattern-ref.js";

/** One pattern filed under its key: who it is (its entry's id) and what it gives. */
interface Filed<X> {
  readonly id: number;
  value: X;
}

/**
 * Patterns by key; those with the same key in one slot, in the order they came, the first
 * answering for all (haproxy gives the first written of equal keys, a network written twice too).
 */
export class Slots<K, X> {
  private readonly map = new Map<K, Filed<X>[]>();

  get size(): number {
    return this.map.size;
  }

  first(key: K): X | undefined {
    const slot = this.map.get(key);
    return slot === undefined ? undefined : slot[0]!.value;
  }

  /** Files a pattern; true when its key is new. */
  add(key: K, id: number, value: X): boolean {
    const slot = this.map.get(key);
    if (slot) slot.push({ id, value });
    else this.map.set(key, [{ id, value }]);
    return slot === undefined;
  }

  /** Takes a pattern out; true when its key has no other. */
  remove(key: K, id: number): boolean {
    const slot = this.map.get(key);
    if (!slot) return false;
    const at = slot.findIndex((f) => f.id === id);
    if (at >= 0) slot.splice(at, 1);
    if (slot.length > 0) return false;
    this.map.delete(key);
    return true;
  }

  revalue(key: K, id: number, value: X): void {
    const f = this.map.get(key)?.find((f) => f.id === id);
    if (f) f.value = value;
  }
}

/** Patterns kept so that one is added, taken out or given another value in place. */
export interface PatternIndex<P, X> {
  /** How a pattern is filed; throws a ConfigError when it cannot be read. */
  keyOf(text: string): P;
  add(key: P, id: number, value: X): void;
  remove(key: P, id: number): void;
  revalue(key: P, id: number, value: X): void;
}

/**
 * Reads what a change brings (throwing a ConfigError when an entry cannot be read, before anything
 * is changed) and returns what files it.
 */
export function prepareChange<P, X>(
  index: PatternIndex<P, X>,
  change: PatternChange,
  valueOf: (e: PatternEntry) => X,
): () => void {
  const added = change.added;
  const addedKey = added && index.keyOf(added.key);
  const addedValue = added && valueOf(added);
  const deleted = change.deleted.map((e) => ({ key: index.keyOf(e.key), id: e.id }));
  const revalued = change.revalued.map((e) => ({ key: index.keyOf(e.key), id: e.id, value: valueOf(e) }));
  return () => {
    for (const d of deleted) index.remove(d.key, d.id);
    for (const r of revalued) index.revalue(r.key, r.id, r.value);
    if (added) index.add(addedKey!, added.id, addedValue!);
  };
}

/** Exact strings (haproxy's `str` tree), folded first (lower-cased) when the case is ignored. */
export class ExactIndex<X> implements PatternIndex<string, X> {
  private readonly slots = new Slots<string, X>();
  constructor(private readonly fold?: (s: string) => string) {}

  keyOf(text: string): string {
    return this.fold ? this.fold(text) : text;
  }

  find(s: string): X | undefined {
    return this.slots.first(this.keyOf(s));
  }

  add(key: string, id: number, value: X): void {
    this.slots.add(key, id, value);
  }

  remove(key: string, id: number): void {
    this.slots.remove(key, id);
  }

  revalue(key: string, id: number, value: X): void {
    this.slots.revalue(key, id, value);
  }
}

/**
 * Prefixes (haproxy's `beg` tree, case sensitive): a table per distinct length, looked up from the
 * longest length down, so the longest prefix of the sample answers.
 */
export class PrefixIndex<X> implements PatternIndex<string, X> {
  private readonly byLen = new Map<number, Slots<string, X>>();
  private lens: number[] = [];

  keyOf(text: string): string {
    return text;
  }

  find(s: string): X | undefined {
    const n = s.length;
    for (const len of this.lens) {
      if (len > n) continue;
      const v = this.byLen.get(len)!.first(len === n ? s : s.slice(0, len));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  add(key: string, id: number, value: X): void {
    const len = key.length;
    let slots = this.byLen.get(len);
    if (!slots) {
      this.byLen.set(len, (slots = new Slots()));
      this.lens = [...this.byLen.keys()].sort((a, b) => b - a);
    }
    slots.add(key, id, value);
  }

  remove(key: string, id: number): void {
    const len = key.length;
    const slots = this.byLen.get(len);
    if (!slots?.remove(key, id) || slots.size > 0) return;
    this.byLen.delete(len);
    this.lens = this.lens.filter((l) => l !== len);
  }

  revalue(key: string, id: number, value: X): void {
    this.byLen.get(key.length)?.revalue(key, id, value);
  }
}
