// The stick tables that the expressions being compiled may name. A configuration is first read
// (its expressions parsed for their errors, before any table exists) and then compiled proxy by
// proxy: during that, a fetch or converter finds its table here, a proxy's own when it names none.
import type { StickTable } from "./table.js";

interface Scope {
  tables: ReadonlyMap<string, StickTable>;
  /** The proxy whose expressions these are. */
  proxy: string;
}

let current: Scope | undefined;

/** Runs `compile` (synchronous) with `tables` in reach of the expressions of proxy `proxy`. */
export function withTables<R>(tables: ReadonlyMap<string, StickTable>, proxy: string, compile: () => R): R {
  const before = current;
  current = { tables, proxy };
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
