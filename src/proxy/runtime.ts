// The running proxy: frontends listening, backends with their servers, the sessions in between.
import net from "node:net";
import { lookup } from "node:dns/promises";
import v8 from "node:v8";
import type { Bind, Config, Global, Proxy, Server } from "../config/model.js";
import { hasBackend } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { RtBackend, type RtServer, type ServerAddress } from "./backend.js";
import { countOtherFds, fdLimit, fdsInUse, setSoftFdLimit } from "../util/descriptors.js";
import { RtFrontend } from "./frontend.js";
import { compileHttpRules, compileRules, withDefaults } from "./rules.js";
import { ConnContext, compileTcpRules, refuses, tcpVerdict } from "./tcp-rules.js";
import { StickTable } from "../stick/table.js";
import { withScope } from "../acl/scope.js";
import { withPatternRefs } from "../acl/pattern-ref.js";
import { compileAcl } from "../acl/acl.js";
import { compileStickRules } from "../stick/stick-rules.js";
import { StkCtrs } from "../stick/track.js";
import { Session } from "./session.js";
import { purgeIdle } from "./server-conn.js";
import { BindState, ClientSocket } from "./client-socket.js";
import { parseProxyHeader, PROXY_CLOSED, PROXY_ERROR, PROXY_TIMEOUT } from "./proxy-protocol.js";
import { logDate } from "../log/format.js";
import { LEVEL } from "../log/syslog.js";
import { Listener, type SockAddr } from "../util/tcp-socket.js";
import { HealthChecks } from "../check/index.js";
import type { LogRecord } from "../log/record.js";
import { Logger } from "../log/logger.js";
import { RATES, readsDuring } from "../log/reads.js";
import type { VarMap } from "../acl/vars.js";
import { CompressionLimits } from "./compression-limits.js";
import { FreqCtr } from "../stick/freq-ctr.js";
import { SilentDrops } from "./silent-drop.js";

export interface Counters {
  badRequests: number;
  badResponses: number;
  /** Requests denied (http-request deny, tcp-request content reject). */
  denied: number;
  /** Connections rejected by tcp-request connection rules, and by session rules. */
  deniedConnections: number;
  deniedSessions: number;
  connectFailures: number;
  serverAborts: number;
  acceptErrors: number;
  /**
   * haproxy's internal errors: a body longer than the Content-Length that rules gave its head, and
   * exceptions caught by the process's last-resort handler.
   */
  internalErrors: number;
  /** Rewrites by rules that failed (haproxy's failed_rewrites), with strict mode on or off. */
  failedRewrites: number;
}

/** What can run short, besides connection slots, and hold new connections back. */
type Shortage = "file descriptors" | "memory";

/** The log-format variables that write the request line or a part of it. */
const REQUEST_LINE_VARIABLES = ["r", "HM", "HU", "HP", "HPO", "HQ", "HV"];
/** Those that write the captures. */
const CAPTURE_VARIABLES = ["hr", "hs", "hrl", "hsl"];

/**
 * The descriptors haproxy 2.6.12 wants beyond two per connection: with a maxconn, it raises its
 * limit to twice that and 17 (`Cannot raise FD limit to 1017` for 500); without one, it takes twice
 * the connections and 28 from the limit (114 at 256, 498 at 1024, 9986 at 20000).
 */
const FD_EXTRA = 17;
const FD_EXTRA_DERIVED = 28;
/** Descriptors kept free for the server connections of the sessions under way, checks and logs. */
const FD_MARGIN = 16;

export class Runtime {
  readonly global: Global;
  /** The `proc` variables: the process's (a new process starts without them, as a new haproxy does). */
  readonly procVars: VarMap = new Map();
  readonly backends = new Map<string, RtBackend>();
  /** The stick tables, by name. */
  readonly tables = new Map<string, StickTable>();
  /** A format reads a server connection's own address (%bi, %bp): each is asked for as it connects. */
  readsSource = false;
  /** A format writes the request line or its parts (%r, %HU...): kept as read even without logging. */
  readsRequestLine = false;
  /** A format or fetch reads the captures (%hr, capture.req.hdr): made even without logging. */
  readsCaptures = false;
  /** A fetch reads the sessions' or requests' rates: every frontend, backend and server counts them. */
  countsRates = false;
  readonly frontends: RtFrontend[] = [];

