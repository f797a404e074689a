// Log lines of real traffic, received by a UDP syslog receiver on loopback, field by field. The
// expected termination states are those haproxy 2.6 logs for the same scenarios.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { once } from "node:events";
import {
  startProxy,
  httpBackend,
  rawServer,
  exchange,
  Client,
  waitFor,
  DEFAULTS,
  type Proxy,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const lines: string[] = [];
let logPort = 0;
before(async () => {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (m) => lines.push(m.toString("latin1").trimEnd()));
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  logPort = sock.address().port;
  cleanup.push(() => new Promise<void>((r) => sock.close(() => r())));
});

/** httplog fields of a raw-format line. */
function fields(line: string) {
  const m =
    /^(\S+):(\d+) \[([^\]]+)\] (\S+) (\S+)\/(\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\+?-?\d+) (-?\d+) (\+?\d+) (\S+) (\S+) (\S{4}) (\d+)\/(\d+)\/(\d+)\/(\d+)\/(\+?\d+) (\d+)\/(\d+) "(.*)"$/.exec(
      line,
    );
  assert.ok(m, `not an httplog line: ${line}`);
  return {
    client: m[1],
    frontend: m[4],
    backend: m[5],
    server: m[6],
    TR: Number(m[7]),
    Tw: Number(m[8]),
    Tc: Number(m[9]),
    Tr: Number(m[10]),
    Ta: m[11]!,
    status: Number(m[12]),
    bytes: Number(m[13]),
    term: m[16],
    retries: m[21],
    request: m[24],
  };
}

async function nextLine(match: RegExp, ms = 3000): Promise<string> {
  let found: string | undefined;
  await waitFor(
    () => (found = lines.find((l) => match.test(l))) !== undefined,
    ms,
    `a log line matching ${match}`,
  );
  lines.splice(lines.indexOf(found!), 1);
  return found!;
}

async function proxy(body: string, extra = ""): Promise<Proxy> {
  const p = await startProxy(`
global
  log 127.0.0.1:${logPort} format raw local0
${DEFAULTS}
  log global
  option httplog
${extra}
${body}`);
  cleanup.push(p.stop);
  return p;
}

