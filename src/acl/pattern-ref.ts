// Pattern references: a pattern file as haproxy keeps it once read, named by the file's name as
// written, its entries shared by every ACL (`-f`) and map converter that reads it. The actions
// add-acl, del-acl, set-map and del-map change the entries at run time; each reader then builds
// what it matches with anew, so that a lookup costs what it did in a file never changed.
import { ConfigError } from "../config/errors.js";
import { patternFileLines } from "./pattern.js";

/** One entry: an ACL's pattern (or a map's key) and a map's value, which add-acl leaves undefined. */
export interface PatternEntry {
  key: string;
  value: string | undefined;
  /** Its line in the file; 0 for one added at run time. */
  line: number;
}

/**
 * A reader of a reference: given the entries it is to have, it builds what it matches with, or
 * throws a ConfigError when one of them cannot be read its way; it returns what puts them in use.
 */
export type PatternReader = (entries: readonly PatternEntry[]) => () => void;

export class PatternRef {
  private readonly readers: PatternReader[] = [];
  constructor(
    /** The file's name as written where it was first read. */
    readonly name: string,
    /** Read as a map's: a key and a value per line. */
    readonly twoColumns: boolean,
    private current: PatternEntry[],
  ) {}

  get entries(): readonly PatternEntry[] {
    return this.current;
  }

  /** Registers a reader, which the entries' changes rebuild from then on. */
  read(reader: PatternReader): void {
    this.readers.push(reader);
  }

  /** add-acl: the key, unless some entry has it already. */
  add(key: string): void {
    if (!this.current.some((e) => e.key === key))
      this.change([...this.current, { key, value: undefined, line: 0 }]);
  }

  /** set-map: every entry with that key takes the value; without one, a new entry. */
  set(key: string, value: string): void {
    const has = this.current.filter((e) => e.key === key);
    // A value set again changes nothing: no reader is rebuilt for it.
    if (has.length > 0 && has.every((e) => e.value === value)) return;
    const next =
      has.length > 0
        ? this.current.map((e) => (e.key === key ? { ...e, value } : e))
        : [...this.current, { key, value, line: 0 }];
    this.change(next);
  }

  /** del-acl, del-map: every entry with that key. */
  delete(key: string): void {
    const next = this.current.filter((e) => e.key !== key);
    if (next.length !== this.current.length) this.change(next);
  }

  /** As haproxy: an entry that one reader cannot read changes nothing, for none of them. */
  private change(next: PatternEntry[]): void {
    let commits: (() => void)[];
    try {
      commits = this.readers.map((r) => r(next));
    } catch (e) {
      if (e instanceof ConfigError) return;
      throw e;
    }
    this.current = next;
    for (const commit of commits) commit();
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
    if (!twoColumns) return { key: text, value: undefined, line };
    // The key, then the value without the blanks around it.
    const m = /^([^ \t]*)[ \t]*(.*?)[ \t]*$/.exec(text)!;
    return { key: m[1]!, value: m[2]!, line };
  });
  const ref = new PatternRef(path, twoColumns, entries);
  refs?.set(path, ref);
  return ref;
}
