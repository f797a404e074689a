// tcp-request rules at run time: on each accepted connection (before any PROXY header), once its
// addresses are final (after it), and on each request (a frontend's, then its backend's); in mode
// tcp, a frontend's content rules inspect the client's first bytes, waiting for more while a rule
// cannot tell yet (tcp-request inspect-delay). The first rule whose condition holds and that accepts,
// rejects or drops silently decides; none deciding is an accept.
import type { Proxy, TcpRule } from "../config/model.js";
import { hasBackend, hasFrontend } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { compileTriCondition, MISS, PASS, type Outcome } from "../acl/condition.js";
import { conditionFetches, placeBits, reachable, type Place } from "../acl/place.js";
import { fetchUse, parseFetch, type FetchImpl } from "../acl/fetch.js";
import type { StickTable } from "../stick/table.js";
import { findTable } from "../acl/scope.js";
import { stickExpression, stickRule, type StkCtrs, type TrackLevel } from "../stick/track.js";
import type { SetAction, StickAction, Where } from "../config/model.js";
import { setEnd, type Ends } from "./client-ends.js";
import { setPriority } from "./queue-priority.js";
import type { FrontConn, ListenerState, ProxiesState, SampleContext } from "../acl/context.js";
import type { HttpHead } from "../http/message.js";

export interface CompiledTcpRule {
  action: TcpRule["action"];
  cond: ((ctx: SampleContext) => Outcome) | undefined;
  /** A stick table's action; its key's (track-sc) or value's (sc-set-gpt0) expression, track-sc's table. */
  stick?: { action: StickAction; fetch?: FetchImpl; table?: StickTable; level: TrackLevel };
  /**
   * set-log-level, or set-src and its kin, set-priority-class and -offset with their expression (none
   * where it can find nothing).
   */
  set?: { action: SetAction; fetch?: FetchImpl };
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
    if (r.set) return { action: r.action, cond, set: compileSet(r.set, r.where, where) };
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

/** What a list of tcp-request rules decided; "wait": a rule cannot tell yet. */
export type TcpVerdict = "accept" | "reject" | "silent-drop" | "wait";

/** The verdict gives the request up. */
export const refuses = (v: TcpVerdict): v is "reject" | "silent-drop" =>
  v === "reject" || v === "silent-drop";

/**
 * A set action's expression, compiled; at a connection's or a session's place (`where`), one that
 * reads what only a stream has (haproxy checks them as an http-request rule's) finds nothing there.
 */
function compileSet(
  action: SetAction,
  at: Where,
  where: number | undefined,
): NonNullable<CompiledTcpRule["set"]> {
  if (action.kind === "set-log-level") return { action };
  const parsed = parseFetch(action.expr, at, false);
  return where === undefined || reachable(parsed.kw.use, where) ? { action, fetch: parsed.impl } : { action };
}

/**
 * Runs rules in order: "accept", "reject", "silent-drop", or "wait" when a rule cannot tell yet
 * (only while an inspection is not final). `expectProxy` hears of each expect-proxy that applies.
 */
export function tcpVerdict(
  rules: CompiledTcpRule[],
  ctx: SampleContext,
  expectProxy?: () => void,
): TcpVerdict {
  for (const r of rules) {
    const v = r.cond ? r.cond(ctx) : PASS;
    if (v === MISS) return "wait";
    if (v !== PASS) continue;
    const a = r.action;
    if (a === "accept" || a === "reject" || a === "silent-drop") return a;
    if (r.stick) stickRule(ctx, r.stick.action, r.stick.fetch, r.stick.table, r.stick.level);
    else if (r.set) runSet(r.set, ctx);
    else if (a === "expect-proxy") expectProxy?.();
  }
  return "accept";
}

function runSet(set: NonNullable<CompiledTcpRule["set"]>, ctx: SampleContext): void {
  const a = set.action;
  if (a.kind === "set-log-level") ctx.setLogLevel?.(a.level);
  else if (a.kind === "set-priority-class" || a.kind === "set-priority-offset")
    setPriority(a.kind, set.fetch!, ctx);
  else setEnd(a.kind, set.fetch, ctx);
}

/** What a connection's rules can see before its session: its addresses, its frontend, the backends. */
export class ConnContext implements SampleContext, Ends {
  /** Never read: the conditions kept at these places read nothing of a request. */
  declare req: HttpHead;
  readonly beName = "";
  /** A set-src or set-dst rule changed the ends. */
  moved = false;

  constructor(
    readonly stk: StkCtrs | undefined,
    public src: string,
    public srcPort: number,
    public dst: string,
    public dstPort: number,
    readonly feName: string,
    readonly nbsrv: (backend: string) => number,
    readonly state: ProxiesState,
    readonly stopping: boolean,
    readonly environment: Readonly<Record<string, string | undefined>> | undefined,
    readonly listener: ListenerState,
    readonly frontConn: FrontConn,
  ) {}

  endsMoved(): void {
    this.moved = true;
  }
}