  /** The proxies' state fetches read (ProxiesState). */
  backend(name: string): RtBackend | undefined {
    return this.backends.get(name);
  }

  frontend(name: string): RtFrontend | undefined {
    return this.frontends.find((f) => f.name === name);
  }
  readonly counters: Counters = {
    badRequests: 0,
    badResponses: 0,
    denied: 0,
    deniedConnections: 0,
    deniedSessions: 0,
    connectFailures: 0,
    serverAborts: 0,
    acceptErrors: 0,
    internalErrors: 0,
    failedRewrites: 0,
  };
  readonly logger: Logger;
  readonly maxconn: number;
  /** The descriptors haproxy would hold at most (its maxsock): what pool-low- and pool-high-fd-ratio are shares of. */
  readonly maxsock: number;
  /** The process's descriptor limit, once set for maxconn (see fitDescriptors). */
  private fdLimit: number;
  /** maxcomprate and maxcompcpuusage, over every compressed response. */
  readonly compression: CompressionLimits;
  /** Sessions alive (actconn). */
  actconn = 0;
  stopping = false;
  private readonly sessions = new Set<Session>();
  /** Warnings met while building, for the command to print with the configuration's. */
  readonly notices: string[] = [];
  /** Each bind's listener state (its id, its connections), kept across a pause. */
  private readonly bindStates = new Map<Bind, BindState>();
  /** Each named bind host's address, resolved with the configuration as haproxy resolves it. */
  private readonly bindAddresses = new Map<string, string>();
  /** Connections of accept-proxy binds still sending their PROXY header. */
  private readonly greeting = new Set<ClientSocket>();
  /** Client connections given up by silent-drop rules, kept silent for a while. */
  private readonly silentDrops: SilentDrops;
  private checks: HealthChecks | undefined;
  /** Closes idle server connections nobody reused in time, and watches memory; once a second. */
  private readonly purgeTimer = setInterval(() => {
    const now = Date.now();
    for (const be of this.backends.values()) purgeIdle(be.servers, now);
    for (const t of this.tables.values()) t.purge(now);
    this.checkMemory();
  }, 1000).unref();
  /**
   * What holds new connections back besides maxconn: file descriptors ran out (an accept or a
   * connect failed), or memory is short. They wait unread, as past maxconn; established sessions
   * carry on. Each shortage is set and cleared on its own, and said once each way.
   */
  private readonly short = new Set<Shortage>();
  private fdRelief: NodeJS.Timeout | undefined;
  /** maxconnrate and maxsessrate: the connections and sessions of the last second, when limited. */
  private readonly connRate = new FreqCtr();
  private readonly sessRate = new FreqCtr();
  /** A rate limit holds new connections back: this lets them in once the rate allows. */
  private rateTimer: NodeJS.Timeout | undefined;
  private rateTimerAt = 0;
  private idleWaiters: (() => void)[] = [];

  private constructor(readonly config: Config) {
    this.global = config.global;
    this.logger = new Logger(config.global);
    const g = config.global;
    const limit = g.ulimitN ?? fdLimit()?.soft ?? Infinity;
    this.maxconn =
      g.maxconn ?? (limit === Infinity ? 4000 : Math.max(1, Math.floor((limit - FD_EXTRA_DERIVED) / 2)));
    this.maxsock = g.maxconn !== undefined || limit === Infinity ? 2 * this.maxconn + FD_EXTRA : limit;
    this.fdLimit = limit;
    this.silentDrops = new SilentDrops(this.maxconn);
    this.compression = new CompressionLimits(config.global.compRate, config.global.compMinIdle);
  }

