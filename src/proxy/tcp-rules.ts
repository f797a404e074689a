// tcp-request rules at run time: on each accepted connection (before any PROXY header), once its
// addresses are final (after it), and on each request (a frontend's, then its backend's). The first
// rule whose condition holds and that accepts or rejects decides; none deciding is an accept.
import type { Proxy, TcpRule } from "../config/model.js";
import { hasBackend, hasFrontend } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { compileCondition } from "../acl/index.js";
import { conditionFetches, placeBits, usableAt, type Place } from "../acl/place.js";
import type { SampleContext } from "../acl/context.js";
import type { HttpHead } from "../http/message.js";
import type { Cond } from "./rules.js";

/** Where the samples of the accepted connection exist, and nothing of a request yet. */
const ON_ACCEPT = placeBits("tcp-request connection", true, false);

export interface CompiledTcpRule {
  action: TcpRule["action"];
  cond: Cond | undefined;
}

/**
 * Compiles one kind of rule of a proxy. Its conditions keep only the ACL lines whose samples exist
 * where the rules run (haproxy warned of the others, which never match there). In mode tcp, where
 * sluice evaluates content rules once, at once, a condition on the request's bytes is refused.
 */
export function compileTcpRules(rules: TcpRule[], px: Proxy, place: Place): CompiledTcpRule[] {
  const where = placeBits(place, hasFrontend(px), hasBackend(px));
  return rules.map((r) => {
    if (place === "tcp-request content" && px.mode === "tcp" && r.cond) {
      const late = conditionFetches(r.cond, px.acls).find((f) => !usableAt(f, ON_ACCEPT));
      if (late)
        throw new ConfigError(
          `'tcp-request content ${r.action}' on the request's contents ('${late}') is not supported by sluice in mode tcp yet.`,
          r.where,
        );
    }
    return {
      action: r.action,
      cond: r.cond ? compileCondition(r.cond, px.acls, undefined, where) : undefined,
    };
  });
}

/** Runs rules in order: false when one rejects; `expectProxy` hears of each expect-proxy that applies. */
export function tcpAccepts(rules: CompiledTcpRule[], ctx: SampleContext, expectProxy?: () => void): boolean {
  for (const r of rules) {
    if (r.cond && !r.cond(ctx)) continue;
    if (r.action === "accept") return true;
    if (r.action === "reject") return false;
    expectProxy?.();
  }
  return true;
}

/** What a connection's rules can see before its session: its addresses, its frontend, the backends. */
export class ConnContext implements SampleContext {
  /** Never read: the conditions kept at these places read nothing of a request. */
  declare req: HttpHead;
  readonly beName = "";

  constructor(
    readonly src: string,
    readonly srcPort: number,
    readonly dst: string,
    readonly dstPort: number,
    readonly feName: string,
    readonly nbsrv: (backend: string) => number,
  ) {}
}
