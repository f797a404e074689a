// Pipelined and half-closed clients, early responses, clients that do not read, soft stop: the
// edges of the transaction loop, each checked against what haproxy 2.6 does.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import {
  closed,
  startProxy,
  httpBackend,
  rawServer,
  exchange,
  Client,
  waitFor,
  sleep,
  DEFAULTS,
  FRONTEND,
  type Backend,
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

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** A proxy in front of backend `b`, and a client connected to it. */
async function clientThrough(b: Backend) {
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  const s = net.connect(p.port, "127.0.0.1");
  s.on("error", () => undefined);
  cleanup.push(async () => void s.destroy());
  await once(s, "connect");
  return { p, s };
}

test("requests pipelined before a FIN are all answered, then the connection closes", async () => {
  const b = await httpBackend("web", (req, res) => setTimeout(() => res.end(`hi ${req.url}`), 20));
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  const s = net.connect(p.port, "127.0.0.1");
  s.end(GET("/1") + GET("/2") + GET("/3"));
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  await closed(s);
  assert.deepEqual(
    Buffer.concat(chunks)
      .toString()
      .match(/hi \/\d/g),
    ["hi /1", "hi /2", "hi /3"],
  );
  // haproxy 2.6 closes after the last answer without saying so in it: the client knows it is done.
  assert.doesNotMatch(Buffer.concat(chunks).toString(), /connection: close/i);
});

test("after a FIN, a pipelined request the proxy answers itself does not cut the ones behind it", async () => {
  const b = await httpBackend("web", (req, res) => res.end(`hi ${req.url}`));
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  http-request redirect location /elsewhere if { path /b }
  server a 127.0.0.1:${b.port}
`);
  const s = net.connect(p.port, "127.0.0.1");
  s.end(GET("/a") + GET("/b") + GET("/c"));
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  await closed(s);
  const text = Buffer.concat(chunks).toString();
  assert.deepEqual(text.match(/hi \/\w|location: \/elsewhere/g), ["hi /a", "location: /elsewhere", "hi /c"]);
  assert.doesNotMatch(text, /connection: close/i);
});

test("a client that has finished sending is answered without Connection: close, by a server or the proxy", async () => {
  const b = await httpBackend("web", (req, res) => res.end(`hi ${req.url}`));
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  http-request deny if { path /d }
  server a 127.0.0.1:${b.port}
`);
  // What haproxy 2.6 sends for each, then its FIN.
  const cases: [string, RegExp][] = [
    [GET("/a"), /^HTTP\/1\.1 200 OK\r\n(?![^]*connection: close)[^]*\r\n\r\nhi \/a$/i],
    [GET("/d"), /^HTTP\/1\.1 403 Forbidden\r\n(?![^]*connection:)[^]*<\/html>\n$/i],
    [
      "GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\nconnection: keep-alive\r\n/i,
    ],
  ];
  for (const [request, want] of cases) {
    const s = net.connect(p.port, "127.0.0.1");
    s.end(request);
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    await closed(s);
    assert.match(Buffer.concat(chunks).toString("latin1"), want, request);
  }
});