  /** Compiles rules and resolves server names; throws ConfigError naming the statement at fault. */
  static async build(config: Config): Promise<Runtime> {
    const rt = new Runtime(config);
    const addresses = new Map<Proxy, ServerAddress[]>();
    for (const px of config.proxies) {
      if (!hasBackend(px)) continue;
      const list: ServerAddress[] = [];
      for (const s of px.servers) {
        // A server's own source wins over its backend's; a wildcard one binds nothing, as in haproxy.
        const from = s.source ?? px.source;
        const at = from && (await resolve(from.host, s.where));
        const address = await rt.serverAddress(px, s);
        // haproxy resolves a check's own address with the configuration, as a bind's.
        if (s.checkAddr !== undefined && !net.isIP(s.checkAddr))
          s.checkAddr = await resolve(
            s.checkAddr,
            undefined,
            `[${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}' : 'addr' : invalid address: '${s.checkAddr}' in '${s.checkAddr}'.`,
          );
        list.push({
          address,
          source: at && at !== "0.0.0.0" && at !== "::" ? { address: at, port: from!.port } : undefined,
        });
      }
      addresses.set(px, list);
    }
    // A backend's binds too: haproxy resolves what it then ignores.
    for (const px of config.proxies)
      for (const b of px.binds)
        if (b.fd === undefined && b.host !== "" && !net.isIP(b.host) && !rt.bindAddresses.has(b.host))
          rt.bindAddresses.set(
            b.host,
            await resolve(b.host, b.where, `'bind' : invalid address: '${b.host}' in '${b.written}'`),
          );
    // One set of pattern files for the whole configuration: every ACL, map and rule shares it.
    const reads = readsDuring(() => withPatternRefs(() => rt.compile(addresses)));
    rt.readsSource = reads.has("bi") || reads.has("bp");
    rt.readsRequestLine = REQUEST_LINE_VARIABLES.some((v) => reads.has(v));
    rt.readsCaptures = CAPTURE_VARIABLES.some((v) => reads.has(v));
    rt.countsRates = reads.has(RATES);
    return rt;
  }

  /**
   * A server's address by its `init-addr` methods (haproxy's default: `last,libc`; Sluice keeps no
   * state file, so `last` finds nothing). `none` starts the server in maintenance instead.
   */
  private async serverAddress(px: Proxy, s: Server): Promise<string> {
    const label = `[${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}'`;
    let failed = false;
    for (const method of s.initAddr ?? ["last", "libc"]) {
      if (net.isIP(method)) return method;
      if (method === "libc") {
        const found = await lookupAddress(s.host);
        if (found !== undefined) return found;
        failed = true;
      } else if (method === "none") {
        if (failed) this.notices.push(`${label} : could not resolve address '${s.host}', disabling server.`);
        s.disabled = true;
        return "0.0.0.0";
      }
    }
    throw new ConfigError(
      `${label} : could not resolve address '${s.host}'.`,
      undefined,
      false,
      "Failed to initialize server(s) addr.",
    );
  }

  /** Compiles each proxy's rules and formats, with its servers at `addresses`. */
  private compile(addresses: ReadonlyMap<Proxy, ServerAddress[]>): void {
    const tables = this.tables;
    for (const px of this.config.proxies)
      if (px.stickTable) tables.set(px.name, new StickTable(px.stickTable));
    const names = { tables, userlists: this.config.userlists, proxies: this.config.proxies };
    for (const [px, list] of addresses) {
      withScope(names, px.name, () => {
        const be = new RtBackend(px, list);
        be.requestRules = compileHttpRules(px, (from) => from.httpRequest, "request");
        be.redirectRules = compileRules(px.redirects, px, "request");
        be.responseRules = compileHttpRules(px, (from) => from.httpResponse, "response");
        be.afterRules = compileHttpRules(px, (from) => from.httpAfterResponse, "response");
        be.tcpContent = withDefaults(px, (from, as) =>
          compileTcpRules(from.tcpContent, as, "tcp-request content"),
        );
        be.stickRules = compileStickRules(px);
        if (px.kind === "backend") resolveAcls(px);
        this.backends.set(px.name, be);
      });
    }
    for (const px of this.config.frontends) {
      const fe = withScope(names, px.name, () => {
        resolveAcls(px);
        this.logger.prepare(px);
        return new RtFrontend(
          px,
          this.backends,
          px.kind === "listen" ? this.backends.get(px.name) : undefined,
        );
      });
      this.frontends.push(fe);
    }
  }

