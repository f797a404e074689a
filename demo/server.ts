// One server of the article's test bed: web pages and a WebSocket echo application speaking
// `echo-protocol`, on the same port. Every answer says which server gave it.
//
//   node dist/demo/server.js --name websrv1 [--host 127.0.0.1] [--port 8081]
import http from "node:http";
import { readFile } from "node:fs/promises";
import { join, dirname, extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";

/** demo/public, found from dist/demo/ (compiled) or demo/ (source). */
export const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "demo", "public");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
};

export const PROTOCOL = "echo-protocol";

export interface DemoServer {
  name: string;
  port: number;
  close(): Promise<void>;
}

export async function startDemoServer(name: string, host: string, port: number): Promise<DemoServer> {
  const server = http.createServer((req, res) => void serveHttp(name, req, res));
  const wss = new WebSocketServer({
    noServer: true,
    // ws picks the subprotocol: ours, when the client offers it.
    handleProtocols: (protocols: Set<string>) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });
  server.on("upgrade", (req, socket, head) => {
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim());
    if (!offered.includes(PROTOCOL)) {
      // A strict server: no application we know of, no WebSocket.
      const body = `${name}: this server only speaks the '${PROTOCOL}' WebSocket subprotocol\n`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Served-By: ${name}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => echo(name, ws));
  });
  wss.on("headers", (headers) => headers.push(`X-Served-By: ${name}`));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    name,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function echo(name: string, ws: WebSocket): void {
  ws.send(JSON.stringify({ type: "hello", server: name, protocol: ws.protocol }));
  ws.on("message", (data, isBinary) => {
    if (isBinary) ws.send(data, { binary: true });
    else ws.send(JSON.stringify({ type: "echo", server: name, text: String(data) }));
  });
}

async function serveHttp(name: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  res.setHeader("X-Served-By", name);
  const url = new URL(req.url ?? "/", "http://demo");
  if (url.pathname === "/whoami") {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ server: name }));
    return;
  }
  if (url.pathname === "/server.html") {
    res.setHeader("Content-Type", TYPES[".html"]!);
    res.end(serverPage(name));
    return;
  }
  const path = normalize(url.pathname === "/" ? "/index.html" : url.pathname);
  if (path.includes("..")) return notFound(res);
  try {
    const body = await readFile(join(PUBLIC, path));
    res.setHeader("Content-Type", TYPES[extname(path)] ?? "application/octet-stream");
    res.setHeader("Cache-Control", "no-cache");
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    notFound(res);
  }
}

function notFound(res: http.ServerResponse): void {
  res.statusCode = 404;
  res.setHeader("Content-Type", "text/plain");
  res.end("not found\n");
}

function serverPage(name: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${name}</title><link rel="stylesheet" href="/style.css"></head>
<body class="plain"><main><h1>This page was served by <span class="server">${name}</span></h1>
<p>Reload it: the balancer sends each request to the next server in turn (roundrobin).</p>
<p><a href="/">Back to the WebSocket demo</a></p></main></body></html>
`;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const name = arg("name", "websrv1");
  const s = await startDemoServer(name, arg("host", "127.0.0.1"), Number(arg("port", "8081")));
  process.stdout.write(`${name} listening on ${arg("host", "127.0.0.1")}:${s.port}\n`);
  const stop = (): void => void s.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
