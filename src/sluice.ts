// The process: load the configuration, then either report on it (-c) or serve it until a signal.
import { rmSync, writeFileSync } from "node:fs";
import type { CliOptions } from "./cli.js";
import type { Diagnostic, Global } from "./config/model.js";
import type { ParseResult } from "./config/parse.js";
import { ConfigError } from "./config/errors.js";
import { formatDiagnostic, loadConfig } from "./config/load.js";
import { hasAlerts } from "./config/model.js";
import { BindError, Runtime } from "./proxy/runtime.js";
import { keepYoungGenerationSmall } from "./util/heap.js";
import { readInDoubt } from "./util/tcp-socket.js";
import { background, detached, isDaemon } from "./daemon.js";

let warned = false;
/**
 * What reaches the terminal: `-q` or the global `quiet` silence everything, alerts and verdicts
 * too, as in haproxy (the exit code says it); the background copy of `daemon` prints only the alerts
 * of its start, the first process having printed all the configuration said.
 */
let shown: "all" | "alerts" | "none" = "all";

function print(ds: Diagnostic[]): void {
  warned ||= ds.some((d) => d.level === "warning");
  if (shown === "none") return;
  for (const d of ds)
    if (shown === "all" || d.level === "alert") process.stderr.write(formatDiagnostic(d) + "\n");
}

/** The diagnostics, each file that had an alert closed by haproxy's line saying so. */
function printParsed(r: ParseResult): void {
  let from = 0;
  for (const f of r.failedFiles) {
    print(r.diagnostics.slice(from, f.after));
    fatal(`Error(s) found in configuration file : ${f.name}`);
    from = f.after;
  }
  print(r.diagnostics.slice(from));
}

function fatal(message: string): void {
  if (shown !== "none") process.stderr.write(`[ALERT]    (${process.pid}) : config : ${message}\n`);
}

/** Parses and compiles everything a start would, without listening. Exit code 0 or 1. */
export async function prepare(o: CliOptions): Promise<Runtime | undefined> {
  if (o.quiet) shown = "none";
  // -p comes first: a `pidfile` in the configuration is then the one haproxy alerts about.
  const r = loadConfig(o.files, process.env, o.pidfile === undefined ? {} : { pidfile: o.pidfile });
  if (typeof r === "string") {
    fatal(r);
    return undefined;
  }
  if (o.quiet) r.config.global.quiet = true;
  // The background copy reads what the first process read and printed: it prints none of it again.
  shown = r.config.global.quiet || isDaemon() ? "none" : "all";
  printParsed(r);
  if (hasAlerts(r.diagnostics)) {
    fatal(`Fatal errors found in configuration.`);
    return undefined;
  }
  if (o.maxconn !== undefined) r.config.global.maxconn = o.maxconn;
  if (o.daemon) r.config.global.daemon = true;
  if (o.foreground) r.config.global.daemon = false;
  if (o.memmax !== undefined) r.config.global.memmax = o.memmax;
  try {
    const rt = await Runtime.build(r.config);
    print(rt.notices.map((message) => ({ level: "warning", message })));
    if (isDaemon() && !r.config.global.quiet) shown = "alerts";
    return rt;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    print([{ level: "alert", where: e.where, message: e.message, ...(e.tight && { tight: true }) }]);
    fatal(e.verdict);
    return undefined;
  }
}

export async function checkOnly(o: CliOptions): Promise<number> {
  const rt = await prepare(o);
  if (!rt) return 1;
  const say = (line: string): void => void (shown === "none" || process.stdout.write(line));
  if (rt.frontends.every((fe) => fe.px.disabled || fe.px.binds.length === 0)) {
    if (warned) say("Warnings were found.\n");
    say("Configuration file has no error but will not start (no listener) => exit(2).\n");
    return 2;
  }
  if (warned) say("Warnings were found.\n");
  say("Configuration file is valid\n");
  return 0;
}

