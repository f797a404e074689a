// Conditions: `if|unless` followed by terms, ANDed, in groups separated by `||` (or `or`), ORed.
import { ConfigError } from "../config/errors.js";
import type { AclSpec, Condition } from "../config/model.js";
import { Acl, compileAcl } from "./acl.js";
import type { SampleContext } from "./context.js";
import { predefinedAcl } from "./predefined.js";
import { keyword, usableAt } from "./place.js";

/** A named ACL: several `acl` lines with the same name are ORed. */
class NamedAcl {
  constructor(readonly lines: Acl[]) {}
  match(ctx: SampleContext): boolean {
    for (const a of this.lines) if (a.match(ctx)) return true;
    return false;
  }
}

type Term = { acl: { match(ctx: SampleContext): boolean }; negate: boolean };

const perMap = new WeakMap<Map<string, AclSpec[]>, Map<string, NamedAcl>>();
const predefined = new Map<string, NamedAcl>();

/**
 * The lines of an ACL whose fetch yields a sample at `where` (placeBits; all when undefined): the
 * others never match there, as in haproxy, whose fetch finds nothing (no request on a connection).
 */
const usable = (specs: AclSpec[], where: number | undefined): AclSpec[] =>
  where === undefined ? specs : specs.filter((s) => usableAt(keyword(s), where));

/** Looks a name up among the proxy's ACLs first, then the predefined ones; compiles each once. */
function resolve(
  name: string,
  acls: Map<string, AclSpec[]>,
  where: number | undefined,
): NamedAcl | undefined {
  let cache = perMap.get(acls);
  if (cache === undefined) {
    cache = new Map();
    perMap.set(acls, cache);
  }
  const key = where === undefined ? name : `${name}@${where}`;
  let n = cache.get(key);
  if (n !== undefined) return n;
  const specs = acls.get(name);
  if (specs !== undefined && specs.length > 0) {
    n = new NamedAcl(usable(specs, where).map((s) => compileAcl(s, name)));
    cache.set(key, n);
    return n;
  }
  n = predefined.get(key);
  if (n === undefined) {
    const spec = predefinedAcl(name);
    if (spec === undefined) return undefined;
    n = new NamedAcl(usable([spec], where).map((s) => compileAcl(s, name)));
    predefined.set(key, n);
  }
  return n;
}

/**
 * Compiles a condition into a test. `what` (e.g. "http-request deny"), when given, prefixes errors
 * the way haproxy does: "error detected while parsing an 'http-request deny' condition : ...".
 * With `where` (placeBits), the ACL lines whose sample does not exist there never match.
 */
export function compileCondition(
  cond: Condition,
  acls: Map<string, AclSpec[]>,
  what?: string,
  where?: number,
): (ctx: SampleContext) => boolean {
  const fail = (msg: string): never => {
    throw new ConfigError(
      what === undefined ? msg : `error detected while parsing an '${what}' condition : ${msg}`,
      cond.where,
    );
  };
  const groups: Term[][] = cond.groups.map((g) =>
    g.map((t): Term => {
      if (t.anon !== undefined) {
        try {
          const acl =
            where === undefined
              ? compileAcl(t.anon)
              : new NamedAcl(usable([t.anon], where).map((s) => compileAcl(s)));
          return { acl, negate: t.negate };
        } catch (e) {
          if (e instanceof ConfigError) return fail(e.message);
          throw e;
        }
      }
      const acl = resolve(t.name ?? "", acls, where);
      if (acl === undefined) return fail(`no such ACL : '${t.name ?? ""}'.`);
      return { acl, negate: t.negate };
    }),
  );
  const unless = cond.unless;
  return (ctx) => {
    let r = false;
    for (let gi = 0; gi < groups.length && !r; gi++) {
      const g = groups[gi]!;
      let all = true;
      for (let ti = 0; ti < g.length; ti++) {
        const t = g[ti]!;
        if (t.acl.match(ctx) === t.negate) {
          all = false;
          break;
        }
      }
      r = all;
    }
    return unless ? !r : r;
  };
}

/** Compiles every ACL of a proxy once, so that errors surface at load time as in haproxy. */
export function checkAcls(acls: Map<string, AclSpec[]>, warn?: (msg: string) => void): void {
  for (const [name, specs] of acls) for (const s of specs) compileAcl(s, name, warn);
}
