// One server of the article's test bed: static web pages and a WebSocket echo application that
// speaks the `echo-protocol` subprotocol, both on the same port, like the article's Apache + node.js
// pair. Every HTTP answer carries `X-Served-By: <name>` and every WebSocket starts with a hello that
// names the server, so a person watching the page sees the balancing.
//
//   node dist/demo/server.js --name websrv1 [--host 127.0.0.1] [--port 8081]
//                            [--peer websrv2=http://127.0.0.1:8082 ...]
//
// It answers both configurations' health checks: `HEAD /` (200) and the WebSocket upgrade on `/`
// with `Sec-WebSocket-Protocol: echo-protocol` (101).
import http from "node:http";
import type { Duplex } from "node:stream";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WebSocketServer, type WebSocket } from "ws";

export const PROTOCOL = "echo-protocol";

/** The package root: the nearest folder above this file with a package.json (works from demo/ and dist/demo/). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`no package.json above ${from}`);
}

export const PUBLIC_DIR = join(packageRoot(), "demo", "public");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

export interface DemoServerOptions {
  name: string;
  host?: string;
  /** 0: the system picks one. */
  port?: number;
  /** Other servers of the test bed, shown on the page as direct links (name → base URL). */
  peers?: Record<string, string>;
  /** Where to write a line per WebSocket opened or closed; nothing when absent. */
  log?: (line: string) => void;
}

export interface DemoServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** WebSockets currently open. */
  readonly sockets: number;
  /** Says goodbye to every WebSocket (1001), stops listening, resolves once everything is closed. */
  close(): Promise<void>;
}

/** The hello a WebSocket receives first. */
export interface Hello {
  type: "hello";
  server: string;
  protocol: string;
  /** The Host header the server received: shows the `ws.` host routing. */
  host: string;
  /** WebSockets open on this server, this one included. */
  open: number;
}

/** What every text message comes back as. */
export interface Echo {
  type: "echo";
  server: string;
  text: string;
  /** How many messages this socket has sent, this one included. */
  seq: number;
}

export async function startDemoServer(opts: DemoServerOptions): Promise<DemoServer> {
  const { name } = opts;
  const host = opts.host ?? "127.0.0.1";
  const peers = opts.peers ?? {};
  const log = opts.log ?? ((): void => undefined);

  const server = http.createServer((req, res) => {
    serveHttp(name, peers, req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
        res.end(`${name}: internal error: ${String(err)}\n`);
      } else res.destroy();
    });
  });
  // The WebSocket server never listens by itself: the HTTP server hands it the upgrades it accepts.
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false),
  });
  wss.on("headers", (headers) => headers.push(`X-Served-By: ${name}`));

  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => undefined);
    const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
    if (upgrade !== "websocket") return refuse(socket, name, 400, `cannot upgrade to '${upgrade}'`);
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
    if (!offered.includes(PROTOCOL)) {
      const what = offered.length ? `subprotocol '${offered.join("', '")}'` : "no subprotocol";
      return refuse(socket, name, 400, `${what} offered; this server only speaks '${PROTOCOL}'`);
    }
    // ws answers 400 itself for a bad key or version.
    wss.handleUpgrade(req, socket, head, (ws) => echo(ws, req, name, wss, log));
  });

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const port = (server.address() as { port: number }).port;

  let closing: Promise<void> | undefined;
  return {
    name,
    host,
    port,
    get sockets() {
      return wss.clients.size;
    },
    close() {
      closing ??= new Promise<void>((done) => {
        for (const ws of wss.clients) ws.close(1001, `${name} is stopping`);
        server.close(() => done());
        server.closeIdleConnections();
        // Peers that do not answer the close handshake, or requests still running: cut after 2 s.
        const cut = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          server.closeAllConnections();
        }, 2000);
        cut.unref();
      });
      return closing;
    },
  };
}

function echo(
  ws: WebSocket,
  req: http.IncomingMessage,
  name: string,
  wss: WebSocketServer,
  log: (line: string) => void,
): void {
  const from = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  log(`WebSocket open from ${from} (${wss.clients.size} open)`);
  const hello: Hello = {
    type: "hello",
    server: name,
    protocol: ws.protocol,
    host: req.headers.host ?? "",
    open: wss.clients.size,
  };
  ws.send(JSON.stringify(hello));
  let seq = 0;
  ws.on("message", (data, isBinary) => {
    seq++;
    if (isBinary) return ws.send(data, { binary: true });
    const reply: Echo = { type: "echo", server: name, text: String(data), seq };
    ws.send(JSON.stringify(reply));
  });
  ws.on("error", () => undefined);
  ws.on("close", () => log(`WebSocket closed from ${from} (${wss.clients.size} open)`));
}

/** Answers an upgrade it will not do the way a strict server does: a complete HTTP error, then close. */
function refuse(socket: Duplex, name: string, status: number, why: string): void {
  const body = `${status} ${http.STATUS_CODES[status]}: ${name}: ${why}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Served-By: ${name}\r\n` +
      `Connection: close\r\n\r\n` +
      body,
  );
}

async function serveHttp(
  name: string,
  peers: Record<string, string>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  res.setHeader("X-Served-By", name);
  res.setHeader("Cache-Control", "no-store");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return text(res, req, 405, `${name}: only GET and HEAD here\n`);
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? "/", "http://demo").pathname);
  } catch {
    return text(res, req, 400, `${name}: bad path\n`);
  }
  if (path === "/whoami") {
    return send(res, req, 200, CONTENT_TYPES[".json"]!, JSON.stringify({ server: name, peers }));
  }
  if (path === "/") path = "/index.html";
  const file = resolve(PUBLIC_DIR, "." + path);
  if (!file.startsWith(PUBLIC_DIR + sep)) return text(res, req, 404, `${name}: not found\n`);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return text(res, req, 404, `${name}: not found: ${path}\n`);
  }
  const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
  // The plain page says which server sent it.
  if (extname(file) === ".html") body = Buffer.from(body.toString("utf8").replaceAll("{{server}}", name));
  send(res, req, 200, type, body);
}

function send(
  res: http.ServerResponse,
  req: http.IncomingMessage,
  status: number,
  type: string,
  body: string | Buffer,
): void {
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

function text(res: http.ServerResponse, req: http.IncomingMessage, status: number, body: string): void {
  send(res, req, status, "text/plain; charset=utf-8", body);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: "string", default: "websrv1" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8081" },
      peer: { type: "string", multiple: true, default: [] },
      verbose: { type: "boolean", default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`demo server: bad --port '${values.port}'\n`);
    process.exit(2);
  }
  const peers: Record<string, string> = {};
  for (const p of values.peer ?? []) {
    const eq = p.indexOf("=");
    if (eq > 0) peers[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const name = values.name!;
  let srv: DemoServer;
  try {
    srv = await startDemoServer({
      name,
      host: values.host,
      port,
      peers,
      log: values.verbose ? (line) => process.stdout.write(`${line}\n`) : undefined,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "EADDRINUSE" ? `${values.host}:${port} is already in use` : err.message;
    process.stderr.write(`${name}: cannot listen: ${why}\n`);
    process.exit(1);
  }
  // A Ctrl-C in `npm start`'s terminal reaches this process, then start.js's SIGTERM follows: one stop.
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${name}: ${sig}, stopping\n`);
    void srv.close().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Said once a signal finds its handler: whoever reads it may stop this process at once.
  process.stdout.write(`${name} listening on http://${srv.host}:${srv.port}/\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
