// Server limits and failures: maxconn and queues, timeout queue, retries and redispatch, backup
// servers, leastconn with long-lived connections, a tunnel holding its slot, every server DOWN.
// The expectations on retries and redispatch (timings, attempts, servers, log fields) are what
// haproxy 2.6.12 did with the same configurations on loopback.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  startProxy,
  httpBackend,
  exchange,
  Client,
  rawServer,
  waitFor,
  sleep,
  blackhole,
  DEFAULTS,
  type Backend,
  FRONTEND,
  syslogReceiver,
  type SyslogReceiver,
  closedPort,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function proxy(text: string) {
  const p = await startProxy(text);
  cleanup.push(p.stop);
  return p;
}

async function slowBackend(name: string, delayMs: number): Promise<Backend> {
  const b = await httpBackend(name, (_req, res) => setTimeout(() => res.end(name), delayMs));
  cleanup.push(b.close);
  return b;
}

const status = (t: string): number => Number(t.slice(9, 12));

/** Log lines received by a syslog receiver on loopback (`log 127.0.0.1:PORT format raw`). */
let rx: SyslogReceiver;
before(async () => {
  rx = await syslogReceiver();
  cleanup.push(rx.close);
});

/** The httplog line of the request for `path`, taken from the receiver: server, timers, status, termination, retries. */
async function logOf(path: string) {
  const re = new RegExp(` "GET ${path} HTTP/1\\.1"$`);
  const found = await rx.take(re);
  const m =
    / (\S+)\/(\S+) (-?\d+)\/(-?\d+)\/(-?\d+)\/(-?\d+)\/(\d+) (\d+) \d+ - - (\S{4}) \d+\/\d+\/\d+\/\d+\/(\+?\d+) /.exec(
      found,
    );
  assert.ok(m, found);
  return {
    server: `${m[1]}/${m[2]}`,
    Tw: Number(m[4]),
    Tc: Number(m[5]),
    status: Number(m[8]),
    term: m[9],
    retries: m[10],
  };
}