  /** Opens every `bind`, then starts the health checks. Rejects naming the bind that cannot listen. */
  async start(): Promise<void> {
    this.listen();
    const live = [...this.backends.values()].filter((be) => !be.px.disabled);
    this.checks = new HealthChecks(
      live,
      (be, level, message, console) =>
        this.logger.event(be.px, level, message, console === undefined ? undefined : { message: console }),
      { percent: this.global.spreadChecks, max: this.global.maxSpreadChecks },
    );
    this.checks.start();
  }

  /**
   * Binds each listener not bound yet, in bind order; the first that fails throws, those before it
   * stay bound (a retry binds the rest).
   */
  listen(): void {
    for (const fe of this.frontends) {
      if (fe.px.disabled) continue;
      // haproxy names an unnamed listener by its id: its own, or the next one free in the frontend.
      const taken = new Set(fe.px.binds.map((b) => b.id));
      let next = 1;
      for (const b of fe.px.binds) {
        let id = b.id;
        if (id === undefined) {
          while (taken.has(next)) next++;
          id = next++;
        }
        if (fe.listeners.has(b)) continue;
        const backlog = this.backlog(fe, b);
        const state = this.bindStates.get(b) ?? new BindState(id, b.name, b.maxconn ?? 0, backlog);
        this.bindStates.set(b, state);
        const greet = b.acceptProxy === true;
        const listener = new Listener(
          (handle) => {
            const socket = new ClientSocket(handle, state);
            socket.mustGreet = greet;
            this.accept(fe, socket);
          },
          (code) => {
            // Accept failures (EMFILE, ENFILE, ENOBUFS) must not stop the proxy: count, log, carry on.
            this.counters.acceptErrors++;
            this.logger.event(fe.px, 3, `Proxy ${fe.name} failed to accept a connection: ${code}.`);
            if (code === "EMFILE" || code === "ENFILE") this.fdShortage();
          },
        );
        const where =
          b.fd !== undefined
            ? { fd: b.fd }
            : {
                address: this.bindAddresses.get(b.host) ?? (b.host || "0.0.0.0"),
                port: b.port,
                v6only: b.v6only,
              };
        const code = listener.listen(where, backlog);
        if (code !== undefined) {
          listener.close();
          const addr = b.fd !== undefined ? `fd@${b.fd}` : `${b.host || "0.0.0.0"}:${b.port}`;
          throw new BindError(
            `Binding [${b.where.file}:${b.where.line}] for frontend ${fe.name}: cannot bind socket (${SYSTEM_ERRORS[code] ?? code}) for [${addr}]`,
            b.where,
            code,
          );
        }
        fe.listeners.set(b, listener);
      }
    }
  }

  /**
   * haproxy's pause (SIGTTOU, from a new process of -sf/-st that cannot bind): the listeners on
   * addresses let go of them, sessions carry on. An inherited socket (fd@N) is shared, so it stays.
   */
  pause(): void {
    if (this.stopping) return;
    for (const fe of this.frontends)
      for (const [b, l] of fe.listeners)
        if (b.fd === undefined) {
          l.close();
          fe.listeners.delete(b);
        }
  }

  /** haproxy's resume (SIGTTIN: the new process gave up): the paused listeners bind again. */
  resume(): void {
    if (this.stopping) return;
    try {
      this.listen();
    } catch (e) {
      if (!(e instanceof BindError)) throw e;
      const message =
        "Some proxies refused to resume, probably due to a conflict on a listening port. You may want to try again after the conflicting application is stopped, otherwise a restart might be needed to resume safe operations.";
      this.logger.event(undefined, 4, message);
    }
  }

  /**
   * haproxy's backlog of a bind: its own, else (unset or 0) its frontend's, else its own maxconn, its
   * frontend's, the global one.
   */
  private backlog(fe: RtFrontend, b: Bind): number {
    return b.backlog || fe.px.backlog || b.maxconn || fe.maxconn || this.maxconn;
  }