test("a plain request, a denied one, a bad one, a missing backend", async () => {
  const b = await httpBackend("web");
  cleanup.push(b.close);
  const p = await proxy(`
frontend fe
  bind 127.0.0.1:1
  http-request deny if { path_beg /admin }
  use_backend nowhere if { path_beg /none }
  default_backend bk
backend bk
  server s1 127.0.0.1:${b.port}
backend nowhere
`);
  await exchange(p.port, "GET /hello?a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const ok = fields(await nextLine(/"GET \/hello/));
  assert.equal(ok.client, "127.0.0.1");
  assert.deepEqual([ok.frontend, ok.backend, ok.server, ok.status, ok.term], ["fe", "bk", "s1", 200, "----"]);
  assert.ok(ok.TR >= 0 && ok.Tw === 0 && ok.Tc >= 0 && ok.Tr >= 0);
  assert.ok(ok.bytes > 0);
  assert.equal(ok.request, "GET /hello?a=b HTTP/1.1");

  await exchange(p.port, "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
  const denied = fields(await nextLine(/"GET \/admin/));
  // A frontend deny happens before any backend is chosen: "fe fe/<NOSRV>", 403, PR-- (as haproxy logs it).
  assert.deepEqual(
    [denied.backend, denied.server, denied.status, denied.term],
    ["fe", "<NOSRV>", 403, "PR--"],
  );
  assert.deepEqual([denied.Tw, denied.Tc, denied.Tr], [-1, -1, -1]);

  await exchange(p.port, "NOT HTTP\r\n\r\n");
  const bad = fields(await nextLine(/<BADREQ>/));
  assert.deepEqual(
    [bad.backend, bad.server, bad.status, bad.term, bad.request],
    ["fe", "<NOSRV>", 400, "PR--", "<BADREQ>"],
  );

  await exchange(p.port, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n");
  const none = fields(await nextLine(/"GET \/none/));
  // haproxy 2.6: a backend without servers gives 503 and "SC--".
  assert.deepEqual([none.backend, none.server, none.status, none.term], ["nowhere", "<NOSRV>", 503, "SC--"]);
});

test("timeouts: server (sH), queue (sQ), request (cR); a redispatch marks the retries with +", async () => {
  const silent = await rawServer(() => undefined);
  const slow = await httpBackend("slow", (_q, r) => setTimeout(() => r.end("late"), 500));
  const good = await httpBackend("good");
  cleanup.push(silent.close, slow.close, good.close);
  const p = await proxy(
    `
frontend fe
  bind 127.0.0.1:1
  use_backend silent if { path_beg /silent }
  use_backend slow if { path_beg /slow }
  use_backend rd if { path_beg /rd }
  default_backend silent
backend silent
  server s1 127.0.0.1:${silent.port}
backend slow
  timeout queue 100ms
  server s1 127.0.0.1:${slow.port} maxconn 1
backend rd
  retries 1
  option redispatch
  balance first
  server dead 127.0.0.1:1
  server ok 127.0.0.1:${good.port}
`,
    "  timeout server 200ms\n  timeout http-request 200ms\n  timeout connect 200ms",
  );
  await exchange(p.port, "GET /silent HTTP/1.1\r\nHost: x\r\n\r\n");
  const sh = fields(await nextLine(/"GET \/silent/));
  assert.deepEqual([sh.status, sh.term], [504, "sH--"]);
  assert.ok(sh.Tr === -1);

  const first = exchange(p.port, "GET /slow/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => p.rt.backends.get("slow")!.servers[0]!.cur === 1, 1000, "slot taken");
  await exchange(p.port, "GET /slow/2 HTTP/1.1\r\nHost: x\r\n\r\n");
  const sq = fields(await nextLine(/"GET \/slow\/2/));
  assert.deepEqual([sq.server, sq.status, sq.term], ["<NOSRV>", 503, "sQ--"]);
  await first;

  await exchange(p.port, "GET /rd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const rd = fields(await nextLine(/"GET \/rd/));
  assert.deepEqual([rd.server, rd.status, rd.term, rd.retries], ["ok", 200, "----", "+1"]);

  const c = new Client(p.port);
  c.send("GET /part");
  await waitFor(() => c.closed, 2000, "408 and close");
  const cr = fields(await nextLine(/ 408 /));
  assert.deepEqual([cr.status, cr.term, cr.request], [408, "cR--", "<BADREQ>"]);
});

test("a client that stops reading mid-response: cD; a keep-alive series logs each request", async () => {
  const big = await httpBackend("big", (_q, r) => r.end(Buffer.alloc(32 * 1024 * 1024, 97)));
  cleanup.push(big.close);
  const p = await proxy(
    `
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s1 127.0.0.1:${big.port}
`,
    "  timeout client 200ms\n  timeout server 200ms",
  );
  const c = new Client(p.port);
  c.socket.pause();
  c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  const cd = fields(await nextLine(/"GET \/big/, 5000));
  assert.deepEqual([cd.status, cd.term], [200, "cD--"]);
  c.close();

  const b = await httpBackend("small");
  cleanup.push(b.close);
  const q = await proxy(`
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s1 127.0.0.1:${b.port}
`);
  const k = new Client(q.port);
  for (const path of ["/k1", "/k2", "/k3"]) {
    k.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await k.response();
  }
  k.close();
  for (const path of ["/k1", "/k2", "/k3"]) {
    const f = fields(await nextLine(new RegExp(`"GET ${path} `)));
    assert.deepEqual([f.status, f.term, f.server], [200, "----", "s1"]);
  }
});

test("a WebSocket session logs once, at its end, with 101 and its whole duration", async () => {
  const srv = await rawServer((s) =>
    s.once("data", () => {
      s.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n\r\n",
      );
      s.on("data", (d: Buffer) => s.write(d));
    }),
  );
  cleanup.push(srv.close);
  const p = await proxy(`
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  timeout tunnel 5s
  server s1 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send(
    "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await c.until((t) => t.includes("\r\n\r\n"));
  c.send("ping");
  await c.until((t) => t.endsWith("ping"));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(lines.filter((l) => l.includes("/ws")).length, 0, "nothing logged while the tunnel lives");
  c.close();
  const ws = fields(await nextLine(/"GET \/ws/));
  assert.equal(ws.status, 101);
  assert.ok(Number(ws.Ta) >= 200, `Ta ${ws.Ta} covers the session`);
  // The client closed its side with a FIN and the server followed: a normal end, as in haproxy.
  assert.equal(ws.term, "----");
});

test("health-check transitions are logged in haproxy's words", async () => {
  await proxy(`
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s1 127.0.0.1:1 check inter 100ms
`);
  const down = await nextLine(/Server bk\/s1 is DOWN/);
  assert.match(
    down,
    /^Server bk\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\./,
  );
  assert.equal(await nextLine(/no server available/), "backend bk has no server available!");
});