/** A proxy logging to the receiver above, with haproxy's default `retries 3`. */
async function loggedProxy(body: string, timeoutConnect = "200ms") {
  return proxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
defaults
  mode http
  log global
  option httplog
  timeout client 5s
  timeout server 5s
  timeout connect ${timeoutConnect}
  retries 3
${body}`);
}

/** Sends a GET with Connection: close; the response and how long it took. */
async function timedGet(port: number, path: string): Promise<{ text: string; ms: number }> {
  const t0 = Date.now();
  const text = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return { text, ms: Date.now() - t0 };
}

test("maxconn: requests past the limit wait in the queue and are served oldest first", async () => {
  const b = await slowBackend("a", 150);
  const p = await proxy(`${DEFAULTS}
  timeout queue 3s
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const order: number[] = [];
  const all = [0, 1, 2].map(async (i) => {
    await sleep(i * 20);
    const t = await exchange(p.port, `GET /${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    order.push(i);
    return status(t);
  });
  await waitFor(() => p.rt.backends.get("bk")!.queued() === 2, 2000, "two queued");
  assert.equal(p.rt.backends.get("bk")!.servers[0]!.cur, 1);
  assert.deepEqual(await Promise.all(all), [200, 200, 200]);
  assert.deepEqual(order, [0, 1, 2]);
  assert.deepEqual(
    b.seen.map((s) => s.url),
    ["/0", "/1", "/2"],
  );
});

test("timeout queue: 503 when no slot frees in time", async () => {
  const b = await slowBackend("a", 600);
  const p = await proxy(`${DEFAULTS}
  timeout queue 150ms
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const first = exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => p.rt.backends.get("bk")!.servers[0]!.cur === 1, 2000, "first in");
  const t0 = Date.now();
  const second = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(status(second), 503);
  assert.ok(Date.now() - t0 >= 120 && Date.now() - t0 < 600, `${Date.now() - t0} ms`);
  assert.equal(status(await first), 200);
  assert.equal(p.rt.backends.get("bk")!.queued(), 0);
});

test("a connection whose queued request timed out queues its next one once, and is served once", async () => {
  const b = await slowBackend("a", 1000);
  const p = await proxy(`${DEFAULTS}
  timeout queue 400ms
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const be = p.rt.backends.get("bk")!;
  const first = exchange(p.port, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => be.servers[0]!.cur === 1, 2000, "first in");
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("GET /q HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response()).status, 503);
  // The same connection waits again, behind the stale place its first request left in the queue;
  // the slot frees some 200 ms later.
  await sleep(400);
  c.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  assert.equal(status(await first), 200);
  // Nothing else happens: no second grant to a connection that asked for nothing.
  await sleep(300);
  assert.equal(c.take(), "");
  assert.equal(c.closed, false);
  assert.deepEqual([be.queued(), be.servers[0]!.cur, be.cur], [0, 0, 0]);
  assert.deepEqual(
    b.seen.map((r) => r.url),
    ["/slow", "/again"],
  );
});

test("all servers refusing: 503 quickly once retries are spent", async () => {
  const dead = await closedPort();
  const p = await proxy(`${DEFAULTS}
  retries 0
${FRONTEND}  server a 127.0.0.1:${dead}
`);
  const t0 = Date.now();
  assert.equal(status(await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 503);
  assert.ok(Date.now() - t0 < 500);
});

test("a backup server takes traffic only when no active server is usable", async () => {
  const a = await httpBackend("active");
  const b1 = await httpBackend("backup1");
  const b2 = await httpBackend("backup2");
  cleanup.push(a.close, b1.close, b2.close);
  const cfg = (allbackups: string) => `${DEFAULTS}
  ${allbackups}
${FRONTEND}  server a 127.0.0.1:${a.port}
  server b1 127.0.0.1:${b1.port} backup
  server b2 127.0.0.1:${b2.port} backup
`;
  const get = async (port: number) =>
    (await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).split("\r\n\r\n")[1];
  const p = await proxy(cfg(""));
  assert.equal(await get(p.port), "active");
  const be = p.rt.backends.get("bk")!;
  be.servers[0]!.setUp(false);
  // Without allbackups only the first backup serves.
  assert.deepEqual([await get(p.port), await get(p.port)], ["backup1", "backup1"]);
  const q = await proxy(cfg("option allbackups"));
  const qbe = q.rt.backends.get("bk")!;
  qbe.servers[0]!.setUp(false);
  assert.deepEqual([await get(q.port), await get(q.port)].sort(), ["backup1", "backup2"]);
});

test("leastconn spreads long-lived WebSockets; a tunnel holds its slot until it ends", async () => {
  const conns: net.Socket[] = [];
  const servers = await Promise.all(
    [0, 1].map(() =>
      rawServer((s) => {
        conns.push(s);
        s.once("data", () =>
          s.write(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
          ),
        );
      }),
    ),
  );
  for (const s of servers) cleanup.push(s.close);
  const p = await proxy(`${DEFAULTS}
  timeout tunnel 10s
${FRONTEND}  balance leastconn
  server a 127.0.0.1:${servers[0]!.port} weight 1
  server b 127.0.0.1:${servers[1]!.port} weight 3
`);
  const clients: Client[] = [];
  for (let i = 0; i < 8; i++) {
    const c = new Client(p.port);
    c.send(
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    await c.until((t) => t.includes("101"));
    clients.push(c);
  }
  const [sa, sb] = p.rt.backends.get("bk")!.servers;
  // Weights 1 and 3: two tunnels on a, six on b.
  assert.deepEqual([sa!.cur, sb!.cur], [2, 6]);
  for (const c of clients) c.close();
  await waitFor(() => sa!.cur + sb!.cur === 0, 2000, "slots released");
});

test("retries 3 on a refused port: 4 connects min(timeout connect, 1s) apart, then 503 SC-- with 3 retries", async () => {
  // haproxy 2.6, timeout connect 200ms: connects at 0, 200, 400, 600 ms, the 503 at 605-620 ms,
  // logged `bk/s1 0/0/-1/-1/622 503 217 - - SC-- 1/1/0/0/3`.
  const dead = await closedPort();
  const p = await loggedProxy(`${FRONTEND}  server s1 127.0.0.1:${dead}\n`);
  const { text, ms } = await timedGet(p.port, "/refused");
  assert.equal(status(text), 503);
  assert.ok(ms >= 3 * 200 - 15 && ms < 1100, `503 after ${ms} ms`);
  assert.equal(p.rt.backends.get("bk")!.servers[0]!.connectErrors, 4, "four connects");
  const l = await logOf("/refused");
  assert.deepEqual([l.server, l.Tc, l.status, l.term, l.retries], ["bk/s1", -1, 503, "SC--", "3"]);
});

test("option redispatch: a refused connect moves at once to the other server (+1), every time", async () => {
  // haproxy 2.6 (round robin, two active servers, no persistence): no retry on the server that
  // refused, no turn-around delay: the request is served by s2 within a few ms and logged
  // `bk/s2 0/0/0/1/1 200 ... ---- 1/1/0/0/+1`. Round robin goes on from s2, so the next request
  // tries s1 again and is redispatched again.
  const dead = await closedPort();
  const good = await httpBackend("good");
  cleanup.push(good.close);
  const p = await loggedProxy(`${FRONTEND}  option redispatch
  server s1 127.0.0.1:${dead}
  server s2 127.0.0.1:${good.port}
`);
  const s1 = p.rt.backends.get("bk")!.servers[0]!;
  for (const path of ["/rd1", "/rd2"]) {
    const { text, ms } = await timedGet(p.port, path);
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(text.endsWith("good"), text);
    assert.ok(ms < 150, `served after ${ms} ms: no turn-around delay before a redispatch`);
    const l = await logOf(path);
    assert.deepEqual([l.server, l.status, l.term, l.retries], ["bk/s2", 200, "----", "+1"]);
  }
  assert.equal(s1.connectErrors, 2, "one connect to s1 per request");
  assert.deepEqual(
    good.seen.map((r) => r.url),
    ["/rd1", "/rd2"],
  );
});

test("option redispatch, every server refusing: the retries alternate at once, 503 quickly with +3", async () => {
  // haproxy 2.6: connects to s1, s2, s1, s2 within 1 ms, then `bk/s2 0/1/-1/-1/1 503 ... SC-- .../+3`.
  const dead1 = await closedPort();
  const dead2 = await closedPort();
  const p = await loggedProxy(`${FRONTEND}  option redispatch
  server s1 127.0.0.1:${dead1}
  server s2 127.0.0.1:${dead2}
`);
  const { text, ms } = await timedGet(p.port, "/alldead");
  assert.equal(status(text), 503);
  assert.ok(ms < 150, `503 after ${ms} ms`);
  const [s1, s2] = p.rt.backends.get("bk")!.servers;
  assert.deepEqual([s1!.connectErrors, s2!.connectErrors], [2, 2]);
  const l = await logOf("/alldead");
  assert.deepEqual([l.server, l.status, l.term, l.retries], ["bk/s2", 503, "SC--", "+3"]);
});

test("option redispatch with one active server: retries stay on it, each after the turn-around, no +", async (t) => {
  // haproxy 2.6 only skips the delay when it may pick another active server: with one server
  // (whatever the interval) or one active server and a backup, 4 connects to s1 200 ms apart (strace),
  // the backup untouched, 503 at 605-660 ms logged `one/s1 0/605/-1/-1/605 503 ... SC-- 1/1/0/0/3`
  // (no +: the server did not change).
  // Sluice: the 503 at about 400 ms (one, withbackup) and 2 ms (every), logged `.../+3`.
  const dead = await closedPort();
  const backup = await httpBackend("backup");
  cleanup.push(backup.close);
  const p = await loggedProxy(`frontend f
  bind 127.0.0.1:1
  use_backend one if { path_beg /one/ }
  use_backend every if { path_beg /every/ }
  default_backend withbackup
backend one
  option redispatch
  server s1 127.0.0.1:${dead}
backend every
  option redispatch 1
  server s1 127.0.0.1:${dead}
backend withbackup
  option redispatch
  server s1 127.0.0.1:${dead}
  server b1 127.0.0.1:${backup.port} backup
`);
  const names = ["one", "every", "withbackup"];
  const results = await Promise.all(names.map((name) => timedGet(p.port, `/${name}/`)));
  const logs: Awaited<ReturnType<typeof logOf>>[] = [];
  for (const [i, name] of names.entries()) {
    assert.equal(status(results[i]!.text), 503, name);
    assert.equal(p.rt.backends.get(name)!.servers[0]!.connectErrors, 4, `${name}: four connects to s1`);
    const l = await logOf(`/${name}/`);
    assert.deepEqual([l.server, l.status, l.term], [`${name}/s1`, 503, "SC--"], name);
    logs.push(l);
  }
  assert.equal(backup.seen.length, 0);
  await t.test("as haproxy: the turn-around before each retry, retries logged without +", () => {
    for (const [i, name] of names.entries()) {
      const { ms } = results[i]!;
      assert.ok(ms >= 3 * 200 - 15 && ms < 1100, `${name}: 503 after ${ms} ms`);
      assert.equal(logs[i]!.retries, "3", name);
    }
  });
});

test("connect timeouts: no turn-around delay; with redispatch the other server serves after one timeout", async () => {
  // haproxy 2.6, timeout connect 200ms: 4 timed-out connects back to back, the 503 at 803-821 ms,
  // `bk/s1 0/0/-1/-1/821 503 ... sC-- 1/1/0/0/3`; with redispatch and a second server, served by it
  // after 200-250 ms, `bk/s2 0/207/31/4/242 200 ... ---- 1/1/0/0/+1`.
  const hole = await blackhole();
  cleanup.push(hole.close);
  const port = hole.port;
  const good = await httpBackend("good");
  cleanup.push(good.close);
  const p = await loggedProxy(`frontend f
  bind 127.0.0.1:1
  use_backend rd if { path_beg /rd }
  default_backend bk
backend bk
  server s1 127.0.0.1:${port}
backend rd
  option redispatch
  server s1 127.0.0.1:${port}
  server s2 127.0.0.1:${good.port}
`);
  const [plain, rd] = await Promise.all([timedGet(p.port, "/hang"), timedGet(p.port, "/rd")]);
  assert.equal(status(plain.text), 503);
  // With a turn-around delay after each timeout it would take 4 x 200 + 3 x 200 = 1400 ms.
  assert.ok(plain.ms >= 4 * 200 - 15 && plain.ms < 1250, `503 after ${plain.ms} ms`);
  const l = await logOf("/hang");
  assert.deepEqual([l.server, l.Tc, l.status, l.term, l.retries], ["bk/s1", -1, 503, "sC--", "3"]);
  assert.match(rd.text, /^HTTP\/1\.1 200 /);
  assert.ok(rd.ms >= 200 - 15 && rd.ms < 380, `served after ${rd.ms} ms`);
  const lr = await logOf("/rd");
  assert.deepEqual([lr.server, lr.status, lr.term, lr.retries], ["rd/s2", 200, "----", "+1"]);
});

test("every server DOWN by its health checks: 503 at once, <NOSRV>, no connect tried", async () => {
  // haproxy 2.6: `bk/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0`, within a few ms whatever
  // timeout connect and retries are. These servers fail their check but would answer traffic.
  const servers = await Promise.all(
    ["a", "b"].map((name) =>
      httpBackend(name, (req, res) => {
        res.statusCode = req.url === "/health" ? 500 : 200;
        res.end(name);
      }),
    ),
  );
  for (const b of servers) cleanup.push(b.close);
  const p = await loggedProxy(
    `${FRONTEND}  option redispatch
  option httpchk GET /health
  server a 127.0.0.1:${servers[0]!.port} check inter 100ms
  server b 127.0.0.1:${servers[1]!.port} check inter 100ms
`,
    "1s",
  );
  const be = p.rt.backends.get("bk")!;
  await waitFor(() => be.servers.every((s) => !s.up), 2000, "both servers DOWN");
  const { text, ms } = await timedGet(p.port, "/down");
  assert.equal(status(text), 503);
  assert.ok(ms < 100, `503 after ${ms} ms`);
  const l = await logOf("/down");
  assert.deepEqual(
    [l.server, l.Tw, l.Tc, l.status, l.term, l.retries],
    ["bk/<NOSRV>", -1, -1, 503, "SC--", "0"],
  );
  for (const b of servers)
    assert.ok(
      b.seen.every((r) => r.url === "/health"),
      `${b.name} saw traffic`,
    );
  assert.deepEqual(
    be.servers.map((s) => s.connectErrors),
    [0, 0],
  );
});

test("roundrobin: while requests wait for the backend, new ones wait behind them without moving the turns", async () => {
  // Servers that hold /slow until told; the order is haproxy 2.6.12's for the same steps.
  const holding: (() => void)[] = [];
  const make = async (name: string) => {
    const b = await httpBackend(name, (req, res) => {
      if (req.url === "/slow") holding.push(() => res.end(name));
      else res.end(name);
    });
    cleanup.push(b.close);
    return b;
  };
  const a = await make("a");
  const b = await make("b");
  const p = await proxy(`${DEFAULTS}
  timeout queue 5s
${FRONTEND}  server a 127.0.0.1:${a.port} weight 2 maxconn 1
  server b 127.0.0.1:${b.port} weight 2 maxconn 2
`);
  const be = p.rt.backends.get("bk")!;
  const body = (t: string) => t.split("\r\n\r\n")[1];
  const get = async (n: number) => {
    let order = "";
    for (let i = 0; i < n; i++)
      order += body(await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    return order;
  };
  const slow: Promise<string>[] = [];
  const hold = async (queued: number) => {
    const before = holding.length;
    slow.push(exchange(p.port, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000));
    if (queued) await waitFor(() => be.queue.length === queued, 2000, "queued");
    else await waitFor(() => holding.length === before + 1, 2000, "held");
  };
  assert.equal(await get(8), "abababab");
  await hold(0);
  assert.equal(await get(5), "bbbbb");
  await hold(0);
  await hold(0);
  await hold(1);
  // This one finds a request waiting: it queues without asking round robin.
  await hold(2);
  // Answer the held requests, then the queued ones as they reach a server.
  for (let answered = 0; answered < 5; answered++) {
    await waitFor(() => holding.length > 0, 2000, "a request at a server");
    holding.shift()!();
  }
  assert.deepEqual((await Promise.all(slow)).map(body).sort(), ["a", "a", "b", "b", "b"]);
  assert.equal(await get(5), "babab");
});

test("use-server: the first rule whose condition holds and whose server is not DOWN; option persist takes a DOWN one", async () => {
  const a = await httpBackend("a");
  const c = await httpBackend("c");
  cleanup.push(a.close, c.close);
  const dead = await closedPort();
  const body = (extra: string) => `  retries 1
  option redispatch
${FRONTEND}  ${extra}
  use-server b if { hdr(x-s) b }
  use-server a if { hdr(x-s) a }
  use-server c unless { hdr(x-s) -m found }
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${dead} check inter 100ms fall 1 rise 1
  server c 127.0.0.1:${c.port}
`;
  // Recorded from haproxy 2.6.12: b DOWN, its rule passed over; the others' servers, or round robin.
  for (const [extra, bRetries] of [
    ["", "0"],
    // The DOWN b is tried, refused, and the request redispatched: `+1`.
    ["option persist", "+1"],
  ] as const) {
    const p = await loggedProxy(body(extra), "500ms");
    await waitFor(() => !p.rt.backends.get("bk")!.servers[1]!.up, 2000, "b DOWN");
    const seen: string[] = [];
    for (const [i, s] of ["b", "a", undefined, "zz", "b", "a", "zz", "zz"].entries()) {
      const head = s ? `x-s: ${s}\r\n` : "";
      const text = await exchange(
        p.port,
        `GET /us${i} HTTP/1.1\r\nHost: x\r\n${head}Connection: close\r\n\r\n`,
      );
      seen.push(text.split("\r\n\r\n")[1]!);
    }
    assert.equal(seen.join(" "), "a a c c a a c a", extra);
    const l = await logOf("/us0");
    assert.deepEqual([l.server, l.retries], ["bk/a", bRetries], extra);
    await logOf("/us7");
  }
});

test("use-server in mode tcp: rules on the connection choose the server too", async () => {
  const a = await httpBackend("a");
  const c = await httpBackend("c");
  cleanup.push(a.close, c.close);
  const p = await proxy(`${DEFAULTS}
listen l
  mode tcp
  bind 127.0.0.1:1
  use-server c if { src 127.0.0.1 }
  server a 127.0.0.1:${a.port}
  server c 127.0.0.1:${c.port}
`);
  const seen: string[] = [];
  for (let i = 0; i < 3; i++)
    seen.push(
      (await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).split(
        "\r\n\r\n",
      )[1]!,
    );
  assert.deepEqual(seen, ["c", "c", "c"]);
});

test("a queued request whose client leaves mid-body is given up at once (CQ), as haproxy's", async () => {
  const b = await slowBackend("a", 600);
  const p = await loggedProxy(`${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1\n`);
  const first = exchange(p.port, "GET /busy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => p.rt.backends.get("bk")!.servers[0]!.cur === 1, 2000, "busy");
  const c = new Client(p.port);
  c.send("POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
  await waitFor(() => p.rt.backends.get("bk")!.queue.length === 1, 2000, "queued");
  const t0 = Date.now();
  c.socket.end();
  await waitFor(() => p.rt.actconn === 1, 1000, "the queued one gone");
  assert.ok(Date.now() - t0 < 400, "given up before the slot freed");
  assert.match(await rx.take(/ "POST \/cut HTTP\/1\.1"$/), / -1 \d+ - - CQ-- /);
  await first;
});
