// Timeouts, bad input and failing servers: the status haproxy sends, and nothing forwarded.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  closed,
  startProxy,
  httpBackend,
  rawServer,
  exchange,
  Client,
  waitFor,
  closedPort,
  DEFAULTS,
  type Backend,
  FRONTEND,
  headServer,
  sleep,
  syslogReceiver,
  loggedDefaults,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function setup(backendPort: number, extra = "") {
  const p = await startProxy(`${DEFAULTS}${extra}
${FRONTEND}  server a 127.0.0.1:${backendPort}
`);
  cleanup.push(p.stop);
  return p;
}

let web: Backend;
async function webBackend(): Promise<Backend> {
  if (!web) {
    web = await httpBackend("web");
    cleanup.push(web.close);
  }
  return web;
}

const status = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

test("a bad request's error page looks like haproxy's and closes the connection", async () => {
  const b = await webBackend();
  const p = await setup(b.port);
  const text = await exchange(p.port, "GARBAGE\r\n\r\n");
  const [head, body] = text.split("\r\n\r\n");
  assert.equal(head!.split("\r\n")[0], "HTTP/1.1 400 Bad request");
  assert.match(head!, /\r\ncache-control: no-cache\r\n/);
  assert.match(head!, /\r\ncontent-type: text\/html\r\n/);
  assert.match(head!, /\r\nconnection: close(\r\n|$)/);
  assert.equal(Number(/content-length: (\d+)/.exec(head!)![1]), Buffer.byteLength(body!));
  assert.match(body!, /<h1>400 Bad request<\/h1>/);
});