/** Runs until SIGINT/SIGTERM (hard stop) or SIGUSR1 (soft stop); resolves with the exit code. */
export async function serve(o: CliOptions): Promise<number> {
  keepYoungGenerationSmall();
  const rt = await prepare(o);
  if (!rt) return 1;
  if (rt.global.daemon && !isDaemon()) {
    const fds = rt.frontends.flatMap((fe) => fe.px.binds.flatMap((b) => (b.fd === undefined ? [] : [b.fd])));
    await rt.stop();
    return background(fds);
  }
  const cannot = rt.fitDescriptors();
  if (cannot) {
    alert(cannot);
    await rt.stop();
    return 1;
  }
  const old = [...o.finishPids, ...o.terminatePids];
  try {
    await bindAll(rt, old);
    if (rt.addresses().length === 0) {
      // Nothing would ever come: the old processes, never paused, go on.
      alert("No enabled listener found (check for 'bind' directives) ! Exiting.");
      await rt.stop();
      return 1;
    }
    await rt.start();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (e instanceof BindError) {
      alert(e.message, false);
      alert("Some protocols failed to start their listeners! Exiting.");
    } else print([{ level: "alert", where: e.where, message: e.message }]);
    await rt.stop();
    return 1;
  }
  // haproxy writes a pid file in daemon mode only, before it gives up its privileges, and leaves
  // it behind at exit.
  const pidfile = rt.global.daemon ? rt.global.pidfile : undefined;
  if ((pidfile !== undefined && !writePidfile(pidfile)) || !setIdentity(rt.global)) {
    await rt.stop();
    tell(old, "SIGTTIN");
    return 1;
  }
  // -sf / -st: the new process listens, then asks the old ones to finish or to terminate.
  tell(o.finishPids, "SIGUSR1");
  tell(o.terminatePids, "SIGTERM");
  // And a newer one that cannot bind asks this one to let go of its addresses, then maybe to take them back.
  process.on("SIGTTOU", () => rt.pause());
  process.on("SIGTTIN", () => rt.resume());
  if (o.debug)
    for (const a of rt.addresses()) process.stderr.write(`sluice: listening on ${a.address}:${a.port}\n`);
  if (isDaemon()) detached();
  // A bug met by one connection must not take down every other: say it loudly, count it, go on.
  // Installed last: a failure of the start itself must end the process, not be taken for one.
  process.on("uncaughtException", (err) => {
    readInDoubt();
    rt.counters.internalErrors++;
    process.stderr.write(
      `[ALERT]    (${process.pid}) : internal error, the connection concerned is lost: ${err.stack ?? err}\n`,
    );
  });

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve(0);
    };
    let stopped: Promise<void> | undefined;
    const hard = (): void => {
      stopped ??= rt.stop();
      void stopped.then(finish);
    };
    process.once("SIGINT", hard);
    process.once("SIGTERM", hard);
    let soft = false;
    process.on("SIGUSR1", () => {
      // A second SIGUSR1 (a repeated -sf) must find a listener, or it would kill the process.
      if (soft) return;
      soft = true;
      // hard-stop-after bounds how long the sessions still open may hold the stop.
      const after = rt.global.hardStopAfter;
      const timer = after === undefined ? undefined : setTimeout(hard, after);
      void rt.softStop().then(() => {
        clearTimeout(timer);
        hard();
      });
    });
  });
}

function writePidfile(path: string): boolean {
  try {
    // A file that cannot be removed may still be written over, as haproxy's open() finds.
    rmSync(path, { force: true });
  } catch {
    // Written over below, or refused there.
  }
  try {
    writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
    return true;
  } catch {
    alert(`Cannot create pidfile ${path}`);
    return false;
  }
}

/** An alert of the process itself, haproxy's `[haproxy.main()]` ones by default; `-q` silences it. */
function alert(message: string, main = true): void {
  if (shown !== "none")
    process.stderr.write(`[ALERT]    (${process.pid}) : ${main ? "[sluice.main()] " : ""}${message}\n`);
}

/** `group`/`gid`, then `user`/`uid`, taken once listening, as haproxy takes them. */
function setIdentity(g: Global): boolean {
  if (g.gid !== 0) {
    try {
      if (process.getgroups!().length > 0) process.setgroups!([]);
    } catch {
      process.stderr.write(
        `[WARNING]  (${process.pid}) : [sluice.main()] Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.\n`,
      );
    }
    try {
      process.setgid!(g.gid);
    } catch {
      alert(`Cannot set gid ${g.gid}.`);
      return false;
    }
  }
  if (g.uid !== 0) {
    try {
      process.setuid!(g.uid);
    } catch {
      alert(`Cannot set uid ${g.uid}.`);
      return false;
    }
  }
  return true;
}

/** Signals each process; how many were still there. */
function tell(pids: readonly number[], sig: NodeJS.Signals): number {
  let told = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
      told++;
    } catch {
      // That old process is already gone.
    }
  }
  return told;
}

/**
 * Binds every listener. Node 20 cannot share a port between processes, so an address the old
 * processes of -sf/-st still hold makes them pause (SIGTTOU) while this retries every 10 ms for up
 * to 2 s, as haproxy does where the system cannot share one; when it gives up, they resume (SIGTTIN).
 */
async function bindAll(rt: Runtime, old: readonly number[]): Promise<void> {
  const tries = 200;
  for (let retry = tries; ; retry--) {
    try {
      return rt.listen();
    } catch (e) {
      const busy = e instanceof BindError && e.code === "EADDRINUSE";
      if (!busy || old.length === 0 || retry <= 0) {
        if (retry < tries) {
          // The addresses this took go back first.
          rt.unbind();
          tell(old, "SIGTTIN");
        }
        throw e;
      }
      // None left to ask: one more try, at once.
      if (tell(old, "SIGTTOU") === 0) retry = 1;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
