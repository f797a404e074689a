// `npm start` / `npm run demo:simple`: the article's test bed on loopback. Two demo servers (web
// pages + the `echo-protocol` WebSocket application) and Sluice in front of them, running one of the
// article's configurations from examples/.
//
//   node dist/demo/start.js [advanced|simple]
//
// Ports come from SLUICE_PORT (8080), WEBSRV1_PORT (8081) and WEBSRV2_PORT (8082); the example
// configurations read the same variables. Ctrl-C (or SIGTERM) stops everything and exits 0.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "./server.js";

export const ROOT = packageRoot();
export const CLI = join(ROOT, "dist", "src", "cli.js");
export const SERVER = join(ROOT, "dist", "demo", "server.js");
export const HOST = "127.0.0.1";

export type ConfigName = "simple" | "advanced";
export type PartName = "websrv1" | "websrv2" | "sluice";
export const SERVERS = ["websrv1", "websrv2"] as const;

export interface DemoPorts {
  sluice: number;
  websrv1: number;
  websrv2: number;
}

export interface StartOptions {
  config: ConfigName;
  ports: DemoPorts;
  /** Called with every line a part writes (stdout and stderr). */
  onLine?: (part: PartName, line: string) => void;
  /** Called when a part exits while the demo is not stopping, nor stopping that part. */
  onUnexpectedExit?: (part: PartName, how: string) => void;
  /** How long each part may take to listen. */
  readyTimeoutMs?: number;
}

export interface Demo {
  readonly config: ConfigName;
  readonly ports: DemoPorts;
  readonly url: string;
  pid(part: PartName): number | undefined;
  /** Everything the part wrote so far. */
  output(part: PartName): string;
  /** Resolves once the part's output matches `re` (already written or to come); rejects after `ms`. */
  waitForOutput(part: PartName, re: RegExp, ms: number): Promise<void>;
  /** Stops one part on purpose (not reported as unexpected); resolves once it exited. */
  stopPart(part: PartName, signal?: NodeJS.Signals): Promise<void>;
  /** Stops every part still running; resolves once all exited. Safe to call more than once. */
  stop(): Promise<void>;
}

interface Part {
  name: PartName;
  proc: ChildProcess;
  out: string;
  exited: Promise<string>;
  expected: boolean;
  listeners: Set<() => void>;
}

const exitedAlready = (p: ChildProcess): boolean => p.exitCode !== null || p.signalCode !== null;

/** Fails with a clear message when the port is taken, before anything starts. */
async function ensureFree(port: number, env: string): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((ok, fail) => {
    probe.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        new Error(
          e.code === "EADDRINUSE"
            ? `port ${port} on ${HOST} is already in use: set ${env} to another port`
            : `cannot use ${HOST}:${port} (${env}): ${e.message}`,
        ),
      ),
    );
    probe.listen(port, HOST, () => ok());
  });
  await new Promise<void>((ok) => probe.close(() => ok()));
}

