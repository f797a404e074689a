// The logger: a proxy's finished sessions and the process's events, formatted as haproxy does and
// handed to the proxy's log targets.
import type { Global, LogFormat, LogTarget, ProxySettings } from "../config/model.js";
import { formatConnect, formatHttplog, formatTcplog, isErrorRecord } from "./format.js";
import type { LogRecord, LogSink } from "./record.js";
import { facilityCode, LEVEL, nowMicros, SyslogHeaders } from "./syslog.js";
import { createSender, FdSender, senderKey, type Sender } from "./targets.js";
import { compileLogLine, type LineEnv, type LogLine } from "./log-format.js";
import { hostname } from "node:os";
import { ConfigError } from "../config/errors.js";

export type LogProxy = ProxySettings & { name: string };

/** haproxy's console labels for messages printed on stderr. */
export type ConsoleLabel = "ALERT" | "WARNING" | "NOTICE";

export interface LoggerOptions {
  /** `-q`, or daemon mode: no `[WARNING]`/`[ALERT]` lines on stderr. Default: `global.daemon`. */
  quiet?: boolean;
  /** The pid in headers and console lines; default process.pid. */
  pid?: number;
}

interface CompiledTarget {
  sender: Sender;
  format: LogFormat;
  facility: number;
  /** Highest level sent. */
  level: number;
  /** Levels more severe than this are lowered to it. */
  minLevel: number;
  len: number;
}

const enum Body {
  None,
  Http,
  Clf,
  Tcp,
  /** log-format's own line. */
  Custom,
}

interface Compiled {
  targets: CompiledTarget[];
  body: Body;
  line?: LogLine;
  /** The least severe level any target takes: lines above it are not even formatted. */
  maxLevel: number;
}

export class Logger {
  private readonly headers: SyslogHeaders;
  /** The headers of the proxies with a log-tag of their own, by tag. */
  private readonly tagged = new Map<string, SyslogHeaders>();
  private readonly senders = new Map<string, Sender>();
  private readonly compiled = new WeakMap<ProxySettings, Compiled>();
  /** Log-format lines compiled ahead (prepare). */
  private readonly lines = new WeakMap<ProxySettings, LogLine>();
  private readonly stderr: FdSender;
  private readonly quiet: boolean;
  private readonly pid: number;
  private readonly consolePrefix: Record<ConsoleLabel, string>;
  /** What log-format and unique-id-format lines say of the process: %pid and %H. */
  readonly lineEnv: LineEnv;

  constructor(
    readonly global: Global,
    opts: LoggerOptions = {},
  ) {
    this.pid = opts.pid ?? process.pid;
    this.quiet = opts.quiet ?? (global.daemon || global.quiet);
    this.headers = new SyslogHeaders({ hostname: global.hostname, tag: global.logTag, pid: this.pid });
    // %H is the system's name, whatever log-send-hostname says.
    this.lineEnv = { pid: this.pid, hostname: hostname() };
    this.stderr = this.sender({ kind: "stderr" } as LogTarget) as FdSender;
    // haproxy pads "[LABEL]" so that the pid column lines up: "[WARNING]  (pid) : ".
    const p = (l: string): string => `[${l}]` + " ".repeat(11 - l.length - 2) + `(${this.pid}) : `;
    this.consolePrefix = { ALERT: p("ALERT"), WARNING: p("WARNING"), NOTICE: p("NOTICE") };
  }

  /** Lines that could not be sent, over every target. */
  get dropped(): number {
    let n = 0;
    for (const s of this.senders.values()) n += s.dropped;
    return n;
  }

  /**
   * Compiles `px`'s log-format line now, while the stick tables its `%[...]` may name are in reach
   * (the line is otherwise made with the first one logged); throws if one names no table.
   */
  prepare(px: LogProxy): void {
    const f = px.logFormat;
    if (px.logs.length === 0 || typeof f !== "object") return;
    const line = compileLogLine(f.custom, { http: px.mode === "http", logasap: px.logasap });
    if (typeof line !== "function") throw new ConfigError(line.error, f.where, true);
    this.lines.set(px, line);
  }

  /** Whether `px` logs traffic at all: without targets the stream may skip filling records. */
  enabled(px: ProxySettings): boolean {
    return px.logs.length > 0;
  }

  /** The record interface for one proxy. */
  sink(px: LogProxy): LogSink {
    return { enabled: px.logs.length > 0, emit: (rec) => this.emit(px, rec) };
  }

