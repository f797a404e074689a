// Health checks against real servers that refuse, answer 500, answer 200 instead of 101, hang or
// come back. Intervals are 100 ms; every wait is bounded.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { once } from "node:events";
import { WebSocketServer } from "ws";
import { parseConfig } from "../../src/config/parse.js";
import { RtBackend, RtServer } from "../../src/proxy/backend.js";
import { HealthChecks } from "../../src/check/checks.js";
import { startProxy, waitFor, sleep, DEFAULTS, Client, FRONTEND } from "../helpers/harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** An HTTP server whose status the test sets, counting the checks it receives. */
async function statusServer(
  initial: number,
): Promise<{ port: number; status: number; hits: number; close(): Promise<void> }> {
  const s = {
    port: 0,
    status: initial,
    hits: 0,
    close: async () => undefined as void,
  };
  const server = http.createServer((_req, res) => {
    s.hits++;
    res.statusCode = s.status;
    res.end("x");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  s.port = (server.address() as net.AddressInfo).port;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  cleanup.push(s.close);
  return s;
}

function checked(text: string): { be: RtBackend; logs: string[]; checks: HealthChecks } {
  const { config } = parseConfig([{ name: "t.cfg", text }], {});
  const px = config.backends.get("bk")!;
  const be = new RtBackend(px);
  for (const s of px.servers) be.servers.push(new RtServer(be, s, s.host));
  const logs: string[] = [];
  const checks = new HealthChecks([be], (_be, _level, m) => logs.push(m));
  cleanup.push(() => checks.stop());
  checks.start();
  return { be, logs, checks };
}

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("a server dead at start-up is DOWN after its first check, in haproxy's words", async () => {
  const port = await closedPort();
  const { be, logs } = checked(
    `${DEFAULTS}\nbackend bk\n  server s1 127.0.0.1:${port} check inter 100ms rise 2 fall 3\n`,
  );
  await waitFor(() => !be.servers[0]!.up, 1000, "DOWN");
  assert.match(
    logs[0]!,
    /^Server bk\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/,
  );
  assert.equal(logs[1], "backend bk has no server available!");
});

test("UP to DOWN after `fall` failures, back UP after `rise` successes (httpchk)", async () => {
  const srv = await statusServer(200);
  const { be, logs } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk GET /health\n  server s1 127.0.0.1:${srv.port} check inter 100ms rise 2 fall 3\n`,
  );
  const s = be.servers[0]!;
  await waitFor(() => srv.hits >= 2, 2000, "first checks");
  assert.equal(s.up, true);
  srv.status = 500;
  const hitsAtFailure = srv.hits;
  await waitFor(() => !s.up, 3000, "DOWN");
  assert.equal(srv.hits - hitsAtFailure, 3, "three failed checks");
  assert.match(
    logs.at(-2)!,
    /^Server bk\/s1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: \d+ms/,
  );
  srv.status = 200;
  const hitsAtRecovery = srv.hits;
  await waitFor(() => s.up, 3000, "UP");
  assert.equal(srv.hits - hitsAtRecovery, 2, "two good checks");
  assert.match(
    logs.at(-1)!,
    /^Server bk\/s1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 1 active and 0 backup servers online\./,
  );
});

test("the article's WebSocket check: 101 from a WebSocket server is UP, 200 is DOWN", async () => {
  const server = http.createServer((_q, r) => r.end("a plain page"));
  const wss = new WebSocketServer({
    server,
    handleProtocols: (p) => (p.has("echo-protocol") ? "echo-protocol" : false),
  });
  wss.on("connection", (ws) => ws.on("error", () => undefined));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
      }),
  );
  const port = (server.address() as net.AddressInfo).port;
  const ws = (key: string) => `${DEFAULTS}
backend bk
  option httpchk GET / HTTP/1.1\\r\\nHost:\\ ws.domain.com\\r\\nConnection:\\ Upgrade\\r\\nUpgrade:\\ websocket\\r\\nSec-WebSocket-Key:\\ ${key}\\r\\nSec-WebSocket-Version:\\ 13\\r\\nSec-WebSocket-Protocol:\\ echo-protocol
  http-check expect status 101
  server s1 127.0.0.1:${port} check inter 100ms rise 2 fall 2
`;
  const good = checked(ws("dGhlIHNhbXBsZSBub25jZQ=="));
  await sleep(500);
  assert.equal(good.be.servers[0]!.up, true, good.logs.join("\n"));
  assert.deepEqual(good.logs, []);
  // The article's own key, `haproxy`: the ws package refuses it with 400.
  const bad = checked(ws("haproxy"));
  await waitFor(() => !bad.be.servers[0]!.up, 2000, "DOWN");
  assert.match(bad.logs[0]!, /reason: Layer7 wrong status, code: 400/);
  // A plain server answering 200 to the upgrade is not a WebSocket server.
  const plain = await statusServer(200);
  const p200 = checked(ws("dGhlIHNhbXBsZSBub25jZQ==").replace(`:${port} `, `:${plain.port} `));
  await waitFor(() => !p200.be.servers[0]!.up, 2000, "DOWN");
  assert.match(p200.logs[0]!, /reason: Layer7 wrong status, code: 200, info: "OK"/);
});

test("a hanging server times out; only one check is in flight at a time", async () => {
  let connections = 0;
  const hang = net.createServer((s) => {
    connections++;
    s.on("error", () => undefined);
    // Reads (so that it sees the checker's close) but never answers.
    s.resume();
  });
  hang.listen(0, "127.0.0.1");
  await once(hang, "listening");
  cleanup.push(() => new Promise<void>((r) => hang.close(() => r())));
  const port = (hang.address() as net.AddressInfo).port;
  const { be, logs } = checked(
    `${DEFAULTS}\n  timeout check 150ms\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${port} check inter 50ms rise 1 fall 1\n`,
  );
  await waitFor(() => !be.servers[0]!.up, 2000, "DOWN");
  assert.match(logs[0]!, /reason: Layer7 timeout/);
  const t0 = Date.now();
  const c0 = connections;
  await sleep(600);
  // Each check takes 150 ms and the next starts 50 ms after: at most 3 in 600 ms.
  assert.ok(connections - c0 <= 4, `${connections - c0} checks in ${Date.now() - t0} ms`);
});

test("through the proxy: traffic never reaches a DOWN server; shutdown-sessions closes its tunnels", async () => {
  const up = await statusServer(200);
  // A server that accepts the WebSocket upgrade, then fails its health check.
  let healthy = true;
  const flaky = http.createServer((_q, r) => {
    r.statusCode = healthy ? 200 : 503;
    r.end();
  });
  flaky.on("upgrade", (_req, socket) => {
    // An upgraded socket is the test's to close: http.Server no longer tracks it.
    socket.on("end", () => socket.destroy());
    socket.on("error", () => undefined);
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n",
    );
  });
  flaky.listen(0, "127.0.0.1");
  await once(flaky, "listening");
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        flaky.closeAllConnections();
        flaky.close(() => r());
      }),
  );
  const fport = (flaky.address() as net.AddressInfo).port;
  const p = await startProxy(`${DEFAULTS}
  timeout tunnel 10s
${FRONTEND}  balance first
  option httpchk GET /
  server flaky 127.0.0.1:${fport} check inter 100ms rise 1 fall 1 on-marked-down shutdown-sessions
  server up 127.0.0.1:${up.port} check inter 100ms
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send(
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await c.until((t) => t.startsWith("HTTP/1.1 101"));
  healthy = false;
  await waitFor(() => c.closed, 3000, "the tunnel closed when its server went DOWN");
  const before = up.hits;
  for (let i = 0; i < 3; i++) {
    const d = new Client(p.port);
    d.send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(await d.until((t) => t.includes("\r\n\r\n")), /^HTTP\/1\.1 200/);
    d.close();
  }
  assert.ok(up.hits - before >= 3, "served by the server that is up");
  assert.equal(p.rt.backends.get("bk")!.servers[0]!.up, false);
});

test("checks stop cleanly", async () => {
  const srv = await statusServer(200);
  const { checks } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${srv.port} check inter 50ms\n`,
  );
  await sleep(120);
  assert.ok(srv.hits > 0);
  checks.stop();
  const h = srv.hits;
  await sleep(200);
  assert.equal(srv.hits, h);
});
