// The article's advanced configuration (examples/advanced.cfg) end to end: routing by Host prefix
// and by upgrade headers, handshake validation, the application protocol check.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { startProxy, Client, ROOT, type Proxy } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A server of the test bed: pages answer "page:<name>", the echo app accepts echo-protocol only. */
async function testBedServer(name: string): Promise<number> {
  const server = http.createServer((_req, res) => {
    res.setHeader("X-Served-By", name);
    res.end(`page:${name}`);
  });
  const wss = new WebSocketServer({
    server,
    handleProtocols: (p) => (p.has("echo-protocol") ? "echo-protocol" : false),
  });
  wss.on("connection", (ws) => {
    ws.send(`hello:${name}`);
    ws.on("message", (d, bin) => ws.send(d, { binary: bin }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

async function withConfig(file: string): Promise<Proxy> {
  const [p1, p2] = await Promise.all([testBedServer("websrv1"), testBedServer("websrv2")]);
  const text = readFileSync(join(ROOT, "examples", file), "utf8").replace(/^global\n( {2}.*\n)+/m, "");
  const p = await startProxy(text, { WEBSRV1_PORT: String(p1), WEBSRV2_PORT: String(p2) });
  cleanup.push(p.stop);
  return p;
}

let p: Proxy;
before(async () => {
  p = await withConfig("advanced.cfg");
});

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const upgradeHead = (extra: string, connection = "Upgrade"): string =>
  `GET / HTTP/1.1\r\nHost: x\r\nConnection: ${connection}\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** Which backend a request went to, from the counters. */
async function routeOf(request: string): Promise<{ backend: string; status: number }> {
  const before = new Map([...p.rt.backends].map(([n, b]) => [n, b.total]));
  const c = new Client(p.port);
  c.send(request);
  const text = await c.until((t) => t.includes("\r\n\r\n"));
  c.close();
  const backend = [...p.rt.backends].find(([n, b]) => b.total > before.get(n)!)?.[0] ?? "";
  return { backend, status: Number(text.slice(9, 12)) };
}

test("plain requests go to bk_web, round robin over both servers", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const c = new Client(p.port);
    c.send("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
    const r = await c.response();
    c.close();
    assert.equal(r.status, 200);
    seen.add(r.body);
  }
  assert.deepEqual([...seen].sort(), ["page:websrv1", "page:websrv2"]);
  assert.deepEqual(await routeOf("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"), {
    backend: "bk_web",
    status: 200,
  });
});

test("a ws. host goes to bk_ws (case folded with -i), where a plain request is refused with 403", async () => {
  assert.deepEqual(await routeOf("GET / HTTP/1.1\r\nHost: WS.example.com\r\n\r\n"), {
    backend: "bk_ws",
    status: 403,
  });
});

test("upgrade headers route to bk_ws; a valid echo-protocol handshake becomes a tunnel", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${p.port}/`, "echo-protocol");
  const hello = await new Promise<string>((resolve, reject) => {
    ws.once("message", (d) => resolve(String(d)));
    ws.once("error", reject);
  });
  assert.match(hello, /^hello:websrv[12]$/);
  const echo = new Promise<string>((resolve) => ws.once("message", (d) => resolve(String(d))));
  ws.send("ping through sluice");
  assert.equal(await echo, "ping through sluice");
  ws.close();
  await once(ws, "close");
});

test("`Connection: keep-alive, Upgrade` is recognised as an upgrade", async () => {
  const r = await routeOf(upgradeHead("Sec-WebSocket-Protocol: echo-protocol\r\n", "keep-alive, Upgrade"));
  assert.deepEqual(r, { backend: "bk_ws", status: 101 });
});

test("a wrong or missing Sec-WebSocket-Protocol is refused with 403", async () => {
  assert.deepEqual(await routeOf(upgradeHead("Sec-WebSocket-Protocol: chat\r\n")), {
    backend: "bk_ws",
    status: 403,
  });
  assert.deepEqual(await routeOf(upgradeHead("")), { backend: "bk_ws", status: 403 });
});

test("the article's first deny rule refuses only when all four handshake headers are missing", async () => {
  // Host-routed to bk_ws with every handshake header missing: the four negated terms are all true.
  assert.deepEqual(
    await routeOf("GET / HTTP/1.1\r\nHost: ws.x\r\nSec-WebSocket-Protocol: echo-protocol\r\n\r\n"),
    {
      backend: "bk_ws",
      status: 403,
    },
  );
  // Only the Upgrade header present: the rule does not match (its terms are ANDed), the protocol
  // is valid, so the request reaches the server, which answers the non-WebSocket request itself.
  const r = await routeOf(
    "GET / HTTP/1.1\r\nHost: ws.x\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: echo-protocol\r\n\r\n",
  );
  assert.equal(r.backend, "bk_ws");
  assert.notEqual(r.status, 403);
});

test("routing by Sec-WebSocket-Protocol to different backends (examples/ws-protocol-routing.cfg)", async () => {
  const q = await withConfig("ws-protocol-routing.cfg");
  const open = (proto: string) =>
    new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${q.port}/`, proto);
      ws.once("message", (d) => {
        ws.close();
        resolve(String(d));
      });
      ws.once("error", reject);
      ws.once("unexpected-response", (_r, res) => reject(new Error(`status ${res.statusCode}`)));
    });
  // echo-protocol is served by websrv1 only, in this example.
  for (let i = 0; i < 3; i++) assert.equal(await open("echo-protocol"), "hello:websrv1");
  await assert.rejects(open("chat"), /status 403/);
});
