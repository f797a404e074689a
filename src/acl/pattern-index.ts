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

  add(key: K, id: number, value: X): void {
    const slot = this.map.get(key);
    if (slot) slot.push({ id, value });
    else this.map.set(key, [{ id, value }]);
  }

  /** Takes a pattern out; true when it was there. */
  remove(key: K, id: number): boolean {
    const slot = this.map.get(key);
    const at = slot ? slot.findIndex((f) => f.id === id) : -1;
    if (at < 0) return false;
    slot!.splice(at, 1);
    if (slot!.length === 0) this.map.delete(key);
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

/** Tables of patterns by a length (a prefix's, a network's), the longest length first. */
export class ByLength<K, X> {
  private readonly byLen = new Map<number, Slots<K, X>>();
  /** The tables in use, the longest length first. */
  tables: { readonly len: number; readonly slots: Slots<K, X> }[] = [];

  at(len: number): Slots<K, X> | undefined {
    return this.byLen.get(len);
  }

  add(len: number, key: K, id: number, value: X): void {
    let slots = this.byLen.get(len);
    if (!slots) {
      this.byLen.set(len, (slots = new Slots()));
      this.tables = [...this.tables, { len, slots }].sort((a, b) => b.len - a.len);
    }
    slots.add(key, id, value);
  }

  /** Takes a pattern out; true when it was there. */
  remove(len: number, key: K, id: number): boolean {
    const slots = this.byLen.get(len);
    if (!slots?.remove(key, id)) return false;
    if (slots.size === 0) {
      this.byLen.delete(len);
      this.tables = this.tables.filter((t) => t.len !== len);
    }
    return true;
  }
}

/**
 * Prefixes (haproxy's `beg` tree, case sensitive), by length, looked up from the longest length
 * down, so that the longest prefix of the sample answers.
 */
export class PrefixIndex<X> implements PatternIndex<string, X> {
  private readonly byLen = new ByLength<string, X>();

  keyOf(text: string): string {
    return text;
  }

  find(s: string): X | undefined {
    const n = s.length;
    for (const { len, slots } of this.byLen.tables) {
      if (len > n) continue;
      const v = slots.first(len === n ? s : s.slice(0, len));
      if (v !== undefined) return v;
    }
    return undefined;
  }

  add(key: string, id: number, value: X): void {
    this.byLen.add(key.length, key, id, value);
  }

  remove(key: string, id: number): void {
    this.byLen.remove(key.length, key, id);
  }

  revalue(key: string, id: number, value: X): void {
    this.byLen.at(key.length)?.revalue(key, id, value);
  }
}
