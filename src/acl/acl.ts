// One ACL statement: `FETCH [flags] [operator] [patterns]` compiled into a fetch and a matcher.
import { ConfigError } from "../config/errors.js";
import type { AclSpec } from "../config/model.js";
import type { SampleContext } from "./context.js";
import { parseFetch, type FetchImpl, type MatchName } from "./fetch.js";
import type { Matcher } from "./match.js";
import { MATCH_NAMES, buildMatcher, patternFileLines } from "./pattern.js";
import { Sample, T } from "./sample.js";
import { currentProxy } from "./scope.js";

export class Acl {
  /** Scratch sample reused for every evaluation (evaluation is synchronous). */
  private readonly smp = new Sample();
  constructor(
    private readonly fetch: FetchImpl,
    private readonly matcher: Matcher,
    /** false when no pattern was given (the ACL never matches, as haproxy warns). */
    private readonly live: boolean,
  ) {}

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

/** Reads patterns from a file, one per line (patternFileLines). */
function readPatterns(path: string, spec: AclSpec): string[] {
  const lines = patternFileLines(path);
  if (!lines) throw new ConfigError(`failed to open pattern file <${path}>.`, spec.where);
  return lines.map((l) => l.text);
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
  const pats: string[] = [];
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
    } else if (w === "-f") pats.push(...readPatterns(words[++i] ?? "", spec));
    else if (w === "-u" || w === "-M") {
      if (w === "-u") i++;
    } else
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
  pats.push(...words.slice(i));
  const needsPatterns = method !== "found" && method !== "bool";
  const hadFile = words.includes("-f");
  if (needsPatterns && pats.length === 0 && !dashdash && !hadFile && warn)
    warn(
      `parsing acl keyword '${f.name}' :\n  no pattern to match against were provided, so this ACL will never match.\n` +
        `  If this is what you intended, please add '--' to get rid of this warning.\n` +
        `  If you intended to match only for existence, please use '-m found'.\n` +
        `  If you wanted to force an int to match as a bool, please use '-m bool'.`,
    );
  const matcher =
    how === undefined && f.groups ? f.groups(pats) : buildMatcher(method, pats, icase, noDns, where);
  // haproxy finds these past parsing: its message names the proxy and the ACL, not the line.
  if (typeof matcher === "string")
    throw new ConfigError(
      `proxy ${currentProxy()}: acl ${aclName ?? ""} ${f.name}(): ${matcher}`,
      where,
      true,
    );
  return new Acl(f.impl, matcher, !needsPatterns || pats.length > 0);
}