test("thousands of pipelined requests answered by the proxy itself: no recursion, all answered", async () => {
  const p = await proxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain string ok
`);
  const n = 5000;
  const text = await exchange(
    p.port,
    GET("/").repeat(n - 1) + GET("/").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
    10000,
  );
  assert.equal(text.match(/HTTP\/1\.1 200 OK/g)?.length, n);
  // The last one says that the connection closes.
  assert.match(text.slice(text.lastIndexOf("HTTP/1.1")), /\r\nconnection: close\r\n/);
  assert.equal(p.rt.actconn, 0);
});

test("a pipelining client that does not read its answers stops being read", async () => {
  // Answers that arrive in one read each: each completes even though the client takes nothing.
  const big = Buffer.alloc(16 << 10, 97);
  const b = await httpBackend("big", (_req, res) => res.end(big));
  const { s } = await clientThrough(b);
  s.pause();
  // 2000 answers of 16 KiB are 32 MiB: they must wait on the client, not in the proxy's memory.
  s.write(GET("/").repeat(2000));
  await waitFor(() => b.seen.length > 0, 2000, "the first request");
  // Stopped: no new request for a quarter of a second (a busy machine pauses the proxy for a poll
  // or two without it having stopped).
  let last = -1;
  let since = Date.now();
  await waitFor(
    () => {
      if (b.seen.length !== last) {
        last = b.seen.length;
        since = Date.now();
      }
      return Date.now() - since >= 250;
    },
    8000,
    "the requests to stop reaching the server",
  );
  await sleep(300);
  assert.equal(b.seen.length, last);
  assert.ok(last < 500, `${last} requests forwarded to a client that reads nothing`);
  s.destroy();
});

/**
 * A loopback connection's kernel queues, from /proc/net/tcp: bytes written and not yet acknowledged
 * (tx) and bytes received and not yet read (rx) on the socket from port `local` to port `remote`.
 */
function kernelQueues(local: number, remote: number): { tx: number; rx: number } {
  const hex = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of readFileSync("/proc/net/tcp", "latin1").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex(local)) && f[2]?.endsWith(hex(remote))) {
      const [tx, rx] = f[4]!.split(":").map((h) => parseInt(h, 16));
      return { tx: tx!, rx: rx! };
    }
  }
  throw new Error(`no connection from port ${local} to port ${remote}`);
}

test("a client pipelining faster than it is answered is read a buffer ahead at most", async () => {
  // 60 answers, then the 61st request waits: the megabytes pipelined behind it must stay in the
  // kernel's queues, as haproxy leaves them, not in the proxy's memory.
  const answered = 60;
  const b = await httpBackend("web", (req, res) => {
    if (b.seen.length <= answered) res.end("ok");
  });
  const { p, s } = await clientThrough(b);
  // Requests in 64 KiB writes, each handed to the kernel before the next, until one waits: the
  // queues are full. `taken` counts the writes the kernel took whole.
  const piece = Buffer.from(GET("/").repeat(Math.floor((64 << 10) / GET("/").length)));
  let taken = 0;
  for (let i = 0; i < 256; i++) {
    const done = new Promise<boolean>((resolve) => s.write(piece, (err) => resolve(!err)));
    if (!(await Promise.race([done, sleep(500).then(() => false)]))) break;
    taken += piece.length;
  }
  await waitFor(() => b.seen.length === answered + 1, 5000, "the request that waits");
  await sleep(100);
  const client = kernelQueues(s.localPort!, p.port);
  const proxySide = kernelQueues(p.port, s.localPort!);
  // What the proxy has read (less at most the bytes of the write still waiting): the requests it
  // served, and up to a buffer's worth (16 KiB) plus a read's (64 KiB) of those behind them.
  const read = taken - client.tx - proxySide.rx;
  assert.ok(client.tx + proxySide.rx > 1 << 20, `only ${client.tx + proxySide.rx} bytes left in the kernel`);
  assert.ok(read < 160 << 10, `${read} bytes of pipelined requests read into the proxy`);
});

test("an early response does not hand the unfinished request body to the next user", async () => {
  const heads: string[] = [];
  let conns = 0;
  const srv = await rawServer((s) => {
    conns++;
    s.on("data", (d: Buffer) => {
      const text = d.toString("latin1");
      if (!/^(GET|POST) /.test(text)) return;
      heads.push(text.slice(0, text.indexOf("\r\n")));
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  http-reuse always
  server a 127.0.0.1:${srv.port}
`);
  const a = new Client(p.port);
  cleanup.push(async () => a.close());
  a.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n");
  await a.until((t) => t.endsWith("ok"));
  const b = await exchange(p.port, GET("/next").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
  assert.match(b, /^HTTP\/1\.1 200 OK/);
  assert.deepEqual(heads, ["POST /upload HTTP/1.1", "GET /next HTTP/1.1"]);
  assert.equal(conns, 2);
});

