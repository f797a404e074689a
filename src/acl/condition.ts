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
  const groups = compileTerms(cond, acls, what, where);
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

/** haproxy's three outcomes of a condition, as bits: FAIL & x = FAIL, PASS | x = PASS. */
export const FAIL = 0;
export const MISS = 1;
export const PASS = 3;
export type Outcome = typeof FAIL | typeof MISS | typeof PASS;

const NEGATED = [PASS, MISS, FAIL, FAIL] as const;

/**
 * Compiles a condition into haproxy's three-valued test, for content inspection (mode tcp): an ACL
 * that fails on a sample that may still change (ctx.inspect says so) is a MISS, which waits for
 * more data; its negation is a MISS too. Without an inspection, only PASS or FAIL. `where` as for
 * compileCondition.
 */
export function compileTriCondition(
  cond: Condition,
  acls: Map<string, AclSpec[]>,
  where?: number,
): (ctx: SampleContext) => Outcome {
  const groups = compileTerms(cond, acls, undefined, where);
  const unless = cond.unless;
  return (ctx) => {
    const insp = ctx.inspect;
    let r: number = FAIL;
    for (const g of groups) {
      let all: number = PASS;
      for (const t of g) {
        if (insp) insp.mayChange = false;
        let v: number = t.acl.match(ctx) ? PASS : insp?.mayChange && !insp.final ? MISS : FAIL;
        if (t.negate) v = NEGATED[v]!;
        all &= v;
      }
      r |= all;
    }
    return (unless ? NEGATED[r]! : r) as Outcome;
  };
}

function compileTerms(
  cond: Condition,
  acls: Map<string, AclSpec[]>,
  what: string | undefined,
  where: number | undefined,
): Term[][] {
  const fail = (msg: string): never => {
    throw new ConfigError(
      what === undefined ? msg : `error detected while parsing an '${what}' condition : ${msg}`,
      cond.where,
    );
  };
  return cond.groups.map((g) =>
    g.map((t): Term => {
      if (t.anon !== undefined) {
        try {
          const acl =
            where === undefined
              ? compileAcl(t.anon)
              : new NamedAcl(usable([t.anon], where).map((s) => compileAcl(s)));
          return { acl, negate: t.negate };
        } catch (e) {
          // A name not found past parsing is haproxy's finding alone, naming no condition.
          if (e instanceof ConfigError && !e.tight) return fail(e.message);
          throw e;
        }
      }
      const acl = resolve(t.name ?? "", acls, where);
      if (acl === undefined) return fail(`no such ACL : '${t.name ?? ""}'.`);
      return { acl, negate: t.negate };
    }),
  );
}

/** Compiles every ACL of a proxy once, so that errors surface at load time as in haproxy. */
export function checkAcls(acls: Map<string, AclSpec[]>, warn?: (msg: string) => void): void {
  for (const [name, specs] of acls) for (const s of specs) compileAcl(s, name, warn);
}