/** Resolves once something accepts connections on the port; rejects after `ms` or when `gone()`. */
async function waitListening(port: number, ms: number, gone: () => string | undefined): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const why = gone();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((done) => {
      const s = net.connect(port, HOST);
      s.setTimeout(500);
      s.once("connect", () => {
        s.destroy();
        done(true);
      });
      s.once("error", () => done(false));
      s.once("timeout", () => {
        s.destroy();
        done(false);
      });
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${HOST}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts websrv1, websrv2, then Sluice; resolves once all three listen. On failure, stops what started. */
export async function startDemo(opts: StartOptions): Promise<Demo> {
  const { config, ports } = opts;
  const readyMs = opts.readyTimeoutMs ?? 10_000;
  const parts = new Map<PartName, Part>();
  let stopping = false;

  await ensureFree(ports.websrv1, "WEBSRV1_PORT");
  await ensureFree(ports.websrv2, "WEBSRV2_PORT");
  await ensureFree(ports.sluice, "SLUICE_PORT");

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLUICE_PORT: String(ports.sluice),
    WEBSRV1_PORT: String(ports.websrv1),
    WEBSRV2_PORT: String(ports.websrv2),
  };

  const launch = (name: PartName, args: string[]): Part => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const part: Part = {
      name,
      proc,
      out: "",
      exited: Promise.resolve(""),
      expected: false,
      listeners: new Set(),
    };
    part.exited = new Promise<string>((done) => {
      proc.once("exit", (code, signal) => done(signal ? `killed by ${signal}` : `exit code ${code}`));
      proc.once("error", (e) => done(`could not start: ${e.message}`));
    });
    let pending = "";
    const take = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      part.out += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) opts.onLine?.(name, line);
      for (const l of [...part.listeners]) l();
    };
    proc.stdout!.on("data", take);
    proc.stderr!.on("data", take);
    void part.exited.then((how) => {
      if (pending) opts.onLine?.(name, pending);
      for (const l of [...part.listeners]) l();
      if (stopping || part.expected) return;
      // Ctrl-C reaches the children too, at the same time as us: give our own handler a moment.
      setTimeout(() => {
        if (!stopping && !part.expected) opts.onUnexpectedExit?.(name, how);
      }, 300).unref();
    });
    parts.set(name, part);
    return part;
  };

  const gone = (p: Part) => (): string | undefined =>
    exitedAlready(p.proc) ? `${p.name} exited before listening:\n${p.out.trim()}` : undefined;

  const stopPart = async (name: PartName, signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const p = parts.get(name);
    if (!p) return;
    p.expected = true;
    if (exitedAlready(p.proc)) return;
    p.proc.kill(signal);
    const hard = setTimeout(() => p.proc.kill("SIGKILL"), 5000);
    await p.exited;
    clearTimeout(hard);
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all([...parts.keys()].map((n) => stopPart(n)));
    process.off("exit", killAll);
  };
  // If this process ends without stopping the demo (a crash, process.exit), take the children along.
  const killAll = (): void => {
    for (const p of parts.values()) if (!exitedAlready(p.proc)) p.proc.kill("SIGKILL");
  };
  process.once("exit", killAll);

  try {
    const servers = SERVERS.map((name) => {
      const peers = SERVERS.flatMap((n) => ["--peer", `${n}=http://${HOST}:${ports[n]}`]);
      return launch(name, [SERVER, "--name", name, "--host", HOST, "--port", String(ports[name]), ...peers]);
    });
    await Promise.all(servers.map((p) => waitListening(ports[p.name], readyMs, gone(p))));
    const sluice = launch("sluice", [CLI, "-f", join(ROOT, "examples", `${config}.cfg`)]);
    await waitListening(ports.sluice, readyMs, gone(sluice));
    // Something else may have taken the port in between: make sure Sluice is the one that stayed up.
    await new Promise((r) => setTimeout(r, 100));
    const why = gone(sluice)();
    if (why) throw new Error(why);
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    config,
    ports,
    url: `http://${HOST}:${ports.sluice}/`,
    pid: (name) => parts.get(name)?.proc.pid,
    output: (name) => parts.get(name)?.out ?? "",
    waitForOutput: (name, re, ms) =>
      new Promise<void>((ok, fail) => {
        const p = parts.get(name);
        if (!p) return fail(new Error(`no part named ${name}`));
        const check = (): void => {
          if (re.test(p.out)) finish();
          else if (exitedAlready(p.proc)) finish(new Error(`${name} exited without writing ${re}`));
        };
        const finish = (err?: Error): void => {
          clearTimeout(timer);
          p.listeners.delete(check);
          if (err) fail(err);
          else ok();
        };
        const timer = setTimeout(() => finish(new Error(`${name} did not write ${re} within ${ms} ms`)), ms);
        p.listeners.add(check);
        check();
      }),
    stopPart,
    stop,
  };
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}='${raw}' is not a port number`);
  return n;
}

const PAINT: Record<PartName, string> = { sluice: "35", websrv1: "34", websrv2: "33" };
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const tag = (part: PartName | "demo"): string => {
  const label = `[${part}]`.padEnd(9);
  return color && part !== "demo" ? `\x1b[${PAINT[part]}m${label}\x1b[0m` : label;
};

async function main(): Promise<number> {
  const arg = process.argv[2] ?? "advanced";
  if (arg !== "simple" && arg !== "advanced") {
    process.stderr.write(`usage: node dist/demo/start.js [advanced|simple]\n`);
    return 2;
  }
  const config: ConfigName = arg;
  let ports: DemoPorts;
  try {
    ports = {
      sluice: portFromEnv("SLUICE_PORT", 8080),
      websrv1: portFromEnv("WEBSRV1_PORT", 8081),
      websrv2: portFromEnv("WEBSRV2_PORT", 8082),
    };
  } catch (e) {
    process.stderr.write(`${tag("demo")} ${(e as Error).message}\n`);
    return 2;
  }
  const say = (line: string): void => void process.stdout.write(`${tag("demo")} ${line}\n`);

  let demo: Demo | undefined;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (finish = r));
  let quitting = false;
  const quit = (why: string, code: number): void => {
    if (quitting) return;
    quitting = true;
    say(`${why}: stopping everything`);
    void (demo?.stop() ?? Promise.resolve()).then(() => {
      say("stopped");
      finish(code);
    });
  };
  process.once("SIGINT", () => quit("Ctrl-C", 0));
  process.once("SIGTERM", () => quit("SIGTERM", 0));

  try {
    demo = await startDemo({
      config,
      ports,
      onLine: (part, line) => void process.stdout.write(`${tag(part)} ${line}\n`),
      onUnexpectedExit: (part, how) => {
        if (part === "sluice") {
          say(`Sluice stopped unexpectedly (${how}); without it there is no demo`);
          quit("Sluice is gone", 1);
        } else {
          const other = part === "websrv1" ? "websrv2" : "websrv1";
          // Often what the banner's "Try: kill <pid>" asked for: not an error.
          say(`${part} exited (${how}).`);
          say(`Sluice's health checks (every 3 s) take it out; new connections go to ${other}.`);
        }
      },
    });
  } catch (e) {
    if (quitting) return finished;
    process.stderr.write(`${tag("demo")} could not start the demo: ${(e as Error).message}\n`);
    return 1;
  }
  if (quitting) return finished;

  const d = demo;
  const wsHost = `ws.localhost:${ports.sluice}`;
  const lines = [
    "",
    `  Sluice demo: the article's ${config} configuration (examples/${config}.cfg)`,
    "",
    `  Open  ${d.url}`,
    "",
    `  sluice   ${HOST}:${ports.sluice}  the load balancer (frontend ft_web)          pid ${d.pid("sluice")}`,
    `  websrv1  ${HOST}:${ports.websrv1}  web pages + echo-protocol WebSocket app       pid ${d.pid("websrv1")}`,
    `  websrv2  ${HOST}:${ports.websrv2}  the same, second server                      pid ${d.pid("websrv2")}`,
    "",
    `  Try:  kill ${d.pid("websrv1")}   stop websrv1: the health checks take it out, traffic moves to websrv2`,
    ...(config === "advanced"
      ? [
          `        http://${wsHost}/   routed to bk_ws by the Host header; its deny rules refuse a plain GET (403)`,
        ]
      : []),
    `        Ctrl-C     stop everything`,
    "",
    "  Every part's output follows, tagged with its name. Sluice logs each request in httplog format.",
    "",
  ];
  process.stdout.write(lines.join("\n") + "\n");
  return finished;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main());
}