  /** Addresses actually bound, in bind order (tests read the ports from here). */
  addresses(): net.AddressInfo[] {
    return this.frontends.flatMap((fe) => [...fe.listeners.values()].map((l) => l.address()));
  }

  private accept(fe: RtFrontend, socket: ClientSocket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    // A connection Sluice holds costs a descriptor where one in haproxy's kernel queue does not: it
    // is refused, and said, when too few remain for the sessions under way.
    if (this.fdLimit - fdsInUse() < FD_MARGIN) return this.refuseForDescriptors(fe, socket);
    const l = socket.listener;
    if (this.full(fe) || l.full()) {
      // Past maxconn the connection waits unread, as it would in its socket's queue. Past that
      // queue's length (its backlog), haproxy's kernel leaves the client to try again a second
      // later; Sluice keeps it waiting.
      l.waiting++;
      fe.waiting.push(socket);
      return;
    }
    this.startSession(fe, socket);
  }

  private startSession(fe: RtFrontend, socket: ClientSocket): void {
    const g = this.global;
    // The rates' clock is monotonic: a step of the wall clock must not hold connections back.
    if (g.connRate > 0) this.connRate.add(performance.now(), 1000, 1);
    if (this.tables.size > 0) socket.stk = new StkCtrs();
    // The connection counts among the frontend's from its accept: its own rules see it in fe_conn.
    fe.cur++;
    socket.listener.cur++;
    if (fe.tcpConnection.length > 0) {
      const ctx = this.connContext(fe, socket);
      let verdict;
      try {
        verdict = tcpVerdict(fe.tcpConnection, ctx, () => (socket.mustGreet = true));
      } catch (e) {
        // The process's last-resort handler counts it; the connection must not stay counted.
        fe.cur--;
        socket.listener.cur--;
        socket.resetAndDestroy();
        throw e;
      }
      if (ctx.moved) socket.moveEnds(ctx);
      // A rejected connection is reset, unlogged, as haproxy resets it; a dropped one goes unlogged
      // too, counted as a denied request, as haproxy counts it.
      if (verdict === "reject" || verdict === "silent-drop") {
        fe.cur--;
        socket.listener.cur--;
        socket.stk?.endSession(Date.now());
        if (verdict === "silent-drop") return this.silentDrop(fe, socket);
        this.counters.deniedConnections++;
        return socket.resetAndDestroy();
      }
    }
    fe.total++;
    this.actconn++;
    if (g.sessRate > 0) this.sessRate.add(performance.now(), 1000, 1);
    if (socket.mustGreet) return this.greet(fe, socket);
    this.openSession(fe, socket);
  }

  /** What tcp-request connection and session rules see: the addresses a PROXY header gave, else the socket's. */
  private connContext(fe: RtFrontend, socket: ClientSocket): ConnContext {
    const peer = socket.source();
    const local = socket.destination();
    return new ConnContext(
      socket.stk,
      peer.address ?? "",
      peer.port ?? 0,
      local.address ?? "",
      local.port ?? 0,
      fe.name,
      (be) => this.backends.get(be)?.usableCount() ?? -1,
      this,
      this.stopping,
      this.global.env,
      socket.listener,
      socket,
    );
  }

  /** A silent-drop rule gave up the client's connection: haproxy counts it a denied request. */
  silentDrop(fe: RtFrontend, socket: ClientSocket): void {
    this.counters.denied++;
    this.silentDrops.drop(socket, fe.px.timeouts.client);
  }

