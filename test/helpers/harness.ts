// Shared test plumbing: a proxy in this process on ports the OS picks, a proxy as a child process
// given its listening socket (bind fd@3), raw servers and clients on 127.0.0.1. Every wait is bounded.
import net from "node:net";
import dgram from "node:dgram";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseConfig } from "../../src/config/parse.js";
import { Runtime } from "../../src/proxy/runtime.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const CLI = join(ROOT, "dist/src/cli.js");

/** A fresh directory under the system's temporary one, removed when the test process exits. */
export function scratchDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to `name` in a scratch directory; its path. */
export function scratchFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export interface Proxy {
  rt: Runtime;
  /** The port of each bind, in order. */
  ports: number[];
  port: number;
  stop(): Promise<void>;
}

/**
 * Runs `text` in this process. Every `bind` line's port is replaced by one the OS picks, so write
 * `bind 127.0.0.1:1`. Log lines go to `logs` when the config logs to stdout... use the returned runtime.
 */
export async function startProxy(text: string, env: Record<string, string> = {}): Promise<Proxy> {
  const { config, diagnostics } = parseConfig([{ name: "test.cfg", text }], env);
  const alerts = diagnostics.filter((d) => d.level === "alert");
  if (alerts.length) throw new Error(alerts.map((a) => `${a.where?.line}: ${a.message}`).join("\n"));
  for (const fe of config.frontends) for (const b of fe.binds) if (b.fd === undefined) b.port = 0;
  const rt = await Runtime.build(config);
  await rt.start();
  const ports = rt.addresses().map((a) => a.port);
  return { rt, ports, port: ports[0]!, stop: () => rt.stop() };
}

