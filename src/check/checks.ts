// The health checks of every server with `check`: one in flight per server at most, the next one
// scheduled when the previous ends, at `inter` when stable, `fastinter` while the counter is
// between its ends, `downinter` when DOWN; the first checks spread over the shortest interval.
import type { RtBackend, RtServer } from "../proxy/backend.js";
import { Health } from "./health.js";
import { buildCheckRequest, compileExpectation } from "./http-check.js";
import { LEVEL, checkLine, downLine, noServerLine, upLine } from "./messages.js";
import { probe, type Probe, type ProbeSpec } from "./probe.js";
import { compileTcpCheck } from "./tcp-check.js";
import { cannedRuleset } from "./canned.js";
import type { CheckResult, CheckStatus } from "./result.js";

/**
 * Where state changes are told: the backend's log targets and stderr. `console` is given when
 * stderr's words differ from the log's.
 */
export type CheckLog = (backend: RtBackend, level: number, message: string, console?: string) => void;

class ServerCheck {
  readonly health: Health;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Probe | undefined;
  private stopped = false;
  /** The previous check's status (haproxy logs a check whose status changed). */
  private lastStatus: CheckStatus | undefined;
  private readonly spec: ProbeSpec;

  constructor(
    readonly server: RtServer,
    private readonly log: CheckLog,
    /** spread-checks: the next check comes up to this percentage of the interval early or late. */
    private readonly spread = 0,
  ) {
    const cfg = server.cfg;
    const px = server.backend.px;
    this.health = new Health(cfg.rise, cfg.fall, server.up);
    this.spec = {
      host: cfg.checkAddr ?? server.address,
      port: cfg.checkPort ?? server.port,
      source: server.source,
      inter: cfg.inter,
      timeoutCheck: px.timeouts.check,
      timeoutConnect: px.timeouts.connect,
      // A send-proxy server gets its PROXY header from checks too, unless they go elsewhere.
      sendProxy: cfg.checkAddr === undefined && cfg.checkPort === undefined ? server.sendProxy : undefined,
      serverProxy: server.sendProxy,
      tcp:
        px.checkOption === "tcp-check"
          ? compileTcpCheck(px.tcpCheckRules)
          : typeof px.checkOption === "object"
            ? cannedRuleset(px.checkOption)
            : undefined,
      http: px.httpchk && {
        request: buildCheckRequest(px.httpchk),
        method: px.httpchk.method,
        expect: px.httpCheckExpect.map(compileExpectation),
      },
    };
  }

  /** haproxy's srv_getinter. */
  interval(): number {
    const cfg = this.server.cfg;
    if (this.health.counter === this.health.top) return cfg.inter;
    if (this.health.counter === 0) return cfg.downinter ?? cfg.inter;
    return cfg.fastinter ?? cfg.inter;
  }

  schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.run(), ms).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const p = this.inflight;
    if (p) {
      p.abort();
      await p.done;
    }
  }

  private run(): void {
    if (this.stopped || this.inflight) return;
    const p = probe(this.spec);
    this.inflight = p;
    void p.done.then((r) => {
      this.inflight = undefined;
      if (this.stopped) return;
      this.record(r);
      const inter = this.interval();
      const rv = Math.floor((inter * this.spread) / 100);
      this.schedule(inter + rv - Math.floor(2 * rv * Math.random()));
    });
  }

  /** Moves the health counter and applies and tells what changed. */
  private record(r: CheckResult): void {
    const s = this.server;
    const be = s.backend;
    const before = this.health.counter;
    const t = r.ok ? this.health.success() : this.health.failure();
    const statusChanged = r.status !== this.lastStatus;
    this.lastStatus = r.status;
    const verbose = be.px.logHealthChecks;
    if (verbose && (statusChanged || this.health.counter !== before))
      this.log(be, LEVEL.notice, checkLine(s, r, this.health));
    if (t === "down") markDown(s, verbose ? undefined : r, this.log);
    else if (t === "up") markUp(s, verbose ? undefined : r, this.log);
  }
}

/** A server goes DOWN: out of the choice, its sessions cut if asked, in haproxy's words. */
function markDown(s: RtServer, r: CheckResult | undefined, log: CheckLog): void {
  const be = s.backend;
  // haproxy counts the sessions before the ones it shuts down have ended.
  const sessions = s.cur;
  s.setUp(false);
  if (s.cfg.onMarkedDown === "shutdown-sessions")
    for (const session of s.sessions.toArray()) session.shutdown();
  log(be, LEVEL.alert, downLine(s, r, sessions, be.redistribute(s)));
  const left = be.serverCounts();
  if (left.active + left.backup === 0) log(be, LEVEL.emerg, noServerLine(be, false), noServerLine(be, true));
}

/** A server comes UP: back in the choice, backup sessions cut if asked, queued requests served. */
function markUp(s: RtServer, r: CheckResult | undefined, log: CheckLog): void {
  const be = s.backend;
  s.setUp(true);
  if (s.cfg.onMarkedUp === "shutdown-backup-sessions" && !s.backup && s.weight > 0)
    for (const other of be.servers)
      if (other.backup) for (const session of other.sessions.toArray()) session.shutdown();
  const waiting = be.queue.length;
  // Requests waiting in the backend's queue (or this server's) get the server that came up.
  be.dispatch(s);
  log(be, LEVEL.notice, upLine(s, r, waiting - be.queue.length));
}

/** `spread-checks` (a percentage) and `max-spread-checks` (ms) of the global section. */
export interface Spread {
  percent: number;
  max?: number;
}

export class HealthChecks {
  private readonly checks: ServerCheck[] = [];
  private started = false;

  constructor(
    backends: Iterable<RtBackend>,
    log: CheckLog,
    private readonly spread: Spread = { percent: 0 },
  ) {
    for (const be of backends)
      for (const s of be.servers)
        if (s.cfg.check && !s.maint) this.checks.push(new ServerCheck(s, log, spread.percent));
  }

  /** Servers being checked. */
  get size(): number {
    return this.checks.length;
  }

  /**
   * Starts every check. As haproxy does, the n-th of N starts after (shortest interval) × n / N,
   * so that a hundred servers are not checked in one burst.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const n = this.checks.length;
    let min = Infinity;
    for (const c of this.checks) min = Math.min(min, c.interval());
    if (this.spread.max !== undefined) min = Math.min(min, this.spread.max);
    this.checks.forEach((c, i) => c.schedule(Math.floor((min * i) / n)));
  }

  /** Stops scheduling, aborts the checks in flight and resolves once their sockets are gone. */
  async stop(): Promise<void> {
    await Promise.all(this.checks.map((c) => c.stop()));
  }
}