  /** The connection's session, once any PROXY header is read. */
  private openSession(fe: RtFrontend, socket: ClientSocket): void {
    let ctx: ConnContext | undefined;
    if (fe.tcpSession.length > 0) {
      ctx = this.connContext(fe, socket);
      const verdict = tcpVerdict(fe.tcpSession, ctx);
      if (refuses(verdict)) {
        // haproxy closes a rejected one (an RST if bytes it left unread came after the header),
        // drops a dropped one, and once a PROXY header came, logs either as the connection error
        // that is none.
        if (socket.acceptedAt !== undefined && !fe.px.dontlognull)
          this.connectionError(fe, socket, { address: ctx.src, port: ctx.srcPort }, "Success");
        socket.stk?.endSession(Date.now());
        if (verdict === "silent-drop") {
          socket.early = undefined;
          this.silentDrop(fe, socket);
        } else {
          this.counters.deniedSessions++;
          if (socket.early) socket.resetAndDestroy();
          else socket.destroy();
        }
        return this.connectionEnded(fe, socket);
      }
    }
    socket.stk?.countSession(Date.now());
    // The frontend counts its sessions once their PROXY header and session rules let them in.
    if (fe.sessLimit > 0 || this.countsRates) fe.sessRate.add(performance.now(), 1000, 1);
    const s = new Session(this, fe, socket, ctx);
    this.sessions.add(s);
    const early = socket.early;
    socket.early = undefined;
    s.start(early);
    socket.resume();
  }

  /**
   * bind ... accept-proxy: the connection (counted against maxconn already) must start with a PROXY
   * protocol header, whole in its first read as haproxy reads it, within timeout client. Without a
   * valid one it is reset (a silent one closed) and logged as haproxy does
   * (`127.0.0.1:4242 [date] f/1: Received an invalid PROXY protocol header`).
   */
  private greet(fe: RtFrontend, socket: ClientSocket): void {
    this.greeting.add(socket);
    const peer = socket.peer();
    socket.acceptedAt = Date.now();
    const done = (): void => {
      clearTimeout(timer);
      this.greeting.delete(socket);
      socket.greeting = undefined;
    };
    const fail = (why: string, sent: boolean): void => {
      done();
      // Silent connections are logged only without dontlognull.
      if (sent || !fe.px.dontlognull) this.connectionError(fe, socket, peer, why);
      // haproxy leaves what it refused unread, so the kernel answers with an RST.
      if (sent) socket.resetAndDestroy();
      else socket.destroy();
      socket.stk?.endSession(Date.now());
      this.connectionEnded(fe, socket);
    };
    const t = fe.px.timeouts.client;
    const timer = t === undefined ? undefined : setTimeout(() => fail(PROXY_TIMEOUT, false), t);
    socket.greeting = {
      onData: (chunk) => {
        const h = parseProxyHeader(chunk);
        if (typeof h === "string") return fail(h, true);
        done();
        socket.proxied = { src: h.src, dst: h.dst };
        if (chunk.length > h.length) socket.early = chunk.subarray(h.length);
        this.openSession(fe, socket);
      },
      onEnd: () => fail(PROXY_CLOSED, false),
      onClose: () => {
        // Reset by the client before anything came.
        if (socket.greeting) fail(PROXY_ERROR, false);
      },
    };
    socket.resume();
  }

  /** haproxy's line for a connection that ended before its session: `ci:cp [accept date] fe/listener: why`. */
  private connectionError(fe: RtFrontend, socket: ClientSocket, from: SockAddr, why: string): void {
    const line = `${from.address ?? ""}:${from.port ?? 0} [${logDate(socket.acceptedAt!)}] ${fe.name}/${socket.listener.logName}: ${why}`;
    this.logger.event(fe.px, fe.px.logSeparateErrors ? LEVEL.err : LEVEL.info, line, { label: null });
  }

  /** A connection that ends before its session (no PROXY header, a session rule) gives its place back. */
  private connectionEnded(fe: RtFrontend, socket: ClientSocket): void {
    fe.cur--;
    socket.listener.cur--;
    this.actconn--;
    this.admitWaiting();
    this.idleCheck();
  }

  /** Called once by each session as it ends; lets a waiting connection in. */
  sessionEnded(fe: RtFrontend, s: Session): void {
    if (!this.sessions.delete(s)) return;
    fe.cur--;
    s.listener.cur--;
    this.actconn--;
    this.admitWaiting();
    this.idleCheck();
  }

