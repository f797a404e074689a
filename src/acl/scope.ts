// What the expressions being compiled may name: stick tables, userlists, proxies and servers. A
// configuration is first read (its expressions parsed for their errors, before any table exists) and
// then compiled proxy by proxy: during that, a fetch or converter finds what it names here.
import type { StickTable } from "../stick/table.js";
import type { Proxy, Userlist } from "../config/model.js";
import type { Arg } from "./args.js";

export interface Names {
  tables: ReadonlyMap<string, StickTable>;
  userlists: ReadonlyMap<string, Userlist>;
  proxies: readonly Proxy[];
}

interface Scope extends Names {
  /** The proxy whose expressions these are. */
  proxy: string;
  /**
   * Set for the rules of a named defaults section: the section, whose only side is that of the
   * proxies using it. haproxy wants a name where a proxy's expression may default to its own.
   */
  defaults?: { holder: Proxy; side: "frontend" | "backend"; runIn: string };
}

let current: Scope | undefined;

/** The argument, as haproxy names it in its refusals. */
const argOf = (keyword: string, proxy: string, argPos = 1): string =>
  `arg ${argPos} of ACL keyword '${keyword}' in proxy '${proxy}'`;

const referencedIn = (keyword: string, proxy: string, argPos = 1): string =>
  `referenced in ${argOf(keyword, proxy, argPos)}`;

/** Runs `compile` (synchronous) in `scope`, then restores the one before. */
function within<R>(scope: Scope, compile: () => R): R {
  const before = current;
  current = scope;
  try {
    return compile();
  } finally {
    current = before;
  }
}

/** Runs `compile` (synchronous) with `names` in reach of the expressions of proxy `proxy`. */
export const withScope = <R>(names: Names, proxy: string, compile: () => R): R =>
  within({ ...names, proxy }, compile);

/**
 * Runs `compile` (synchronous) for the rules of the named defaults section `holder`, used by
 * proxies of `side`: its expressions are the section's, as haproxy resolves them.
 */
export function inDefaults<R>(holder: Proxy, side: "frontend" | "backend", compile: () => R): R {
  if (!current) return compile();
  return within(
    { ...current, proxy: holder.name, defaults: { holder, side, runIn: current.proxy } },
    compile,
  );
}

/**
 * The proxy a state fetch without argument reads: the expression's own, and for a named defaults
 * section's rule the proxy running it, as haproxy reads it.
 */
export const ownProxy = (): string | undefined => current?.defaults?.runIn ?? current?.proxy;

/** The proxy whose expressions are being compiled. */
export const currentProxy = (): string | undefined => current?.proxy;

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
  if (!name && current.defaults)
    return { error: `table name must be set in ${argOf(keyword, current.proxy, argPos)}.` };
  const id = name || current.proxy;
  const t = current.tables.get(id);
  if (t) return t;
  return { error: `unable to find table '${id}' ${referencedIn(keyword, current.proxy, argPos)}.` };
}

/** The userlist named `name` (argument 1 of `keyword`): as findTable. */
export function findUserlist(name: string, keyword: string): Userlist | undefined | { error: string } {
  if (!current) return undefined;
  if (name === "") return { error: `missing userlist name in ${argOf(keyword, current.proxy)}.` };
  const list = current.userlists.get(name);
  return list ?? { error: `unable to find userlist '${name}' ${referencedIn(keyword, current.proxy)}.` };
}

const hasSide = (p: Proxy, side: "backend" | "frontend"): boolean =>
  side === "frontend" ? p.kind !== "backend" : p.kind !== "frontend";

/**
 * The backend (or frontend) a state fetch reads: the one named, else the proxy whose expression it
 * is, which must then be one; haproxy's refusal when there is none.
 */
export function findProxy(
  name: string,
  side: "backend" | "frontend",
  keyword: string,
): Proxy | undefined | { error: string } {
  if (!current) return undefined;
  const own = current.proxy;
  const where = referencedIn(keyword, own);
  if (!name && current.defaults) {
    if (current.defaults.side === side) return current.defaults.holder;
    return { error: `proxy '${own}', ${where}, has not ${side} capability.` };
  }
  const px = current.proxies.find((p) => p.name === (name || own) && hasSide(p, side));
  if (px) return px;
  if (name === "") return { error: `proxy '${own}', ${where}, has not ${side} capability.` };
  return { error: `unable to find ${side} '${name}' ${where}.` };
}

/** haproxy's refusal of a proxy argument (a fetch's first) that names no proxy of that side. */
export function proxyError(
  args: readonly Arg[],
  side: "backend" | "frontend",
  keyword: string,
): string | undefined {
  const px = findProxy(String(args[0] ?? ""), side, keyword);
  return px && "error" in px ? px.error : undefined;
}

/** The server `[<backend>/]<server>` names (in the proxy of the expression when no backend is given). */
export function findServer(
  arg: string,
  keyword: string,
): { backend: string; server: string } | undefined | { error: string } {
  if (!current) return undefined;
  const own = current.proxy;
  const where = referencedIn(keyword, own);
  const slash = arg.indexOf("/");
  const backend = slash < 0 ? own : arg.slice(0, slash);
  const server = arg.slice(slash + 1);
  if (server === "") return { error: `missing server name in ${argOf(keyword, own)}.` };
  if (slash < 0 && current.defaults) return { error: `backend name must be set in ${argOf(keyword, own)}.` };
  const px = current.proxies.find((p) => p.name === backend && hasSide(p, "backend"));
  if (!px && slash >= 0) return { error: `unable to find proxy '${backend}' ${where}.` };
  if (!px?.servers.some((s) => s.name === server))
    return { error: `unable to find server '${server}' in proxy '${backend}', ${where}.` };
  return { backend, server };
}