export interface Child {
  proc: ChildProcess;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(sig?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the CLI with `args`; `bind fd@3` in its config adopts a socket listening on the returned port.
 * `fds`: the process's descriptor limit.
 */
export async function spawnSluice(
  args: string[],
  opts: { listen?: boolean; env?: Record<string, string>; fds?: number } = {},
): Promise<Child> {
  let port = 0;
  let fd: number | undefined;
  let server: net.Server | undefined;
  if (opts.listen !== false) {
    server = net.createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
    fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  }
  // util-linux's prlimit runs it with that many descriptors at most (Node raises its soft limit to the hard one).
  const [cmd, pre] =
    opts.fds === undefined
      ? [process.execPath, []]
      : ["prlimit", [`--nofile=${opts.fds}:${opts.fds}`, process.execPath]];
  const proc = spawn(cmd, [...pre, CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe", ...(fd !== undefined ? [fd] : [])],
    env: { ...process.env, ...opts.env },
  });
  server?.close();
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    port,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(sig: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Waits until `cond()` is true, polling, or fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Bytes that differ from one `seed` to another and along the way: a copy or a mix-up shows. A
 * xorshift32 sequence, whose period (2^32 - 1) no test reaches: no two stretches of it are alike, so
 * a chunk that lands where another should have (at any offset) shows too.
 */
export function pattern(seed: number, size = 256 * 1024): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = Math.imul(seed + 1, 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Writes `data` in pieces a turn of the loop apart, then ends: the reader gets many small reads. */
export function sendSlowly(s: net.Socket, data: Buffer, piece = 4096): void {
  let o = 0;
  const step = (): void => {
    if (o >= data.length) return void s.end();
    s.write(data.subarray(o, (o += piece)));
    setImmediate(step);
  };
  step();
}

/**
 * A port on 127.0.0.1 where nothing listens, for as long as this process lives. A port merely closed
 * could be handed to a listener of a test running beside this one; the local end of a connection held
 * open is never given to a listener that asks for any free port (tests never ask for a given one),
 * and a connect to it is still refused. That end is bound explicitly (localAddress): the kernel never
 * picks an explicitly bound port as another connection's source, so a connect to it cannot meet
 * itself (a TCP self-connect, which a port a connect chose allows once in some thirty thousand).
 */
export async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const holder = net.connect({
    port: (server.address() as net.AddressInfo).port,
    host: "127.0.0.1",
    localAddress: "127.0.0.1",
  });
  await once(holder, "connect");
  const [peer] = await accepted;
  server.close();
  for (const end of [holder, peer]) end.on("error", () => undefined).unref();
  return holder.localPort!;
}

/** Records how `s` ends: "FIN" when the peer closed it, else the error's code (ECONNRESET for an RST). */
export function recordEnd(s: net.Socket, ends: string[]): void {
  s.on("end", () => ends.push("FIN"));
  s.on("error", (e: NodeJS.ErrnoException) => ends.push(e.code ?? "error"));
}

/** A raw TCP server on 127.0.0.1:0. */
export async function rawServer(
  onConn: (s: net.Socket) => void,
): Promise<{ port: number; server: net.Server; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    onConn(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A raw server that hands each request head it receives (bodies are not read) to `answer`. */
export function headServer(answer: (head: string, s: net.Socket) => void): ReturnType<typeof rawServer> {
  return rawServer((s) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        answer(head, s);
      }
    });
  });
}

/** A syslog receiver on 127.0.0.1 (UDP, a port the OS picks): each datagram, as a line without its newline. */
export interface SyslogReceiver {
  port: number;
  /** Every datagram received and not taken yet. */
  lines: string[];
  /** Waits for a line matching `match` and takes it out of `lines`. */
  take(match: RegExp, ms?: number): Promise<string>;
  close(): Promise<void>;
}

export async function syslogReceiver(): Promise<SyslogReceiver> {
  const sock = dgram.createSocket("udp4");
  const lines: string[] = [];
  sock.on("message", (m) => lines.push(m.toString("latin1").trimEnd()));
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  return {
    port: sock.address().port,
    lines,
    take: async (match, ms = 3000) => {
      let found: string | undefined;
      await waitFor(
        () => (found = lines.find((l) => match.test(l))) !== undefined,
        ms,
        `a log line matching ${match}`,
      );
      lines.splice(lines.indexOf(found!), 1);
      return found!;
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/**
 * `global` and `defaults` sections for a test that reads httplog lines from `rx`: DEFAULTS, then
 * `extra` defaults lines (a later timeout replaces DEFAULTS' own).
 */
export function loggedDefaults(rx: SyslogReceiver, extra = ""): string {
  return `
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}  log global
  option httplog
${extra}
`;
}

/** `global` and `defaults` sections in mode tcp that send tcplog lines to `rx`. */
export const tcpLogged = (rx: SyslogReceiver): string => `
global
  log 127.0.0.1:${rx.port} format raw local0
defaults
  mode tcp
  log global
  option tcplog
  timeout client 5s
  timeout connect 2s
  timeout server 5s
`;

/**
 * Resolves when `s` closes, by a FIN or a reset alike. events.once() would reject on the reset, which a
 * proxy sends whenever it closes a socket with bytes still unread: a race a test must not lose.
 */
export function closed(s: net.Socket): Promise<void> {
  s.on("error", () => undefined);
  return new Promise((r) => (s.closed ? r() : s.once("close", () => r())));
}

/**
 * What haproxy 2.6 logs (%B) for a response it answered itself, read from the bytes its client got:
 * 21, its start line's parts, each header's name and value but for the Connection line its encoder
 * writes, and its body.
 */
export function htxSize(response: string): number {
  const end = response.indexOf("\r\n\r\n");
  const [start, ...headers] = response.slice(0, end).split("\r\n");
  // The start line less the two spaces between its parts.
  let n = 21 + start!.length - 2;
  for (const h of headers) {
    const colon = h.indexOf(":");
    if (h.slice(0, colon).toLowerCase() !== "connection") n += colon + h.slice(colon + 1).trim().length;
  }
  return n + response.length - end - 4;
}

/** Sends `data` and collects everything until the peer closes (or `ms` passes: then whatever came). */
export async function exchange(port: number, data: string | Buffer, ms = 3000): Promise<string> {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => undefined);
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  if (data.length) s.write(data);
  const t = setTimeout(() => s.destroy(), ms);
  await closed(s);
  clearTimeout(t);
  return Buffer.concat(chunks).toString("latin1");
}

/** An open client connection to read responses from one at a time. */
export class Client {
  readonly socket: net.Socket;
  private buf = "";
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setEncoding("latin1");
    this.socket.on("data", (d: string) => (this.buf += d));
    this.socket.on("close", () => (this.closed = true));
    this.socket.on("error", () => undefined);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves with the received text once `done(text)` is true. */
  async until(done: (text: string) => boolean, ms = 3000): Promise<string> {
    await waitFor(() => done(this.buf) || this.closed, ms, "response");
    if (!done(this.buf)) throw new Error(`connection closed; received: ${JSON.stringify(this.buf)}`);
    return this.buf;
  }

  /** Takes and returns everything received so far. */
  take(): string {
    const b = this.buf;
    this.buf = "";
    return b;
  }

  /** Reads one complete response with a Content-Length body, removes it from the buffer. */
  async response(ms = 3000): Promise<{ head: string; status: number; body: string }> {
    const text = await this.until((t) => completeLength(t) > 0, ms);
    const n = completeLength(text);
    this.buf = text.slice(n);
    const raw = text.slice(0, n);
    const headEnd = raw.indexOf("\r\n\r\n");
    return { head: raw.slice(0, headEnd), status: Number(raw.slice(9, 12)), body: raw.slice(headEnd + 4) };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The length of the first complete Content-Length-framed (or body-less) response, or 0. */
function completeLength(t: string): number {
  const headEnd = t.indexOf("\r\n\r\n");
  if (headEnd < 0) return 0;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(t.slice(0, headEnd));
  const len = m ? Number(m[1]) : 0;
  return t.length >= headEnd + 4 + len ? headEnd + 4 + len : 0;
}

export const DEFAULTS = `
defaults
  mode http
  timeout client 5s
  timeout connect 2s
  timeout server 5s
`;

/** The alerts a frontend of DEFAULTS with this one line gets when read. */
export const alertsFor = (line: string): string[] =>
  parseConfig([{ name: "t.cfg", text: `${DEFAULTS}frontend f\n  bind :1\n  ${line}\n` }], {})
    .diagnostics.filter((d) => d.level === "alert")
    .map((d) => d.message);

export interface Backend {
  name: string;
  port: number;
  /** Requests seen: method, url, raw header pairs, body. */
  seen: { method: string; url: string; headers: string[]; body: Buffer }[];
  /** Connections accepted. */
  connections: number;
  close(): Promise<void>;
}

/** A Node http server that answers `200 <name>` and records each request; keep-alive like a real one. */
export async function httpBackend(
  name: string,
  handler?: (
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
    body: Buffer,
  ) => void,
): Promise<Backend> {
  const http = await import("node:http");
  const b: Backend = { name, port: 0, seen: [], connections: 0, close: async () => undefined };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      b.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.rawHeaders, body });
      if (handler) return handler(req, res, body);
      res.setHeader("X-Served-By", name);
      res.end(name);
    });
  });
  server.on("connection", (s: net.Socket) => {
    b.connections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  b.port = (server.address() as net.AddressInfo).port;
  b.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return b;
}

/** The usual test topology's head: frontend `f` on one bind, sending everything to backend `bk`. */
export const FRONTEND = `frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
`;

/**
 * A port on 127.0.0.1 where a connect neither succeeds nor fails, like an unreachable host's: a
 * listening socket whose accept queue is full, so that the kernel drops further SYNs. It lives in a
 * worker thread that blocks at once, so nothing ever accepts.
 */
export async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
const s = require("node:net").createServer();
s.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  parentPort.postMessage(s.address().port);
  Atomics.wait(workerData, 0, 0, 10000);
  s.close();
});`,
    { eval: true, workerData: flag },
  );
  const [port] = (await once(w, "message")) as [number];
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await w.terminate();
  };
  // Two connections fill a backlog of 1; the connect that then hangs proves the SYNs are dropped.
  for (let i = 0; i < 8; i++) {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => undefined);
    fillers.push(s);
    const done = await Promise.race([once(s, "connect").then(() => true), sleep(150).then(() => false)]);
    if (!done) return { port, close };
  }
  await close();
  throw new Error("the accept queue never filled: connects still succeed");
}

/**
 * Sends `data` (from `from`, a loopback address), then reads until the peer closes: what came, and
 * how it ended ("FIN", or the error's code: ECONNRESET for an RST).
 */
export async function talk(
  port: number,
  data: Buffer | string,
  from = "127.0.0.1",
): Promise<{ got: string; end: string }> {
  const s = net.connect({ port, host: "127.0.0.1", localAddress: from });
  let got = "";
  let end = "FIN";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  s.on("error", (e: NodeJS.ErrnoException) => (end = e.code ?? "error"));
  s.write(data);
  const t = setTimeout(() => s.destroy(), 3000);
  // Not events.once: it rejects on the error an RST raises.
  await new Promise((r) => s.on("close", r));
  clearTimeout(t);
  return { got, end };
}
