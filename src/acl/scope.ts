// What the expressions being compiled may name: stick tables and userlists. A configuration is first
// read (its expressions parsed for their errors, before any table exists) and then compiled proxy by
// proxy: during that, a fetch or converter finds its table (a proxy's own when it names none) or its
// userlist here.
import type { StickTable } from "../stick/table.js";
import type { Userlist } from "../config/model.js";

export interface Names {
  tables: ReadonlyMap<string, StickTable>;
  userlists: ReadonlyMap<string, Userlist>;
}

interface Scope extends Names {
  /** The proxy whose expressions these are. */
  proxy: string;
}

let current: Scope | undefined;

/** Runs `compile` (synchronous) with `names` in reach of the expressions of proxy `proxy`. */
export function withScope<R>(names: Names, proxy: string, compile: () => R): R {
  const before = current;
  current = { ...names, proxy };
  try {
    return compile();
  } finally {
    current = before;
  }
}

/**
 * The table named `name` (the proxy's own when empty or undefined): undefined while the
 * configuration is only being read, and haproxy's refusal when there is no such table.
 */
export function findTable(
  name: string | undefined,
  argPos: number,
  keyword: string,
): StickTable | undefined | { error: string } {
  if (!current) return undefined;
  const id = name || current.proxy;
  const t = current.tables.get(id);
  if (t) return t;
  return {
    error: `unable to find table '${id}' referenced in arg ${argPos} of ACL keyword '${keyword}' in proxy '${current.proxy}'.`,
  };
}

/** The userlist named `name` (argument 1 of `keyword`): as findTable. */
export function findUserlist(name: string, keyword: string): Userlist | undefined | { error: string } {
  if (!current) return undefined;
  const where = `arg 1 of ACL keyword '${keyword}' in proxy '${current.proxy}'.`;
  if (name === "") return { error: `missing userlist name in ${where}` };
  return current.userlists.get(name) ?? { error: `unable to find userlist '${name}' referenced in ${where}` };
}
