// Runtime frontends: compiled routing rules, and listeners that honour maxconn and backlog.
import type { Bind, HttpRequestAction, HttpResponseAction, Proxy } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { compileCondition } from "../acl/index.js";
import type { RtBackend } from "./backend.js";
import { compileHttpRules, compileRules, withDefaults, type CompiledRule, type Cond } from "./rules.js";
import { compileTcpRules, type CompiledTcpRule } from "./tcp-rules.js";
import type { ClientSocket } from "./client-socket.js";
import type { Listener } from "../util/tcp-socket.js";
import { compileLogLine, type LogLine } from "../log/log-format.js";
import type { LogFormat } from "../log/log-format.js";
import { backendNameFormat, isBackendFormat } from "../config/rules.js";
import { FreqCtr } from "../stick/freq-ctr.js";

/** A use_backend rule: its backend, or the format that names one per request. */
export interface Route {
  backend: RtBackend | Exclude<LogFormat, string>;
  cond: Cond | undefined;
}

/** The parts of a proxy a request meets on the frontend side. */
export class RtFrontend {
  readonly name: string;
  readonly requestRules: CompiledRule<HttpRequestAction>[];
  readonly redirectRules: CompiledRule<HttpRequestAction>[];
  readonly responseRules: CompiledRule<HttpResponseAction>[];
  /** http-after-response: run on every response, the server's and the proxy's own. */
  readonly afterRules: CompiledRule<HttpResponseAction>[];
  /** `monitor fail` conditions: a request for the monitor-uri that meets one gets a 503. */
  readonly monitorFail: Cond[];
  readonly tcpConnection: CompiledTcpRule[];
  readonly tcpSession: CompiledTcpRule[];
  readonly tcpContent: CompiledTcpRule[];
  readonly routes: Route[];
  /** Every backend by name, for names made per request. */
  private readonly backends: Map<string, RtBackend>;
  readonly defaultBackend: RtBackend | undefined;
  /** Connections being served (feconn). */
  cur = 0;
  get id(): number {
    return this.px.id;
  }
  total = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly maxconn: number;
  /**
   * rate-limit sessions (0: none), and the sessions of the last second, counted for it or where a
   * configuration reads the rate; likewise the HTTP requests.
   */
  readonly sessLimit: number;
  readonly sessRate = new FreqCtr();
  readonly reqRate = new FreqCtr();
  /** Lines logged so far (%lc). */
  logCount = 0;
  /** Accepted connections waiting, unread, for a slot below maxconn (haproxy leaves them in the backlog). */
  readonly waiting: ClientSocket[] = [];
  /** Each bind's listener while it listens (a pause closes some, a resume binds them again). */
  readonly listeners = new Map<Bind, Listener>();
  /**
   * The time a request head may take (timeout http-request, else client), and an idle kept-alive
   * connection may wait for the next one (timeout http-keep-alive first). haproxy 2.6 keeps both on
   * the connection's timer, which exists only with timeout client: without it, neither applies.
   */
  readonly headTimeout: number | undefined;
  readonly idleTimeout: number | undefined;
  /** unique-id-format, compiled (checked as the configuration was read). */
  readonly uniqueId: LogLine | undefined;

  constructor(
    readonly px: Proxy,
    backends: Map<string, RtBackend>,
    /** A listen section's own servers, used when it names no default_backend. */
    readonly own: RtBackend | undefined,
  ) {
    this.name = px.name;
    this.requestRules = compileHttpRules(px, (from) => from.httpRequest, "request");
    this.redirectRules = compileRules(px.redirects, px, "request");
    this.responseRules = compileHttpRules(px, (from) => from.httpResponse, "response");
    this.afterRules = compileHttpRules(px, (from) => from.httpAfterResponse, "response");
    this.monitorFail = px.monitorFail.map((c) => compileCondition(c, px.acls));
    this.tcpConnection = withDefaults(px, (from, as) =>
      compileTcpRules(from.tcpConnection, as, "tcp-request connection"),
    );
    this.tcpSession = withDefaults(px, (from, as) =>
      compileTcpRules(from.tcpSession, as, "tcp-request session"),
    );
    this.tcpContent = withDefaults(px, (from, as) =>
      compileTcpRules(from.tcpContent, as, "tcp-request content"),
    );
    const find = (name: string, where: Bind["where"]): RtBackend => {
      const b = backends.get(name);
      if (!b) throw new ConfigError(`Proxy '${px.name}': unable to find required backend: '${name}'.`, where);
      return b;
    };
    this.routes = px.useBackends.map((u) => {
      const format = isBackendFormat(u.backend) ? backendNameFormat(u.backend) : undefined;
      return {
        backend:
          format === undefined
            ? find(u.backend, u.where)
            : typeof format === "string"
              ? () => format
              : format,
        cond: u.cond ? compileCondition(u.cond, px.acls) : undefined,
      };
    });
    this.backends = backends;
    this.defaultBackend = px.defaultBackend ? find(px.defaultBackend.name, px.defaultBackend.where) : own;
    // 0: no frontend limit of its own; the global maxconn still applies.
    this.maxconn = px.maxconn ?? 0;
    this.sessLimit = px.rateLimitSessions;
    const t = px.timeouts;
    this.headTimeout = t.client === undefined ? undefined : (t.httpRequest ?? t.client);
    this.idleTimeout = t.client === undefined ? undefined : (t.httpKeepAlive ?? this.headTimeout);
    const uid = px.uniqueIdFormat;
    this.uniqueId = uid
      ? (compileLogLine(uid.text, {
          http: px.mode === "http",
          logasap: false,
          purpose: "unique-id",
        }) as LogLine)
      : undefined;
  }

  /**
   * `use_backend` rules in order, then `default_backend`; undefined means 503. A name made per
   * request that names no backend ends the rules, as in haproxy: the default backend it is.
   */
  route(ctx: Parameters<Cond>[0]): RtBackend | undefined {
    for (const r of this.routes) {
      if (r.cond && !r.cond(ctx)) continue;
      if (typeof r.backend !== "function") return r.backend;
      return this.backends.get(r.backend(ctx)) ?? this.defaultBackend;
    }
    return this.defaultBackend;
  }
}
