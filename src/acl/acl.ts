// One ACL statement: `FETCH [flags] [operator] [patterns]` compiled into a fetch and a matcher.
import { ConfigError } from "../config/errors.js";
import type { AclSpec } from "../config/model.js";
import type { SampleContext } from "./context.js";
import { parseFetch, type FetchImpl, type MatchName } from "./fetch.js";
import { isIndexed, type IdPattern, type Matcher } from "./match.js";
import { MATCH_NAMES, buildMatcher } from "./pattern.js";
import { prepareChange } from "./pattern-index.js";
import { nextPatternId, patternRef, type PatternEntry, type PatternRef } from "./pattern-ref.js";
import { Sample, T } from "./sample.js";
import { currentProxy } from "./scope.js";

export class Acl {
  /** Scratch sample reused for every evaluation (evaluation is synchronous). */
  private readonly smp = new Sample();
  constructor(
    private readonly fetch: FetchImpl,
    private matcher: Matcher,
    /** false when there is no pattern (the ACL never matches, as haproxy warns). */
    private live: boolean,
  ) {}

  /** What a change of its pattern files (add-acl, del-acl...) makes it match with. */
  use(matcher: Matcher, live: boolean): void {
    this.matcher = matcher;
    this.live = live;
  }

  /** True when some value the fetch yields matches some pattern; an absent sample never matches. */
  match(ctx: SampleContext): boolean {
    if (!this.live) return false;
    const smp = this.smp;
    if (!this.fetch.first(ctx, smp)) return false;
    do if (this.matcher.match(smp)) return true;
    while (this.fetch.next(ctx, smp));
    return false;
  }
}

/** Which match methods a sample type accepts (haproxy refuses e.g. `method -m int`). */
function compatible(out: T, how: MatchName): boolean {
  if (out === T.Meth || out === T.Bin) return how !== "int" && how !== "bool" && how !== "ip";
  return out !== T.Bool || how !== "ip";
}

/**
 * The reference of a `-f` file, with haproxy's words when it cannot be had: one pattern per line,
 * or with `-M` a map's key.
 */
function fileRef(path: string, twoColumns: boolean, spec: AclSpec): PatternRef {
  try {
    return patternRef(path, twoColumns);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ConfigError(`${e.message}.`, spec.where);
  }
}

/**
 * Compiles one ACL line. `name`, when given, prefixes errors as haproxy does
 * ("error detected while parsing ACL 'NAME' : ..."); `warn` receives haproxy's warnings.
 */
export function compileAcl(spec: AclSpec, name?: string, warn?: (msg: string) => void): Acl {
  try {
    return compile(spec, name, warn);
  } catch (e) {
    // A table or userlist not found is haproxy's finding past parsing, which names no ACL.
    if (name !== undefined && e instanceof ConfigError && !e.tight)
      throw new ConfigError(`error detected while parsing ACL '${name}' : ${e.message}`, spec.where);
    throw e;
  }
}

function compile(spec: AclSpec, aclName: string | undefined, warn?: (msg: string) => void): Acl {
  const where = spec.where;
  const f = parseFetch(spec.fetch, where, true);
  // haproxy's argument list ends at the first empty word: what follows it is ignored.
  const empty = spec.words.indexOf("");
  const words = empty < 0 ? spec.words : spec.words.slice(0, empty);
  let icase = false;
  let noDns = false;
  let how: MatchName | undefined;
  const refs: PatternRef[] = [];
  let twoColumns = false;
  let dashdash = false;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w[0] !== "-") break;
    if (w === "--") {
      dashdash = true;
      i++;
      break;
    }
    if (w === "-i") icase = true;
    else if (w === "-n") noDns = true;
    else if (w === "-m") {
      const m = words[++i] ?? "";
      if (!(MATCH_NAMES as string[]).includes(m))
        throw new ConfigError(`unknown matching method '${m}' when parsing ACL expression.`, where);
      how = m as MatchName;
    } else if (w === "-f") refs.push(fileRef(words[++i] ?? "", twoColumns, spec));
    else if (w === "-M") twoColumns = true;
    else if (w === "-u") i++;
    else
      throw new ConfigError(
        `'${w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.`,
        where,
      );
  }
  const method = how ?? f.match;
  if (method === undefined)
    throw new ConfigError(
      `matching method must be specified first (using '-m') when using a sample fetch of this type ('${f.name}').`,
      where,
    );
  if (!compatible(f.out, method))
    throw new ConfigError(
      `matching method '${method}' cannot be used with fetch keyword '${f.name}'.`,
      where,
    );
  const inline = words.slice(i);
  const needsPatterns = method !== "found" && method !== "bool";
  if (needsPatterns && inline.length === 0 && !dashdash && refs.length === 0 && warn)
    warn(
      `parsing acl keyword '${f.name}' :\n  no pattern to match against were provided, so this ACL will never match.\n` +
        `  If this is what you intended, please add '--' to get rid of this warning.\n` +
        `  If you intended to match only for existence, please use '-m found'.\n` +
        `  If you wanted to force an int to match as a bool, please use '-m bool'.`,
    );
  const written = inline.map((text) => ({ id: nextPatternId(), text }));
  /** The patterns: the files' (`changed` with the entries it is to have), then those written. */
  const patterns = (changed?: PatternRef, entries?: readonly PatternEntry[]): IdPattern[] => [
    ...refs.flatMap((r) => (r === changed ? entries! : r.entries).map((e) => ({ id: e.id, text: e.key }))),
    ...written,
  ];
  const build = (pats: IdPattern[]): Matcher => {
    const m =
      how === undefined && f.groups
        ? f.groups(pats.map((p) => p.text))
        : buildMatcher(method, pats, icase, noDns, where);
    // haproxy finds these past parsing: its message names the proxy and the ACL, not the line.
    if (typeof m === "string")
      throw new ConfigError(`proxy ${currentProxy()}: acl ${aclName ?? ""} ${f.name}(): ${m}`, where, true);
    return m;
  };
  const pats = patterns();
  let matcher = build(pats);
  const acl = new Acl(f.impl, matcher, !needsPatterns || pats.length > 0);
  for (const ref of refs)
    ref.read((change) => {
      const count = refs.reduce((n, r) => n + (r === ref ? change.size : r.size), written.length);
      const live = !needsPatterns || count > 0;
      // An indexed matcher takes the change in place; the others are built anew.
      const m = matcher;
      if (isIndexed(m)) {
        const commit = prepareChange(m.index, change, () => true);
        return () => {
          commit();
          acl.use(m, live);
        };
      }
      const next = build(patterns(ref, change.after()));
      return () => {
        matcher = next;
        acl.use(next, live);
      };
    });
  return acl;
}
