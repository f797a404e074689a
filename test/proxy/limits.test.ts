// Connection limits and modes: frontend maxconn, running out of descriptors, keep-alive timeout,
// http-reuse policies, tcp mode.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  scratchDir,
  startProxy,
  httpBackend,
  exchange,
  Client,
  rawServer,
  waitFor,
  sleep,
  CLI,
  DEFAULTS,
  FRONTEND,
  syslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("frontend maxconn: connections past it wait unread, then are served in turn", async () => {
  const b = await httpBackend("a", (_req, res) => setTimeout(() => res.end("a"), 200));
  cleanup.push(b.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  maxconn 2
  backlog 100
  default_backend bk
backend bk
  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const fe = p.rt.frontends[0]!;
  const all = Array.from({ length: 4 }, () =>
    exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000),
  );
  await waitFor(() => fe.waiting.length === 2, 2000, "two waiting");
  assert.equal(fe.cur, 2);
  const texts = await Promise.all(all);
  for (const t of texts) assert.match(t, /^HTTP\/1\.1 200/);
  assert.equal(fe.waiting.length, 0);
});

test("global maxconn counts the sessions of every frontend together", async () => {
  const b = await httpBackend("a", (_req, res) => setTimeout(() => res.end("a"), 200));
  cleanup.push(b.close);
  const p = await startProxy(`global
  maxconn 2
${DEFAULTS}
frontend f1
  bind 127.0.0.1:1
  default_backend bk
frontend f2
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const [f1, f2] = p.rt.frontends;
  const req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const all = [exchange(p.ports[0]!, req, 5000)];
  await waitFor(() => p.rt.actconn === 1, 2000, "the first session");
  all.push(exchange(p.ports[1]!, req, 5000), exchange(p.ports[1]!, req, 5000));
  await waitFor(() => f2!.waiting.length === 1, 2000, "the third connection waiting");
  assert.equal(p.rt.actconn, 2);
  assert.deepEqual([f1!.cur, f2!.cur], [1, 1]);
  for (const t of await Promise.all(all)) assert.match(t, /^HTTP\/1\.1 200/);
});

test("running out of file descriptors pauses nothing for good and crashes nothing", async () => {
  const b = await httpBackend("a");
  cleanup.push(b.close);
  const dir = scratchDir("fd");
  const cfg = join(dir, "fd.cfg");
  writeFileSync(
    cfg,
    `defaults\n  mode http\n  timeout client 5s\n  timeout connect 1s\n  timeout server 5s\n  timeout http-request 3s\nfrontend f\n  bind fd@3\n  default_backend bk\nbackend bk\n  server a 127.0.0.1:${b.port}\n`,
  );
  const listener = net.createServer().listen(0, "127.0.0.1");
  await once(listener, "listening");
  const port = (listener.address() as net.AddressInfo).port;
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  // 96 descriptors: Node needs about 25 of its own, and loading Sluice's modules (read in parallel)
  // a few dozen for a moment; 80 clients, each holding half a head (no server connection yet),
  // exhaust the rest. libuv then accepts and closes the overflow itself (docs/haproxy-behaviour.md §83).
  const child = spawn("sh", ["-c", `ulimit -n 96 && exec "${process.execPath}" "${CLI}" -f "${cfg}"`], {
    stdio: ["ignore", "pipe", "pipe", fd],
  });
  listener.close();
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  cleanup.push(async () => {
    child.kill("SIGKILL");
  });
  await sleep(300);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 80; i++) {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => undefined);
    s.write("GET / HTTP/1.1\r\nHost: x\r\n");
    sockets.push(s);
  }
  await sleep(500);
  assert.equal(child.exitCode, null, `the process is alive; stderr: ${stderr}`);
  for (const s of sockets) s.destroy();
  await sleep(300);
  // Once descriptors are free again, requests are served.
  let ok = false;
  for (let i = 0; i < 20 && !ok; i++) {
    ok = /^HTTP\/1\.1 200/.test(
      await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2000),
    );
    if (!ok) await sleep(100);
  }
  assert.ok(ok, `served again; stderr: ${stderr}`);
  assert.equal(child.exitCode, null);
});

test("memory pressure (-m) holds new connections unread, lets established ones work, and is logged", async () => {
  const b = await httpBackend("a");
  cleanup.push(b.close);
  const rx = await syslogReceiver();
  const logs = rx.lines;
  cleanup.push(rx.close);
  const p = await startProxy(`global
  log 127.0.0.1:${rx.port} local0
${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const before = new Client(p.port);
  cleanup.push(async () => before.close());
  before.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await before.response()).status, 200);
  // One megabyte: this process is far above it.
  p.rt.global.memmax = 1;
  p.rt.checkMemory();
  const held = new Client(p.port);
  cleanup.push(async () => held.close());
  held.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n");
  before.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await before.response()).status, 200);
  await sleep(200);
  assert.equal(held.take(), "");
  assert.ok(!b.seen.some((r) => r.url === "/held"));
  p.rt.global.memmax = 1 << 20;
  p.rt.checkMemory();
  assert.equal((await held.response()).status, 200);
  await waitFor(() => logs.length >= 2, 2000, "two log lines");
  assert.match(logs[0]!, /short of memory: new connections wait/);
  assert.match(logs[1]!, /has memory again: accepting new connections/);
});

test("timeout http-keep-alive closes an idle client connection", async () => {
  const b = await httpBackend("a");
  cleanup.push(b.close);
  const p = await startProxy(`${DEFAULTS}
  timeout http-keep-alive 150ms
${FRONTEND}  server a 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  const t0 = Date.now();
  await waitFor(() => c.closed, 2000, "idle close");
  const idle = Date.now() - t0;
  assert.ok(idle >= 120 && idle < 1000, `${idle} ms`);
  assert.equal(c.take(), "", "an idle keep-alive connection closes without a 408");
});

test("http-reuse never, safe, aggressive, always open as many server connections as haproxy 2.6", async () => {
  // Clients one after the other making 1, 1, 2 and 1 requests. haproxy 2.6 opened 4, 4, 3 and 1
  // server connections: a client's second request uses its own connection in every mode; `safe`
  // never gives a first request another client's connection, `aggressive` does once that connection
  // has been reused (the third client's), `always` shares the very first one.
  for (const [mode, expectConns] of [
    ["never", 4],
    ["safe", 4],
    ["aggressive", 3],
    ["always", 1],
  ] as const) {
    const b = await httpBackend("a");
    cleanup.push(b.close);
    const p = await startProxy(`${DEFAULTS}
${FRONTEND}  http-reuse ${mode}
  server a 127.0.0.1:${b.port}
`);
    cleanup.push(p.stop);
    for (const requests of [1, 1, 2, 1]) {
      const c = new Client(p.port);
      for (let i = 0; i < requests; i++) {
        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert.equal((await c.response()).status, 200);
      }
      c.close();
      await waitFor(() => p.rt.actconn === 0, 1000, "session end");
    }
    assert.equal(b.connections, expectConns, mode);
  }
});

test("mode tcp: bytes both ways, no HTTP parsing", async () => {
  const srv = await rawServer((s) =>
    s.on("data", (d: Buffer) => s.write(Buffer.concat([Buffer.from("echo:"), d]))),
  );
  cleanup.push(srv.close);
  const p = await startProxy(`
defaults
  mode tcp
  timeout client 2s
  timeout connect 1s
  timeout server 2s
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send("\x00\x01 not http at all\r\n\r\n");
  assert.equal(await c.until((t) => t.length >= 26), "echo:\x00\x01 not http at all\r\n\r\n");
  c.close();
});