test("a stalled upload ends on the server timeout with 504, as in haproxy", async () => {
  const srv = await rawServer((s) => s.on("data", () => undefined));
  cleanup.push(srv.close);
  const p = await proxy(`
defaults
  mode http
  timeout client 200ms
  timeout connect 1s
  timeout server 800ms
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
  await sleep(100);
  const t0 = Date.now();
  c.send("67");
  const text = await c.until((t) => t.includes("</html>"), 3000);
  assert.match(text, /^HTTP\/1\.1 504 /);
  assert.ok(Date.now() - t0 >= 700, `answered after ${Date.now() - t0} ms, before the server timeout`);
});

test("tcp mode: bytes and FIN sent while queued reach the server", async () => {
  const received: string[] = [];
  const srv = await rawServer((s) => {
    let got = "";
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("end", () => {
      received.push(got);
      s.end(`bye ${got}`);
    });
  });
  cleanup.push(srv.close);
  const p = await proxy(`
defaults
  mode tcp
  timeout client 5s
  timeout connect 1s
  timeout server 5s
  timeout queue 5s
frontend f
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server a 127.0.0.1:${srv.port} maxconn 1
`);
  const first = net.connect(p.port, "127.0.0.1");
  first.on("error", () => undefined);
  await waitFor(() => p.rt.actconn === 1, 2000, "the first session");
  await sleep(50);
  const second = new Promise<string>((resolve) => {
    let got = "";
    const s = net.connect(p.port, "127.0.0.1", () => s.end("queued bytes"));
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("close", () => resolve(got));
  });
  await waitFor(() => p.rt.backends.get("bk")!.queue.length === 1, 2000, "the second session queued");
  await sleep(50);
  first.end("first");
  assert.equal(await second, "bye queued bytes");
  assert.deepEqual(received.sort(), ["first", "queued bytes"]);
});

test("soft stop closes idle keep-alive connections at once and lets busy ones finish", async () => {
  const b = await httpBackend("slow", (_req, res) => setTimeout(() => res.end("late"), 300));
  cleanup.push(b.close);
  const p = await startProxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const idle = new Client(p.port);
  idle.send(GET("/first"));
  await idle.until((t) => t.endsWith("late"));
  const busy = new Client(p.port);
  busy.send(GET("/busy"));
  await waitFor(() => b.seen.length === 2, 2000, "the busy request at the server");
  const t0 = Date.now();
  await p.rt.softStop();
  assert.ok(idle.closed, "the idle connection is closed");
  const text = await busy.until((t) => t.endsWith("late"));
  assert.match(text, /\r\nConnection: close\r\n/i);
  assert.ok(Date.now() - t0 < 1000);
});

test("soft stop waits for a connection's first request, and with option idle-close-on-response for an idle one's next (haproxy 2.6)", async () => {
  const b = await httpBackend("b");
  cleanup.push(b.close);
  for (const option of ["", "  option idle-close-on-response"]) {
    const p = await startProxy(`${DEFAULTS}
${FRONTEND.replace("  default_backend", `${option}\n  default_backend`)}  server a 127.0.0.1:${b.port}
`);
    cleanup.push(p.stop);
    const used = new Client(p.port);
    used.send(GET("/first"));
    await used.until((t) => t.endsWith("b"));
    used.take();
    const fresh = new Client(p.port);
    await waitFor(() => p.rt.frontends[0]!.cur === 2, 2000, "both connections");
    const stopped = p.rt.softStop();
    await sleep(100);
    assert.equal(used.closed, option === "", `the idle connection closes at once only without the option`);
    assert.equal(fresh.closed, false, "a connection yet to send its first request is waited for");
    for (const c of option ? [used, fresh] : [fresh]) {
      c.send(GET("/last"));
      const text = await c.until((t) => t.endsWith("b"));
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: close\r\n/i);
      await waitFor(() => c.closed, 2000, "the close after the answer");
    }
    await stopped;
  }
});

test("option abortonclose: a client that leaves while queued or waiting gives its request up", async () => {
  const b = await httpBackend("slow", (_req, res) => setTimeout(() => res.end("late"), 400));
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
  option abortonclose
  timeout queue 5s
${FRONTEND}  server a 127.0.0.1:${b.port} maxconn 1
`);
  const first = exchange(p.port, "GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await waitFor(() => b.seen.length === 1, 2000, "the first request");
  // Queued behind /first, then the client shuts its side: haproxy 2.6 drops it without an answer (CQ).
  const half = await new Promise<string>((resolve) => {
    let got = "";
    const s = net.connect(p.port, "127.0.0.1", () => s.end(GET("/half")));
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("close", () => resolve(got));
  });
  assert.equal(half, "");
  assert.match(await first, /late$/);
  // Once at the server, the abort is answered with 400, as haproxy 2.6 does.
  const sent = await new Promise<string>((resolve) => {
    let got = "";
    const s = net.connect(p.port, "127.0.0.1", () => s.write(GET("/sent")));
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("close", () => resolve(got));
    void waitFor(() => b.seen.some((r) => r.url === "/sent"), 2000, "/sent at the server").then(() =>
      s.end(),
    );
  });
  assert.match(sent, /^HTTP\/1\.1 400 /);
  assert.deepEqual(
    b.seen.map((r) => r.url),
    ["/first", "/sent"],
  );
});

test("after the last answer, a client that keeps writing holds its socket no longer than the linger time", async () => {
  const b = await httpBackend("web");
  cleanup.push(b.close);
  const p = await proxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  // It never sends its FIN: it goes on writing after ours.
  const s = net.connect({ port: p.port, host: "127.0.0.1", allowHalfOpen: true });
  s.on("error", () => undefined);
  let closed = false;
  s.on("close", () => (closed = true));
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  s.write(GET("/").replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
  await waitFor(() => got.endsWith("web"), 2000, "the answer");
  const t0 = Date.now();
  // A byte every 200 ms: each used to push the socket's idle timer back, without end.
  const trickle = setInterval(() => s.write("x"), 200);
  try {
    await waitFor(() => closed, 7000, "the socket's close");
  } finally {
    clearInterval(trickle);
    s.destroy();
  }
  const held = Date.now() - t0;
  assert.ok(held >= 4500 && held < 6000, `held ${held} ms`);
});

test("at a stop, an idle kept-alive server connection ends with a FIN, as haproxy's", async () => {
  const ends: string[] = [];
  const srv = await rawServer((s) => {
    s.on("data", () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    s.on("end", () => ends.push("FIN"));
    s.on("error", (e: NodeJS.ErrnoException) => ends.push(e.code ?? "error"));
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  c.send(GET("/"));
  assert.equal((await c.response()).body, "ok");
  c.close();
  await waitFor(() => p.rt.backends.get("bk")!.servers[0]!.idle.length === 1, 2000, "the idle connection");
  await p.stop();
  await waitFor(() => ends.length > 0, 2000, "the server connection's end");
  assert.deepEqual(ends, ["FIN"]);
});