  /** A soft stop waits for the sessions, and the connections still sending their PROXY header. */
  private idleCheck(): void {
    if (this.sessions.size === 0 && this.greeting.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** New connections of `fe` must wait: maxconn or a rate limit reached, or descriptors or memory short. */
  private full(fe: RtFrontend): boolean {
    return (
      this.short.size > 0 ||
      (fe.maxconn > 0 && fe.cur >= fe.maxconn) ||
      this.actconn >= this.maxconn ||
      ((fe.sessLimit > 0 || this.global.connRate > 0 || this.global.sessRate > 0) && this.rateLimited(fe))
    );
  }

  /**
   * maxsessrate, maxconnrate or the frontend's rate-limit sessions allow no new connection now: it
   * waits unread (haproxy leaves it in the backlog) until the rate lets it in.
   */
  private rateLimited(fe: RtFrontend): boolean {
    const g = this.global;
    const now = performance.now();
    const wait = Math.max(
      g.sessRate > 0 ? this.sessRate.nextEventDelay(now, 1000, g.sessRate) : 0,
      g.connRate > 0 ? this.connRate.nextEventDelay(now, 1000, g.connRate) : 0,
      fe.sessLimit > 0 ? fe.sessRate.nextEventDelay(now, 1000, fe.sessLimit) : 0,
    );
    if (wait === 0) return false;
    // One timer, for the earliest frontend the rate lets in.
    if (this.rateTimer === undefined || now + wait < this.rateTimerAt) {
      clearTimeout(this.rateTimer);
      this.rateTimerAt = now + wait;
      this.rateTimer = setTimeout(() => {
        this.rateTimer = undefined;
        this.admitWaiting();
      }, wait).unref();
    }
    return true;
  }

  /** A connection accepted when the descriptors left are too few: closed at once, counted and said. */
  private refuseForDescriptors(fe: RtFrontend, socket: ClientSocket): void {
    this.counters.acceptErrors++;
    socket.resetAndDestroy();
    if (this.short.has("file descriptors")) return;
    this.logger.event(
      fe.px,
      3,
      `Proxy ${fe.name} refused a connection: ${fdsInUse()} file descriptors in use, the limit is ${this.fdLimit}.`,
    );
    this.fdShortage();
  }

  /**
   * Sets the process's descriptor limit as haproxy does at start: to `ulimit-n`, else to what maxconn
   * needs when the limit is lower (up to the hard limit). What it cannot set makes haproxy fail to
   * start: the message, else undefined.
   */
  fitDescriptors(): string | undefined {
    countOtherFds();
    const now = fdLimit();
    if (!now) return undefined;
    const want = this.global.ulimitN ?? (now.soft < this.maxsock ? this.maxsock : now.soft);
    if (want !== now.soft && !setSoftFdLimit(want))
      return `Cannot raise FD limit to ${want}, limit is ${now.soft}.`;
    this.fdLimit = want;
    return undefined;
  }

  /** tune.pool-low-fd-ratio: a server connection goes to the idle pool only below this share of maxsock in use. */
  keepsIdle(): boolean {
    return fdsInUse() * 100 < this.maxsock * this.global.poolLowFdRatio;
  }

  /**
   * tune.pool-high-fd-ratio: past this share of maxsock in use, a new server connection first closes
   * an idle one, `server`'s if it has one.
   */
  makeRoomForConnection(server: RtServer): void {
    if (fdsInUse() * 100 < this.maxsock * this.global.poolHighFdRatio) return;
    if (server.idle.length > 0) return server.idle.shift()!.close();
    for (const be of this.backends.values())
      for (const s of be.servers) if (s.idle.length > 0) return s.idle.shift()!.close();
  }

  /** Descriptors ran out (an accept or a connect failed): hold new connections for a second. */
  fdShortage(): void {
    this.setPressure("file descriptors");
    clearTimeout(this.fdRelief);
    this.fdRelief = setTimeout(() => this.relieve("file descriptors"), 1000).unref();
  }

  /**
   * Memory is short when the process's RSS passes `-m` megabytes, or, without `-m`, when the V8 heap
   * is 90% full; it is back below 90% of that. Checked once a second.
   */
  checkMemory(): void {
    const limit = this.global.memmax;
    let used: number;
    let max: number;
    if (limit !== undefined) {
      used = process.memoryUsage.rss();
      max = limit * 1048576;
    } else {
      const h = v8.getHeapStatistics();
      used = h.used_heap_size;
      max = 0.9 * h.heap_size_limit;
    }
    if (used > max) this.setPressure("memory");
    else if (used < 0.9 * max) this.relieve("memory");
  }

  private setPressure(what: Shortage): void {
    if (this.short.has(what)) return;
    this.short.add(what);
    this.logger.event(undefined, 1, `Sluice is short of ${what}: new connections wait until it recovers.`);
  }

  private relieve(what: Shortage): void {
    if (!this.short.delete(what)) return;
    this.logger.event(undefined, 4, `Sluice has ${what} again: accepting new connections.`);
    this.admitWaiting();
  }

  /**
   * Lets in the waiting connections the limits allow, oldest first; one whose own listener is at its
   * maxconn stays for one of that listener's connections to end, and the others pass it.
   */
  private admitWaiting(): void {
    for (const fe of this.frontends) {
      const waiting = fe.waiting;
      let i = 0;
      while (i < waiting.length && !this.full(fe)) {
        const socket = waiting[i]!;
        if (socket.listener.full()) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        socket.listener.waiting--;
        if (!socket.destroyed) this.startSession(fe, socket);
      }
    }
  }

  log(fe: RtFrontend, rec: LogRecord): void {
    if (this.logger.emit(fe.px, rec)) fe.logCount++;
  }

  /** `option contstats`: traffic counted while it flows, not only at the end. */
  traffic(fe: RtFrontend, bytesIn: number, bytesOut: number): void {
    fe.bytesIn += bytesIn;
    fe.bytesOut += bytesOut;
  }

  /** Closes every listener, and the connections waiting unread for a slot. */
  unbind(): void {
    for (const fe of this.frontends) {
      for (const l of fe.listeners.values()) l.close();
      fe.listeners.clear();
      for (const w of fe.waiting.splice(0)) {
        w.listener.waiting--;
        w.destroy();
      }
    }
  }

  /** haproxy's soft stop (SIGUSR1): stop accepting, let every session finish, then resolve. */
  softStop(): Promise<void> {
    this.stopping = true;
    this.unbind();
    for (const s of [...this.sessions]) s.closeIfIdle();
    if (this.sessions.size === 0 && this.greeting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Connections still sending their PROXY header have no session yet: a hard stop just closes them. */
  private dropGreetings(): void {
    for (const s of this.greeting) {
      s.greeting = undefined;
      s.destroy();
    }
    this.greeting.clear();
  }

  /** Hard stop (SIGTERM/SIGINT): close everything now. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.checks?.stop();
    this.unbind();
    this.dropGreetings();
    this.silentDrops.releaseAll();
    for (const s of [...this.sessions]) s.shutdown();
    clearInterval(this.purgeTimer);
    clearTimeout(this.fdRelief);
    // Idle server connections end with a FIN at a stop, as haproxy's do (a purge resets them).
    for (const be of this.backends.values())
      for (const srv of be.servers)
        for (const c of srv.idle.splice(0)) {
          c.end();
          c.close();
        }
    await this.logger.close();
  }
}

/** The C library's words for what a bind meets, which haproxy prints. */
const SYSTEM_ERRORS: Record<string, string> = {
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
  EAFNOSUPPORT: "Address family not supported by protocol",
  ENOTSOCK: "Socket operation on non-socket",
};

/** A listener that could not bind; `code`: the system's reason (EADDRINUSE...). */
export class BindError extends ConfigError {
  constructor(
    message: string,
    where: Proxy["where"],
    readonly code: string,
  ) {
    super(message, where);
  }
}

/** haproxy resolves the arguments of every ACL, those no condition names too (`nbsrv(nope)`). */
function resolveAcls(px: Proxy): void {
  for (const [name, specs] of px.acls) for (const spec of specs) compileAcl(spec, name);
}

async function lookupAddress(host: string): Promise<string | undefined> {
  if (net.isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch {
    return undefined;
  }
}

async function resolve(
  host: string,
  where: Proxy["where"] | undefined,
  failure = `could not resolve address '${host}'.`,
): Promise<string> {
  const address = await lookupAddress(host);
  if (address === undefined) throw new ConfigError(failure, where);
  return address;
}
