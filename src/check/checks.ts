// The health checks of every server with `check`: one in flight per server at most, spread over
// the interval at start, at `inter` when stable, `fastinter` while changing, `downinter` when DOWN.
import type { RtBackend, RtServer } from "../proxy/backend.js";
import { Health, type Transition } from "./health.js";
import { checkRequest, compileExpect, probe, type ProbeResult, type ProbeSpec } from "./probe.js";

/**
 * Where state changes are told: haproxy sends them to the backend's log targets and to stderr
 * (where a few have slightly different words: `console`).
 */
export type CheckLog = (backend: RtBackend, level: number, message: string, console?: string) => void;

/** Log levels of state changes, as haproxy uses them. */
const LEVEL_ALERT = 1;
const LEVEL_EMERG = 0;
const LEVEL_NOTICE = 5;

class ServerCheck {
  readonly health: Health;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private readonly spec: ProbeSpec;

  constructor(
    readonly server: RtServer,
    private readonly owner: HealthChecks,
  ) {
    const cfg = server.cfg;
    const px = server.backend.px;
    this.health = new Health(cfg.rise, cfg.fall, server.up);
    const http = px.httpchk
      ? { request: checkRequest(px.httpchk), expect: px.httpCheckExpect.map(compileExpect) }
      : undefined;
    const total = px.timeouts.check ?? cfg.inter;
    this.spec = {
      host: cfg.checkAddr ?? server.address,
      port: cfg.checkPort ?? server.port,
      connectMs: px.timeouts.connect ?? total,
      totalMs: total,
      http,
    };
  }

  start(firstDelay: number): void {
    this.schedule(firstDelay);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private interval(): number {
    const cfg = this.server.cfg;
    if (this.health.transitional) return cfg.fastinter ?? cfg.inter;
    if (!this.health.up) return cfg.downinter ?? cfg.inter;
    return cfg.inter;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    const r = await probe(this.spec);
    this.running = false;
    if (this.stopped) return;
    const t = r.ok ? this.health.success() : this.health.failure();
    if (t) this.owner.changed(this, t, r);
    this.schedule(this.interval());
  }
}

export class HealthChecks {
  private readonly checks: ServerCheck[] = [];

  constructor(
    backends: Iterable<RtBackend>,
    private readonly log: CheckLog,
  ) {
    for (const be of backends)
      for (const s of be.servers) if (s.cfg.check && !s.maint) this.checks.push(new ServerCheck(s, this));
  }

  get size(): number {
    return this.checks.length;
  }

  /** Starts every check, spread over its server's interval so that a hundred servers do not fire together. */
  start(): void {
    const n = this.checks.length;
    this.checks.forEach((c, i) => c.start(Math.floor((c.server.cfg.inter * i) / Math.max(n, 1))));
  }

  stop(): void {
    for (const c of this.checks) c.stop();
  }

  /** A server went UP or DOWN: apply it and say it in haproxy's words. */
  changed(check: ServerCheck, t: Transition, r: ProbeResult): void {
    const s = check.server;
    const be = s.backend;
    const name = `${be.name}/${s.name}`;
    const details = [`reason: ${r.reason}`];
    if (r.code !== undefined) details.push(`code: ${r.code}`);
    if (r.info) details.push(`info: "${r.info}"`);
    details.push(`check duration: ${r.durationMs}ms`);
    if (t === "down") {
      const active = s.sessions.size;
      s.up = false;
      let killed = 0;
      if (s.cfg.onMarkedDown === "shutdown-sessions")
        for (const session of [...s.sessions]) {
          session.shutdown();
          killed++;
        }
      const { activeUp, backupUp } = count(be);
      this.log(
        be,
        LEVEL_ALERT,
        `Server ${name} is DOWN, ${details.join(", ")}. ${activeUp} active and ${backupUp} backup servers left. ${active - killed} sessions active, 0 requeued, ${s.queue.length} remaining in queue.`,
      );
      if (activeUp + backupUp === 0)
        this.log(
          be,
          LEVEL_EMERG,
          `backend ${be.name} has no server available!`,
          `backend '${be.name}' has no server available!`,
        );
      return;
    }
    s.up = true;
    if (s.cfg.onMarkedUp === "shutdown-backup-sessions" && !s.backup)
      for (const other of be.servers)
        if (other.backup) for (const session of [...other.sessions]) session.shutdown();
    const { activeUp, backupUp } = count(be);
    this.log(
      be,
      LEVEL_NOTICE,
      `Server ${name} is UP, ${details.join(", ")}. ${activeUp} active and ${backupUp} backup servers online. 0 sessions requeued, ${be.queued()} total in queue.`,
    );
    // Requests queued while no server could take them get their chance now.
    be.dispatch(s);
  }
}

function count(be: RtBackend): { activeUp: number; backupUp: number } {
  let activeUp = 0;
  let backupUp = 0;
  for (const s of be.servers) {
    if (!s.usable) continue;
    if (s.backup) backupUp++;
    else activeUp++;
  }
  return { activeUp, backupUp };
}
