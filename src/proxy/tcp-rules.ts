// tcp-request rules at run time: on each accepted connection (before any PROXY header), once its
// addresses are final (after it), and on each request (a frontend's, then its backend's); in mode
// tcp, a frontend's content rules inspect the client's first bytes, waiting for more while a rule
// cannot tell yet (tcp-request inspect-delay). The first rule whose condition holds and that accepts
// or rejects decides; none deciding is an accept.
import type { Proxy, TcpRule } from "../config/model.js";
import { hasBackend, hasFrontend } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { compileTriCondition, MISS, PASS, type Outcome } from "../acl/condition.js";
import { conditionFetches, placeBits, type Place } from "../acl/place.js";
import { fetchUse, parseFetch, type FetchImpl } from "../acl/fetch.js";
import type { StickTable } from "../stick/table.js";
import { findTable } from "../acl/scope.js";
import { stickExpression, stickRule, type StkCtrs, type TrackLevel } from "../stick/track.js";
import type { StickAction } from "../config/model.js";
import type { FrontConn, ListenerState, ProxiesState, SampleContext } from "../acl/context.js";
import type { HttpHead } from "../http/message.js";

export interface CompiledTcpRule {
  action: TcpRule["action"];
  cond: ((ctx: SampleContext) => Outcome) | undefined;
  /** A stick table's action; its key's (track-sc) or value's (sc-set-gpt0) expression, track-sc's table. */
  stick?: { action: StickAction; fetch?: FetchImpl; table?: StickTable; level: TrackLevel };
}

/**
 * Compiles one kind of rule of a proxy. Connection and session rules keep only the ACL lines whose
 * samples exist before any stream (haproxy warned of the others, which never match there); content
 * rules run on a stream, where a fetch finds its sample or not by itself (be_name is the frontend's
 * name until use_backend). A backend's content rules in mode tcp run once, when it is chosen: one
 * on the request's bytes is refused.
 */
export function compileTcpRules(rules: TcpRule[], px: Proxy, place: Place): CompiledTcpRule[] {
  const content = place === "tcp-request content";
  const where = content ? undefined : placeBits(place, hasFrontend(px), hasBackend(px));
  return rules.map((r) => {
    if (content && px.kind === "backend" && px.mode === "tcp" && r.cond) {
      const raw = conditionFetches(r.cond, px.acls).find((f) => fetchUse(f) === "buffer");
      if (raw)
        throw new ConfigError(
          `a backend's 'tcp-request content ${r.action}' on the request's bytes ('${raw}') is not supported by sluice in mode tcp yet.`,
          r.where,
        );
    }
    const cond = r.cond ? compileTriCondition(r.cond, px.acls, where) : undefined;
    const a = r.stick;
    if (!a) return { action: r.action, cond };
    // What a connection's or session's rules track lasts the connection; a request's, the request
    // (a backend's content rules run once the frontend counted the request: theirs counts it).
    const level = !content ? "session" : px.kind === "backend" && px.mode === "http" ? "request" : "stream";
    const expr = stickExpression(a);
    const fetch = expr === undefined ? undefined : parseFetch(expr, r.where, false).impl;
    // The configuration's reading made sure it exists.
    const table = a.kind === "track-sc" ? (findTable(a.table, 0, a.kind) as StickTable) : undefined;
    return { action: r.action, cond, stick: { action: a, fetch, table, level } };
  });
}

/**
 * Runs rules in order: "accept", "reject", or "wait" when a rule cannot tell yet (only while an
 * inspection is not final). `expectProxy` hears of each expect-proxy that applies.
 */
export function tcpVerdict(
  rules: CompiledTcpRule[],
  ctx: SampleContext,
  expectProxy?: () => void,
): "accept" | "reject" | "wait" {
  for (const r of rules) {
    const v = r.cond ? r.cond(ctx) : PASS;
    if (v === MISS) return "wait";
    if (v !== PASS) continue;
    if (r.action === "accept") return "accept";
    if (r.action === "reject") return "reject";
    if (r.stick) stickRule(ctx, r.stick.action, r.stick.fetch, r.stick.table, r.stick.level);
    else expectProxy?.();
  }
  return "accept";
}

/** What a connection's rules can see before its session: its addresses, its frontend, the backends. */
export class ConnContext implements SampleContext {
  /** Never read: the conditions kept at these places read nothing of a request. */
  declare req: HttpHead;
  readonly beName = "";

  constructor(
    readonly stk: StkCtrs | undefined,
    readonly src: string,
    readonly srcPort: number,
    readonly dst: string,
    readonly dstPort: number,
    readonly feName: string,
    readonly nbsrv: (backend: string) => number,
    readonly state: ProxiesState,
    readonly stopping: boolean,
    readonly environment: Readonly<Record<string, string | undefined>> | undefined,
    readonly listener: ListenerState,
    readonly frontConn: FrontConn,
  ) {}
}
