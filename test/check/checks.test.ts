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
import { HealthChecks, type Spread } from "../../src/check/index.js";
import type { Waiter } from "../../src/proxy/backend.js";
import {
  startProxy,
  waitFor,
  sleep,
  DEFAULTS,
  Client,
  FRONTEND,
  rawServer,
  blackhole,
  closedPort,
  recordEnd,
} from "../helpers/harness.js";

/** A session as a server's list holds it: one to shut. */
function sessionStub(shutdown: () => void) {
  return { list: null, listPrev: null, listNext: null, shutdown };
}

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** An HTTP server whose status the test sets, counting the checks it receives. */
async function statusServer(
  initial: number,
): Promise<{ port: number; status: number; hits: number; times: number[]; close(): Promise<void> }> {
  const s = {
    port: 0,
    status: initial,
    hits: 0,
    /** When each check arrived. */
    times: [] as number[],
    close: async () => undefined as void,
  };
  const server = http.createServer((_req, res) => {
    s.hits++;
    s.times.push(Date.now());
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

interface Checked {
  be: RtBackend;
  logs: string[];
  levels: number[];
  checks: HealthChecks;
}

/** Backend `bk` of the config, its servers checked; log lines collected in order. */
function checked(text: string, name = "bk", spread?: Spread): Checked {
  const { config } = parseConfig([{ name: "t.cfg", text }], {});
  const px = config.backends.get(name)!;
  const be = new RtBackend(
    px,
    px.servers.map((s) => ({
      address: s.host,
      source: s.source && { address: s.source.host, port: s.source.port },
    })),
  );
  const logs: string[] = [];
  const levels: number[] = [];
  const checks = new HealthChecks(
    [be],
    (_be, level, m) => {
      logs.push(m);
      levels.push(level);
    },
    spread,
  );
  cleanup.push(() => checks.stop());
  checks.start();
  return { be, logs, levels, checks };
}

test("a server dead at start-up is DOWN after its first check, in haproxy's words", async () => {
  const port = await closedPort();
  const { be, logs, levels } = checked(
    `${DEFAULTS}\nbackend bk\n  server s1 127.0.0.1:${port} check inter 100ms rise 2 fall 3\n`,
  );
  await waitFor(() => !be.servers[0]!.up, 1000, "DOWN");
  assert.match(
    logs[0]!,
    /^Server bk\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/,
  );
  assert.equal(logs[1], "backend bk has no server available!");
  assert.deepEqual(levels, [1, 0], "alert, then emerg");
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

test("option log-health-checks; a backup server's words; Running on backup", async () => {
  const port = await closedPort();
  const bk = await statusServer(200);
  const { be, logs, levels } = checked(`${DEFAULTS}
backend bk
  option httpchk
  option log-health-checks
  server s1 127.0.0.1:${port} check inter 100ms rise 2 fall 3
  server b1 127.0.0.1:${bk.port} check inter 100ms rise 2 fall 3 backup
`);
  await waitFor(() => !be.servers[0]!.up && bk.hits >= 1, 2000, "s1 DOWN");
  await sleep(50);
  assert.match(
    logs[0]!,
    /^Health check for server bk\/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms, status: 0\/2 DOWN\.$/,
  );
  assert.equal(
    logs[1],
    "Server bk/s1 is DOWN. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.",
  );
  assert.match(
    logs[2]!,
    /^Health check for backup server bk\/b1 succeeded, reason: Layer7 check passed, code: 200, check duration: \d+ms, status: 3\/3 UP\.$/,
  );
  assert.deepEqual(levels.slice(0, 3), [5, 1, 5]);
  // Unchanged results are not repeated.
  await sleep(300);
  assert.equal(logs.length, 3, logs.join("\n"));
  bk.status = 503;
  await waitFor(() => !be.servers[1]!.up, 2000, "b1 DOWN");
  assert.match(
    logs[3]!,
    /^Health check for backup server bk\/b1 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: \d+ms, status: 2\/3 UP\.$/,
  );
  assert.match(
    logs.at(-2)!,
    /^Backup Server bk\/b1 is DOWN\. 0 active and 0 backup servers left\. 0 sessions active/,
  );
  assert.equal(logs.at(-1), "backend bk has no server available!");
});

test("intervals: inter when stable, fastinter in between, downinter when DOWN", async () => {
  const srv = await statusServer(200);
  const { be } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${srv.port} check inter 300ms fastinter 100ms downinter 200ms rise 2 fall 3\n`,
  );
  const s = be.servers[0]!;
  await waitFor(() => srv.hits >= 2, 2000, "two checks");
  srv.status = 500; // from the top (4): 3, 2, 0 (DOWN)
  await waitFor(() => !s.up, 2000, "DOWN");
  const downAt = srv.hits;
  await waitFor(() => srv.hits >= downAt + 2, 2000, "checks while DOWN");
  srv.status = 200; // 1, then UP at the top
  await waitFor(() => s.up, 2000, "UP");
  const upAt = srv.hits;
  await waitFor(() => srv.hits >= upAt + 1, 2000, "a check after UP");
  const times = srv.times;
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const within = (gap: number, ms: number) => gap >= ms - 10 && gap <= ms + 90;
  // After the first check the server is at the top: inter.
  assert.ok(within(gaps[0]!, 300), `inter: ${gaps.join(",")}`);
  // The failures before DOWN run at fastinter, then downinter.
  const failFirst = downAt - 3; // index in times of the first failed check
  assert.ok(within(gaps[failFirst]!, 100), `fastinter: ${gaps.join(",")} from ${failFirst}`);
  assert.ok(within(gaps[failFirst + 1]!, 100), `fastinter: ${gaps.join(",")}`);
  assert.ok(within(gaps[downAt - 1]!, 200), `downinter: ${gaps.join(",")} at ${downAt - 1}`);
  // The last gap follows the UP check: back at inter.
  assert.ok(within(gaps.at(-1)!, 300), `inter after UP: ${gaps.join(",")}`);
});

test("spread-checks: each interval moves at random by up to that share, early as well as late", async () => {
  const srv = await statusServer(200);
  checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${srv.port} check inter 40ms\n`,
    "bk",
    { percent: 50 },
  );
  await waitFor(() => srv.hits >= 21, 5000, "21 checks");
  const gaps = srv.times.slice(1).map((t, i) => t - srv.times[i]!);
  // Between 20 and 60 ms; a timer is never early, so a gap under 36 ms is the spread's (a chance in
  // 5,000 that none of 20 is).
  assert.ok(Math.min(...gaps) < 36, gaps.join(","));
  assert.ok(Math.min(...gaps) >= 19, gaps.join(","));
});

test("timeouts: without `timeout check` the whole check is bounded by inter", async () => {
  const hang = await rawServer((s) => s.resume());
  cleanup.push(hang.close);
  const { be, logs } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${hang.port} check inter 200ms rise 1 fall 1\n`,
  );
  await waitFor(() => !be.servers[0]!.up, 2000, "DOWN");
  const m = /reason: Layer7 timeout, check duration: (\d+)ms/.exec(logs[0]!);
  assert.ok(m, logs[0]);
  // Bounded by inter (200 ms), not by timeout connect (2 s) or server (5 s); the upper bound leaves
  // room for a loaded machine's timers.
  assert.ok(Number(m[1]) >= 195 && Number(m[1]) < 1000, logs[0]);
});

test("timeouts: a connect that never completes is a Layer4 timeout after min(timeout connect, inter)", async () => {
  // A listener whose accept queue is full drops further SYNs: the connect hangs. The port is told
  // once the queue is full, or the check could land in it.
  const hole = await blackhole();
  cleanup.push(hole.close);
  const port = hole.port;
  const { be, logs } = checked(
    `${DEFAULTS}\n  timeout connect 150ms\n  timeout check 2s\nbackend bk\n  server s1 127.0.0.1:${port} check inter 1s rise 1 fall 1\n`,
  );
  await waitFor(() => !be.servers[0]!.up, 3000, "DOWN");
  const m = /^Server bk\/s1 is DOWN, reason: Layer4 timeout, check duration: (\d+)ms\./.exec(logs[0]!);
  assert.ok(m, logs[0]);
  // timeout connect (150 ms), not inter (1 s); room for a loaded machine's timers.
  assert.ok(Number(m[1]) >= 145 && Number(m[1]) < 700, logs[0]);
});

test("UP again: backup sessions shut (on-marked-up), queued requests served, in haproxy's words", async () => {
  const srv = await statusServer(500);
  const bk = await statusServer(200);
  const { be, logs } = checked(`${DEFAULTS}
backend bk
  option httpchk
  server s1 127.0.0.1:${srv.port} check inter 100ms rise 2 fall 2 on-marked-up shutdown-backup-sessions
  server b1 127.0.0.1:${bk.port} check inter 100ms backup
`);
  const [s1, b1] = be.servers as [RtServer, RtServer];
  await waitFor(() => !s1.up, 2000, "s1 DOWN");
  let shut = 0;
  b1.sessions.add(sessionStub(() => shut++));
  let granted: RtServer | undefined;
  const w: Waiter = {
    cancelled: false,
    priorityClass: 0,
    priorityOffset: 0,
    at: 0,
    seq: 0,
    heapIndex: -1,
    taken: 0,
    forced: false,
    grant: (s) => (granted = s),
    reassign: () => undefined,
  };
  be.queue.push(w, Date.now());
  srv.status = 200;
  await waitFor(() => s1.up, 2000, "s1 UP");
  assert.equal(shut, 1, "the backup's session was shut");
  assert.equal(granted, s1, "the queued request got s1");
  assert.equal(s1.cur, 1);
  assert.match(
    logs.at(-1)!,
    /^Server bk\/s1 is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 1 active and 1 backup servers online\. 1 sessions requeued, 0 total in queue\.$/,
  );
});

test("shutdown-sessions: every session of a server going DOWN is shut; they count as active in the message", async () => {
  const srv = await statusServer(200);
  const { be, logs } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${srv.port} check inter 100ms rise 1 fall 1 on-marked-down shutdown-sessions\n`,
  );
  const s1 = be.servers[0]!;
  let shut = 0;
  for (let i = 0; i < 2; i++) s1.sessions.add(sessionStub(() => shut++));
  s1.cur = 2;
  srv.status = 500;
  await waitFor(() => !s1.up, 2000, "DOWN");
  assert.equal(shut, 2);
  assert.match(
    logs[0]!,
    /\. 0 active and 0 backup servers left\. 2 sessions active, 0 requeued, 0 remaining in queue\.$/,
  );
});

test("disabled servers are in maintenance and not checked", async () => {
  const srv = await statusServer(200);
  const { be, checks } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${srv.port} check inter 50ms disabled\n`,
  );
  assert.equal(checks.size, 0);
  await sleep(150);
  assert.equal(srv.hits, 0);
  assert.equal(be.servers[0]!.usable, false);
});

test("port and addr send the check elsewhere", async () => {
  const srv = await statusServer(200);
  const port = await closedPort();
  const { be } = checked(
    // timeout check: without it inter (100 ms) bounds each check, which a loaded machine can miss.
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  timeout check 2s\n  server s1 127.0.0.2:${port} check inter 100ms addr 127.0.0.1 port ${srv.port}\n`,
  );
  await waitFor(() => srv.hits >= 2, 2000, "checks on the other port");
  assert.equal(be.servers[0]!.up, true);
});

test("check connections end with an RST, like haproxy's (TCP and HTTP checks)", async () => {
  /** A server recording how each connection to it ended, and the requests it got. */
  const recorder = async (): Promise<{ port: number; ends: string[]; requests: number }> => {
    const r = { port: 0, ends: [] as string[], requests: 0 };
    const srv = await rawServer((s) => {
      recordEnd(s, r.ends);
      s.on("data", () => {
        r.requests++;
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      });
    });
    cleanup.push(srv.close);
    r.port = srv.port;
    return r;
  };
  const tcp = await recorder();
  const web = await recorder();
  checked(`${DEFAULTS}\nbackend bk\n  server tcp 127.0.0.1:${tcp.port} check inter 100ms\n`);
  checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server http 127.0.0.1:${web.port} check inter 100ms\n`,
  );
  await waitFor(() => tcp.ends.length >= 2 && web.ends.length >= 2, 2000, "two checks of each kind ended");
  assert.deepEqual(new Set(tcp.ends), new Set(["ECONNRESET"]));
  assert.deepEqual(new Set(web.ends), new Set(["ECONNRESET"]));
  assert.equal(tcp.requests, 0);
  assert.ok(web.requests >= web.ends.length, "each HTTP check sent its request before the RST");
});

test("a hundred servers at inter 1s: first checks spread over the interval, then one a second each, little CPU", async () => {
  // One listener per server, so that each server's checks are told apart.
  const arrivals: number[][] = [];
  const lines: string[] = [];
  for (let i = 0; i < 100; i++) {
    const times: number[] = [];
    arrivals.push(times);
    const srv = await rawServer((s) => {
      times.push(Date.now());
      s.end();
    });
    cleanup.push(srv.close);
    lines.push(`  server s${i} 127.0.0.1:${srv.port} check inter 1s\n`);
  }
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const { be, checks } = checked(`${DEFAULTS}\nbackend bk\n${lines.join("")}`);
  await waitFor(() => arrivals.every((t) => t.length >= 3), 8000, "three checks of every server");
  const cpu = process.cpuUsage(cpu0);
  const wall = Date.now() - t0;
  await checks.stop();
  // The n-th of the hundred first checks waits n × 10 ms (a timer never fires early; Date.now()
  // rounds, hence the 2 ms), so they do not come in one burst.
  const first = arrivals.map((t) => t[0]! - t0);
  const early = first.findIndex((ms, i) => ms < i * 10 - 2);
  assert.equal(early, -1, `server ${early}'s first check came ${first[early]} ms after the start`);
  // Then each server is checked every second from the end of its previous check: a gap is `inter`
  // plus that check's own duration and the loop's lateness, which a loaded machine stretches but
  // not by half a second.
  for (const [i, t] of arrivals.entries())
    for (let k = 1; k < t.length; k++) {
      const gap = t[k]! - t[k - 1]!;
      assert.ok(gap >= 998 && gap < 1500, `server ${i}: ${gap} ms between checks ${k} and ${k + 1}`);
    }
  // Measured alone, the checks and their servers (in this process) take about a fifth of the wall
  // time; beside the suite's other files on the same two cores, the same code was once measured at
  // 0.40. A checker that polled or spun would take all of it.
  const ms = (cpu.user + cpu.system) / 1000;
  assert.ok(ms < wall * 0.6, `${ms.toFixed(0)} ms of CPU in ${wall} ms`);
  assert.ok(be.servers.every((s) => s.up));
});

test("stop() aborts the check in flight and resolves at once", async () => {
  let open = 0;
  const hang = await rawServer((s) => {
    open++;
    s.on("close", () => open--);
    s.resume();
  });
  cleanup.push(hang.close);
  const { checks } = checked(
    `${DEFAULTS}\nbackend bk\n  option httpchk\n  server s1 127.0.0.1:${hang.port} check inter 5s\n`,
  );
  await waitFor(() => open === 1, 2000, "a check in flight");
  const t0 = Date.now();
  await checks.stop();
  assert.ok(Date.now() - t0 < 100);
  await waitFor(() => open === 0, 1000, "the check's socket closed");
});

test("http-check send: the request bytes on the wire are haproxy 2.6's for the same config", async () => {
  // Each string was recorded from haproxy 2.6.12 by a raw server, with these backend lines.
  const cases: [string, string][] = [
    [
      "option httpchk\n  http-check send meth POST uri /hc?x=1 ver HTTP/1.1 hdr Host example.com hdr X-Check yes body hello",
      "POST /hc?x=1 HTTP/1.1\r\nhost: example.com\r\nx-check: yes\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
    ],
    // `http-check send` changes what `option httpchk` set, keeps the rest.
    [
      "option httpchk GET /b2 HTTP/1.1\n  http-check send meth PUT hdr Host b2",
      "PUT /b2 HTTP/1.1\r\nhost: b2\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ],
    // A Connection header loses close and keep-alive, which go last as the connection mode; a
    // given Content-Length or Transfer-Encoding is dropped (the body's length is sent instead).
    [
      'option httpchk\n  http-check send meth GET uri /b3 ver HTTP/1.1 hdr Connection "foo, close, bar" hdr X-B 2 hdr Content-Length 10',
      "GET /b3 HTTP/1.1\r\nconnection: foo,bar\r\nx-b: 2\r\nconnection: close\r\n\r\n",
    ],
    [
      "option httpchk\n  http-check send uri /b4 ver HTTP/1.0 hdr Connection Keep-Alive hdr X-After 1",
      "OPTIONS /b4 HTTP/1.0\r\nx-after: 1\r\nconnection: keep-alive\r\n\r\n",
    ],
    // HTTP/2 is written HTTP/1.1, yet not taken for 1.1 when choosing the connection mode.
    [
      "option httpchk\n  http-check send uri /b5 ver HTTP/2 hdr Transfer-Encoding chunked",
      "OPTIONS /b5 HTTP/1.1\r\n\r\n",
    ],
    [
      'option httpchk\n  http-check send uri /b6 ver HTTP/1.2 body "a b"',
      "OPTIONS /b6 HTTP/1.1\r\ncontent-length: 3\r\nconnection: close\r\n\r\na b",
    ],
    // The article's line: its version is not HTTP/1.1, so no connection: close is added.
    [
      "option httpchk GET / HTTP/1.1rnHost:\\ ws.domain.comrnConnection:\\ Upgrade\\r\\nUpgrade:\\ websocket\\r\\nSec-WebSocket-Key:\\ haproxy\\r\\nSec-WebSocket-Version:\\ 13\\r\\nSec-WebSocket-Protocol:\\ echo-protocol",
      "GET / HTTP/1.1rnHost: ws.domain.comrnConnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: haproxy\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: echo-protocol\r\n\r\n",
    ],
  ];
  // Records every byte of each check connection; answers 200 once the request is complete.
  const recorders = await Promise.all(
    cases.map(async () => {
      const got: string[] = [];
      const srv = await rawServer((s) => {
        let buf = "";
        let answered = false;
        s.on("data", (d: Buffer) => {
          buf += d.toString("latin1");
          const end = buf.indexOf("\r\n\r\n");
          const len = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end));
          if (answered || end < 0 || buf.length < end + 4 + (len ? Number(len[1]) : 0)) return;
          answered = true;
          s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        });
        // A check that timed out before it wrote (inter 100ms; a busy test process runs its timers
        // before the connect callback) leaves an empty connection: only requests are recorded.
        s.on("close", () => buf && got.push(buf));
      });
      cleanup.push(srv.close);
      return { port: srv.port, got };
    }),
  );
  const backends = cases.map(
    ([lines], i) =>
      `backend b${i}\n  ${lines}\n  server s1 127.0.0.1:${recorders[i]!.port} check inter 100ms\n`,
  );
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend b0
${backends.join("")}`);
  cleanup.push(p.stop);
  await waitFor(() => recorders.every((r) => r.got.length >= 1), 3000, "a check on every server");
  for (const [i, r] of recorders.entries()) assert.equal(r.got[0], cases[i]![1], cases[i]![0]);
  // A check the busy process let time out takes its server down; the 200s bring it back.
  await waitFor(
    () => [...p.rt.backends.values()].every((b) => b.servers.every((s) => s.up)),
    3000,
    "every server up on its 200",
  );
});
