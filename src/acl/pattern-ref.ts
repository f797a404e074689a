// Pattern references: a pattern file as haproxy keeps it once read, named by the file's name as
// written, its entries shared by every ACL (`-f`) and map converter that reads it. The actions
// add-acl, del-acl, set-map and del-map change the entries at run time; each reader then applies
// the change: in place where it indexes its patterns as haproxy does (addresses, exact strings,
// prefixes), else by building what it matches with anew.
import { ConfigError } from "../config/errors.js";
import { patternFileLines } from "./pattern.js";

/** One entry: an ACL's pattern (or a map's key) and a map's value, which add-acl leaves undefined. */
export interface PatternEntry {
  /** Who it is, kept when set-map gives it another value. */
  readonly id: number;
  readonly key: string;
  readonly value: string | undefined;
  /** Its line in the file; 0 for one added at run time. */
  readonly line: number;
}

let lastId = 0;

/** An identity no other entry or written pattern has. */
export const nextPatternId = (): number => ++lastId;

/** One change of a reference's entries, as its readers see it before it is made. */
export interface PatternChange {
  /** A new entry, after all the others. */
  readonly added: PatternEntry | undefined;
  readonly deleted: readonly PatternEntry[];
  /** Entries with another value (the same id, key and line). */
  readonly revalued: readonly PatternEntry[];
  /** How many entries there are after it. */
  readonly size: number;
  /** The entries after it, in the file's order (built when asked for). */
  after(): readonly PatternEntry[];
}

/**
 * A reader of a reference: given a change, it prepares what it matches with, or throws a
 * ConfigError when an entry cannot be read its way; it returns what puts the change in use.
 */
export type PatternReader = (change: PatternChange) => () => void;

export class PatternRef {
  private readonly readers: PatternReader[] = [];
  /** The entries by id, in the file's order (a Map keeps a replaced value's place). */
  private readonly byId = new Map<number, PatternEntry>();
  private readonly byKey = new Map<string, number[]>();
  constructor(
    /** The file's name as written where it was first read. */
    readonly name: string,
    /** Read as a map's: a key and a value per line. */
    readonly twoColumns: boolean,
    entries: PatternEntry[],
  ) {
    for (const e of entries) this.put(e);
  }

  get entries(): readonly PatternEntry[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** Registers a reader, to which the entries' changes go from then on. */
  read(reader: PatternReader): void {
    this.readers.push(reader);
  }

  /** add-acl: the key, unless some entry has it already. */
  add(key: string): void {
    if (!this.byKey.has(key)) this.change({ id: nextPatternId(), key, value: undefined, line: 0 }, [], []);
  }

  /**
   * set-map: every entry with that key takes the value; without one, a new entry. One that add-acl
   * put there takes none: haproxy's maps keep giving 1 for it.
   */
  set(key: string, value: string): void {
    const ids = this.byKey.get(key);
    if (!ids) return this.change({ id: nextPatternId(), key, value, line: 0 }, [], []);
    // A value set again changes nothing: no reader hears of it.
    const has = ids.map((id) => this.byId.get(id)!).filter((e) => e.value !== undefined && e.value !== value);
    if (has.length > 0)
      this.change(
        undefined,
        [],
        has.map((e) => ({ ...e, value })),
      );
  }

  /** del-acl, del-map: every entry with that key. */
  delete(key: string): void {
    const ids = this.byKey.get(key);
    if (ids)
      this.change(
        undefined,
        ids.map((id) => this.byId.get(id)!),
        [],
      );
  }

  private put(e: PatternEntry): void {
    this.byId.set(e.id, e);
    const ids = this.byKey.get(e.key);
    if (ids) ids.push(e.id);
    else this.byKey.set(e.key, [e.id]);
  }

  /** As haproxy: an entry that one reader cannot read changes nothing, for none of them. */
  private change(added: PatternEntry | undefined, deleted: PatternEntry[], revalued: PatternEntry[]): void {
    let after: PatternEntry[] | undefined;
    const change: PatternChange = {
      added,
      deleted,
      revalued,
      size: this.byId.size - deleted.length + (added ? 1 : 0),
      after: () => (after ??= this.after(change)),
    };
    let commits: (() => void)[];
    try {
      commits = this.readers.map((r) => r(change));
    } catch (e) {
      if (e instanceof ConfigError) return;
      throw e;
    }
    for (const e of deleted) this.byId.delete(e.id);
    if (deleted.length > 0) this.byKey.delete(deleted[0]!.key);
    for (const e of revalued) this.byId.set(e.id, e);
    if (added) this.put(added);
    for (const commit of commits) commit();
  }

  private after(change: PatternChange): PatternEntry[] {
    const gone = new Set(change.deleted.map((e) => e.id));
    const next = new Map(change.revalued.map((e) => [e.id, e]));
    const out: PatternEntry[] = [];
    for (const e of this.byId.values()) if (!gone.has(e.id)) out.push(next.get(e.id) ?? e);
    if (change.added) out.push(change.added);
    return out;
  }
}

/** The references of the configuration being read or compiled, by name. */
export type PatternRefs = Map<string, PatternRef>;

let refs: PatternRefs | undefined;

/**
 * Runs `compile` (synchronous) with a set of references of its own: a file is read once in it, and
 * its readers share it.
 */
export function withPatternRefs<R>(compile: () => R): R {
  const before = refs;
  refs = new Map();
  try {
    return compile();
  } finally {
    refs = before;
  }
}

/** The references in reach: those of the set being filled, or a set of their own. */
export const patternRefs = (): PatternRefs => refs ?? new Map();

const columns = (two: boolean): string => (two ? "two column" : "one column");

/**
 * The reference of file `path`, read now if it was not yet (haproxy's message when it cannot be);
 * one read with the other number of columns is refused, as haproxy does.
 */
export function patternRef(path: string, twoColumns: boolean): PatternRef {
  const known = refs?.get(path);
  if (known) {
    if (known.twoColumns !== twoColumns)
      throw new ConfigError(
        `The file "${path}" is already used as ${columns(known.twoColumns)} file and cannot be used by as ${columns(twoColumns)} file.`,
      );
    return known;
  }
  const lines = patternFileLines(path);
  if (!lines) throw new ConfigError(`failed to open pattern file <${path}>`);
  const entries = lines.map(({ text, line }) => {
    if (!twoColumns) return { id: nextPatternId(), key: text, value: undefined, line };
    // The key, then the value without the blanks around it.
    const m = /^([^ \t]*)[ \t]*(.*?)[ \t]*$/.exec(text)!;
    return { id: nextPatternId(), key: m[1]!, value: m[2]!, line };
  });
  const ref = new PatternRef(path, twoColumns, entries);
  refs?.set(path, ref);
  return ref;
}