  /**
   * Logs one finished request (http) or session (tcp); says whether it made a line. Formats
   * synchronously: the data path may reuse `rec` as soon as this returns.
   */
  emit(px: LogProxy, rec: LogRecord): boolean {
    if (px.logs.length === 0) return false;
    if (px.dontlognull && rec.empty) return false;
    const c = this.compile(px);
    if (c.body === Body.None) {
      // haproxy logs "Connect from" as each stream starts: in mode http, each request it could read.
      const read = rec.requestLine !== "" && rec.requestLine !== "<BADREQ>";
      if ((px.mode === "http" && !read) || LEVEL.info > c.maxLevel) return false;
      this.send(c.targets, LEVEL.info, formatConnect(rec, px.mode), px.logTag);
      return true;
    }
    const error = (px.logSeparateErrors || px.dontlogNormal) && isErrorRecord(rec, px.mode === "http");
    if (px.dontlogNormal && !error) return false;
    // set-log-level's, whatever the line is; silent's line is not even counted.
    const level = rec.logLevel ?? (px.logSeparateErrors && error ? LEVEL.err : LEVEL.info);
    if (level < 0) return false;
    // haproxy counts the line (%lc) before its targets' levels filter it out.
    if (level > c.maxLevel) return true;
    const line =
      c.body === Body.Http
        ? formatHttplog(rec, false, px.logasap)
        : c.body === Body.Tcp
          ? formatTcplog(rec, px.logasap)
          : c.body === Body.Custom
            ? c.line!(rec, this.lineEnv)
            : formatHttplog(rec, true, px.logasap);
    this.send(c.targets, level, line, px.logTag);
    return true;
  }

  /**
   * An event (server state change, health check, alert): sent to the proxy's log targets (the
   * global ones without a proxy) at `level`, and printed on stderr as haproxy does unless quiet.
   * `stderr.label` defaults to ALERT for emerg, WARNING for alert..notice, nothing for info/debug
   * (haproxy prints "Server bk/s1 is DOWN" as a WARNING while logging it at alert); `stderr.message`
   * replaces the text there (haproxy quotes names on the console: "backend 'bk' has no server available!").
   */
  event(
    px: LogProxy | undefined,
    level: number,
    message: string,
    stderr?: { label?: ConsoleLabel | null; message?: string },
  ): void {
    const targets = px ? px.logs : this.global.logs;
    if (targets.length > 0) this.send(this.compileTargets(targets), level, message, px?.logTag);
    if (this.quiet) return;
    const label =
      stderr?.label !== undefined ? stderr.label : level === 0 ? "ALERT" : level <= 5 ? "WARNING" : null;
    if (label === null) return;
    this.stderr.send(this.consolePrefix[label] + (stderr?.message ?? message), 65535);
  }

  /** Flushes every target and closes the sockets. */
  async close(): Promise<void> {
    const all = [...this.senders.values()];
    this.senders.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  /** `tag`: a proxy's own (log-tag), else the global one. */
  private send(targets: CompiledTarget[], level: number, body: string, tag?: string): void {
    const headers = tag === undefined ? this.headers : this.taggedHeaders(tag);
    let ms = 0;
    let us: number | undefined;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      if (level > t.level) continue;
      const lv = level < t.minLevel ? t.minLevel : level;
      let header = "";
      if (t.format !== "raw") {
        if (ms === 0) {
          us = nowMicros();
          ms = Math.floor(us / 1000);
        }
        header = headers.header(t.format, t.facility, lv, ms, us);
      }
      t.sender.send(header + body, t.len);
    }
  }

  private taggedHeaders(tag: string): SyslogHeaders {
    let h = this.tagged.get(tag);
    if (!h)
      this.tagged.set(tag, (h = new SyslogHeaders({ hostname: this.global.hostname, tag, pid: this.pid })));
    return h;
  }

  private compile(px: LogProxy): Compiled {
    let c = this.compiled.get(px);
    if (c !== undefined && c.targets.length === px.logs.length) return c;
    const targets = this.compileTargets(px.logs);
    let body: Body;
    let line: LogLine | undefined;
    const f = px.logFormat;
    if (f === undefined) body = Body.None;
    else if (typeof f === "object") {
      // Checked as the configuration was read.
      line =
        this.lines.get(px) ??
        (compileLogLine(f.custom, { http: px.mode === "http", logasap: px.logasap }) as LogLine);
      body = Body.Custom;
    } else if (f === "tcplog" || px.mode === "tcp")
      body = Body.Tcp; // httplog on tcp falls back, as in haproxy
    else body = f === "httplog-clf" ? Body.Clf : Body.Http;
    c = { targets, body, line, maxLevel: Math.max(...targets.map((t) => t.level)) };
    this.compiled.set(px, c);
    return c;
  }

  private compileTargets(logs: LogTarget[]): CompiledTarget[] {
    const out: CompiledTarget[] = [];
    for (const t of logs) {
      out.push({
        sender: this.sender(t),
        format: t.format,
        facility: facilityCode(t.facility),
        level: t.level,
        minLevel: t.minLevel,
        len: t.len,
      });
    }
    return out;
  }

  private sender(t: LogTarget): Sender {
    const key = senderKey(t);
    let s = this.senders.get(key);
    if (s === undefined) {
      s = createSender(t);
      this.senders.set(key, s);
    }
    return s;
  }
}