test("after our 502, 503, 504, 403 or 500 the connection goes on, as after a server's answer", async () => {
  // haproxy 2.6 does the same: its own responses end the transaction, not the connection, unless the
  // request or the mode closes it or the request's body has not all arrived.
  const garbage = await rawServer((s) => s.on("data", () => s.write("NOT HTTP\r\n\r\n")));
  const silent = await rawServer(() => undefined);
  cleanup.push(garbage.close, silent.close);
  const b = await webBackend();
  const p = await startProxy(`${DEFAULTS}
  timeout server 150ms
  timeout tarpit 50ms
  retries 0
frontend f
  bind 127.0.0.1:1
  http-request deny if { path_beg /deny }
  http-request tarpit if { path_beg /tarpit }
  http-request return status 200 content-type text/plain string hi if { path_beg /return }
  use_backend garbage if { path_beg /garbage }
  use_backend silent if { path_beg /silent }
  use_backend refused if { path_beg /refused }
  use_backend none if { path_beg /none }
  default_backend web
backend garbage
  server s 127.0.0.1:${garbage.port}
backend silent
  server s 127.0.0.1:${silent.port}
backend refused
  server s 127.0.0.1:${await closedPort()}
backend none
backend web
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  const cases: [string, number][] = [
    ["/garbage", 502],
    ["/silent", 504],
    ["/refused", 503],
    ["/none", 503],
    ["/deny", 403],
    ["/tarpit", 500],
  ];
  for (const [path, want] of cases) {
    c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await c.response();
    assert.equal(r.status, want, path);
    assert.doesNotMatch(r.head, /\r\nconnection:/i, path);
    c.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await c.response()).status, 200, `the request after ${path}`);
  }
  // An HTTP/1.0 client that keeps its connection is told so, by errors as by `return`.
  for (const path of ["/garbage", "/return"]) {
    c.send(`GET ${path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
    assert.match((await c.response()).head, /\r\nconnection: keep-alive$/, path);
  }
  // A body that came whole with the head is skipped, and the request pipelined behind it served.
  c.send(
    "POST /refused HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /after HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  assert.equal((await c.response()).status, 503);
  assert.equal((await c.response()).status, 200);
  c.send("POST /deny HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  assert.equal((await c.response()).status, 403);
  assert.equal(c.closed, false);
  // The answer to HEAD has no body: the next response follows its head directly.
  c.send("HEAD /deny HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  const text = await c.until((t) => /\r\n\r\nHTTP\/1\.1 200 [^]*\r\n\r\n/.test(t));
  assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n[^]*?\r\n\r\nHTTP\/1\.1 200 /);
  c.take();
  assert.equal(b.seen.filter((r) => r.url === "/next" || r.url === "/after").length, 8);

  // A body still on its way: the rest could not be told from a next request, so the connection closes.
  const d = new Client(p.port);
  cleanup.push(async () => d.close());
  d.send("POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  assert.match((await d.response()).head, /\r\nconnection: close$/);
  await waitFor(() => d.closed, 1000, "close");
  // So does a client that asked for it.
  const e = new Client(p.port);
  cleanup.push(async () => e.close());
  e.send("GET /garbage HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match((await e.response()).head, /\r\nconnection: close$/);
  await waitFor(() => e.closed, 1000, "close");
});

test("a head heavier than haproxy's buffer allows: 400 for a request, 502 for a response, one byte apart", async () => {
  // haproxy 2.6.12, default tune.bufsize: a head passes while its start line's parts and each
  // header's name, value and 8 weigh at most 15275 (a raw head of 15273 bytes with one big header).
  const big = (n: number) => "X-Big: " + "a".repeat(n - 5 - 8);
  const srv = await headServer((head, s) => {
    const want = /^GET \/res\/(\d+) /.exec(head);
    const extra = want ? `${big(Number(want[1]) - (8 + 3 + 2))}\r\n` : "";
    s.write(`HTTP/1.1 200 OK\r\n${extra}Content-Length: 0\r\n\r\n`);
  });
  cleanup.push(srv.close);
  const p = await setup(srv.port);
  const c = new Client(p.port);
  // Request: "GET /" + "HTTP/1.1" weigh 3 + 1 + 8, Host: x 4 + 1 + 8, so X-Big gets the rest.
  for (const [weight, want] of [
    [15275, 200],
    [15276, 400],
  ] as const) {
    // haproxy's parser keeps no Connection line that says only close or keep-alive: it weighs nothing.
    for (const conn of ["", "Connection: keep-alive, close\r\n"]) {
      const r = new Client(p.port);
      r.send(`GET / HTTP/1.1\r\nHost: x\r\n${conn}${big(weight - 12 - 13)}\r\n\r\n`);
      assert.equal((await r.response()).status, want, `request weighing ${weight} ${conn}`);
      r.close();
    }
  }
  // Response: "HTTP/1.1" "200" "OK" weigh 13, Content-Length: 0 weighs 14 + 1 + 8.
  for (const [weight, want] of [
    [15275 - 23, 200],
    [15276 - 23, 502],
  ] as const) {
    c.send(`GET /res/${weight} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal((await c.response()).status, want, `response weighing ${weight + 23}`);
  }
  c.close();
});

test("tune.maxrewrite moves that limit: 4096 kept for rewrites leaves 12203 (haproxy 2.6.12: 200 at a 12150-byte header, 400 at 12180)", async () => {
  const p = await startProxy(`global\n  tune.maxrewrite 4096\n${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain string ok
`);
  cleanup.push(p.stop);
  for (const [n, want] of [
    [12150, 200],
    [12180, 400],
  ] as const) {
    const r = new Client(p.port);
    r.send(`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(n)}\r\n\r\n`);
    assert.equal((await r.response()).status, want, `a header of ${n} bytes`);
    r.close();
  }
});

test("tune.bufsize and tune.http.maxhdr set the head's limits (haproxy 2.6.12: 7083 and 9 header lines at 8192 and 10)", async () => {
  const b = await webBackend();
  const p = await startProxy(`global\n  tune.bufsize 8192\n  tune.http.maxhdr 10\n${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  // A head weighs its start line's parts and each header's name, value and 8: "GET /" and
  // "HTTP/1.1" 12, Host: x 13, and X-Big the rest.
  const weighing = (w: number) => `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(w - 25 - 13)}\r\n\r\n`;
  const lines = (n: number) =>
    `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n - 1 }, (_, i) => `X-${i}: v\r\n`).join("")}\r\n`;
  const cases: [string, string, number][] = [
    ["weighing 7083", weighing(7083), 200],
    ["weighing 7084", weighing(7084), 400],
    ["9 header lines", lines(9), 200],
    ["10 header lines", lines(10), 400],
  ];
  for (const [name, req, want] of cases) {
    const c = new Client(p.port);
    c.send(req);
    assert.equal((await c.response()).status, want, name);
    c.close();
  }
});

test("malformed requests get 400 and reach no server", async () => {
  const b = await webBackend();
  const p = await setup(b.port);
  const before = b.seen.length;
  const bad = [
    "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "G\x00T / HTTP/1.1\r\n\r\n",
    `GET / HTTP/1.1\r\nHost: x\r\n${"X-Big: " + "a".repeat(17000)}\r\n\r\n`,
    `GET / HTTP/1.1\r\n${Array.from({ length: 102 }, (_, i) => `H${i}: v`).join("\r\n")}\r\n\r\n`,
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  ];
  // haproxy 2.6.12 answers each with its 400 page and closes at once (it forwards the obs-fold and
  // the control character, which Sluice refuses by design).
  for (const req of bad) {
    const t0 = Date.now();
    const text = await exchange(p.port, req);
    assert.equal(status(text), 400, JSON.stringify(req.slice(0, 60)));
    assert.ok(
      Date.now() - t0 < 1000,
      `closed ${Date.now() - t0} ms after ${JSON.stringify(req.slice(0, 60))}`,
    );
  }
  assert.equal(b.seen.length, before, "no request reached the server");
  assert.equal(p.rt.counters.badRequests, bad.length);
});

test("a malformed chunk that comes with the head is a 400 before any server is connected", async () => {
  let connections = 0;
  const srv = await rawServer(() => connections++);
  cleanup.push(srv.close);
  const p = await setup(srv.port);
  const text = await exchange(
    p.port,
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  );
  assert.equal(status(text), 400);
  assert.equal(connections, 0);
});

test("timeout http-request: a slow head gets 408", async () => {
  const b = await webBackend();
  const p = await setup(b.port, "  timeout http-request 200ms");
  const c = new Client(p.port);
  c.send("GET / HTTP/1.1\r\nHost:");
  const t0 = Date.now();
  const text = await c.until((t) => t.length > 0, 2000);
  assert.equal(status(text), 408);
  assert.ok(Date.now() - t0 >= 150);
  await waitFor(() => c.closed, 1000, "close");
});

test("without timeout http-request, a head has timeout client counted from its last byte", async () => {
  // haproxy 2.6: a head that keeps coming, each piece within timeout client, is served however long
  // it takes in all; one that stops is answered 408 one timeout client after its last byte.
  const b = await webBackend();
  const p =
    await startProxy(`defaults\n  mode http\n  timeout client 500ms\n  timeout connect 2s\n  timeout server 5s
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  const t0 = Date.now();
  for (const piece of ["GET / HT", "TP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n"]) {
    c.send(piece);
    await sleep(150);
  }
  c.send("\r\n");
  assert.equal((await c.response()).status, 200);
  assert.ok(Date.now() - t0 >= 600, "longer in all than timeout client");
  c.send("GET / HTTP/1.1\r\n");
  await sleep(200);
  const t1 = Date.now();
  c.send("Host: x\r\n");
  const text = await c.until((t) => t.length > 0, 2000);
  assert.equal(status(text), 408);
  assert.ok(Date.now() - t1 >= 450, "counted from the last byte");
  c.close();
});

test("without timeout client, neither timeout http-request nor http-keep-alive applies, as in haproxy", async () => {
  // haproxy 2.6 keeps both on the client connection's timer, which exists only with timeout client.
  const b = await webBackend();
  const p = await startProxy(`defaults
  mode http
  timeout http-request 150ms
  timeout http-keep-alive 150ms
  timeout connect 2s
  timeout server 5s
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send("GET / HTTP/1.1\r\n");
  await sleep(400);
  c.send("Host: x\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  await sleep(400);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  c.close();
});

test("timeout connect with retries: 503 after the last try", async () => {
  // A listener that never accepts: connect on 127.0.0.1 succeeds at TCP level once the backlog has
  // room, so use an address that drops SYNs instead: none is available on loopback, so use a closed
  // port and check the refusal path (SC) and its retries.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const p = await setup(port, "  retries 2\n  timeout connect 100ms");
  const t0 = Date.now();
  const text = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(status(text), 503);
  // Two retries with a turn-around delay of min(timeout connect, 1s) each.
  assert.ok(Date.now() - t0 >= 180, `${Date.now() - t0} ms`);
});

test("timeout server: 504 when the server does not answer in time", async () => {
  const srv = await rawServer(() => undefined);
  cleanup.push(srv.close);
  const p = await setup(srv.port, "  timeout server 200ms");
  const text = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.equal(status(text), 504);
});

test("a garbage response gives 502; a server closing before answering gives 502", async () => {
  const garbage = await rawServer((s) => s.once("data", () => s.end("NOT HTTP AT ALL\r\n\r\n")));
  const closer = await rawServer((s) => s.once("data", () => s.destroy()));
  cleanup.push(garbage.close, closer.close);
  for (const srv of [garbage, closer]) {
    const p = await setup(srv.port);
    const text = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.equal(status(text), 502);
  }
});

test("a server that resets mid-body: the client connection ends at once, logged SD, and the proxy carries on", async () => {
  // haproxy 2.6.12: a reset in the response body closes the client after what came (`200 ... SD--`);
  // a reset while the request body still comes closes it without an answer, logged `-1 0 - - SD--`,
  // on a connection's first request or a later one (a FIN there gets a 502 SH--).
  const srv = await headServer((head, s) => {
    if (head.startsWith("GET /ok ")) s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    else if (head.startsWith("GET ")) {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
      setTimeout(() => s.resetAndDestroy(), 50);
    } else setTimeout(() => s.resetAndDestroy(), 50);
  });
  cleanup.push(srv.close);
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p = await startProxy(`${loggedDefaults(rx)}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const timed = async (c: Client) => {
    const t0 = Date.now();
    await waitFor(() => c.closed, 2000, "the client connection's end");
    return Date.now() - t0;
  };

  const mid = new Client(p.port);
  mid.send("GET /cut HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.ok((await timed(mid)) < 1000);
  const text = mid.take();
  assert.equal(status(text), 200);
  assert.equal(text.length - text.indexOf("\r\n\r\n") - 4, 1000);
  await rx.take(/ 200 \d+ - - SD-- .*"GET \/cut /);

  const upload = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc";
  const first = new Client(p.port);
  first.send(upload);
  assert.ok((await timed(first)) < 1000);
  assert.equal(first.take(), "");
  await rx.take(/\/-1\/\d+ -1 0 - - SD-- .*"POST \/up /);

  const second = new Client(p.port);
  second.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await second.response()).body, "ok");
  second.send(upload);
  assert.ok((await timed(second)) < 1000);
  assert.equal(second.take(), "");
  await rx.take(/ 200 \d+ - - ---- .*"GET \/ok /);
  await rx.take(/\/-1\/\d+ -1 0 - - SD-- .*"POST \/up /);

  await waitFor(() => p.rt.actconn === 0, 2000, "every session's end");
  assert.equal(p.rt.backends.get("bk")!.servers[0]!.cur, 0);
  assert.equal(
    (await exchange(p.port, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).slice(-2),
    "ok",
  );
});

test("a client that stops reading the response: timeout client runs, not timeout server", async () => {
  // haproxy 2.6.12: with client 1s and server 5s such a client is cut at 1 s (cD); with client 5s
  // and server 1s at 5 s, so one that reads again in time is served in full.
  const body = Buffer.alloc(20 * 1024 * 1024, 97);
  const srv = await rawServer((s) =>
    s.once("data", () => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      s.write(body);
    }),
  );
  cleanup.push(srv.close);
  const stalled = async (timeouts: string, readAfter: number | undefined) => {
    const p = await setup(srv.port, timeouts);
    const s = net.connect(p.port, "127.0.0.1");
    cleanup.push(async () => void s.destroy());
    s.on("error", () => undefined);
    s.pause();
    let got = 0;
    s.on("data", (d: Buffer) => (got += d.length));
    s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const t0 = Date.now();
    if (readAfter !== undefined) setTimeout(() => s.resume(), readAfter);
    await waitFor(() => p.rt.actconn === 1, 1000, "the session");
    await waitFor(
      () => p.rt.actconn === 0 || got > body.length,
      5000,
      "the session's end or the whole response",
    );
    const took = Date.now() - t0;
    s.destroy();
    return { took, got };
  };
  const cut = await stalled("  timeout client 300ms\n  timeout server 3s", undefined);
  assert.ok(cut.took >= 250 && cut.took < 2000, `cut after ${cut.took} ms`);
  assert.ok(cut.got < body.length);
  const served = await stalled("  timeout client 3s\n  timeout server 300ms", 800);
  assert.ok(served.got > body.length, `received ${served.got} bytes in ${served.took} ms`);
});

test("a client that goes away mid-body frees everything", async () => {
  const b = await webBackend();
  const p = await setup(b.port);
  const c = new Client(p.port);
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc");
  await waitFor(() => p.rt.actconn === 1, 1000, "session");
  c.close();
  await waitFor(() => p.rt.actconn === 0, 2000, "session end");
  const be = p.rt.backends.get("bk")!;
  assert.equal(be.servers[0]!.cur, 0);
  assert.equal(be.cur, 0);
});

test("a connection that never sends a byte is closed by timeout http-request", async () => {
  const b = await webBackend();
  const p = await setup(b.port, "  timeout http-request 150ms");
  const text = await exchange(p.port, "", 2000);
  // haproxy 2.6 answers 408 even to a connection that sent nothing (option http-ignore-probes off).
  assert.equal(status(text), 408);
});

test("option http-ignore-probes: a connection that sends nothing closes without a 408 or a log line", async () => {
  const b = await webBackend();
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p =
    await startProxy(`${loggedDefaults(rx, "  option http-ignore-probes\n  timeout http-request 150ms")}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  // Silent until the timeout, or a FIN: the connection just closes, as haproxy 2.6's does.
  assert.equal(await exchange(p.port, "", 2000), "");
  const fin = net.connect(p.port, "127.0.0.1");
  fin.on("error", () => undefined);
  const finText: Buffer[] = [];
  fin.on("data", (d: Buffer) => finText.push(d));
  fin.end();
  await closed(fin);
  assert.equal(Buffer.concat(finText).length, 0);
  // A started request still gets its 408, logged.
  assert.equal(status(await exchange(p.port, "GET / HT", 2000)), 408);
  await rx.take(/ 408 \d+ - - cR-- /);
  await sleep(100);
  assert.deepEqual(rx.lines, [], "no line for the probes");
});
