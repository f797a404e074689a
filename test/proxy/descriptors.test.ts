// File descriptors: the limit set for maxconn as haproxy sets it, connections refused (and said)
// when too few remain, and the idle server connections the pool ratios allow (docs/haproxy-behaviour.md §85).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { readFileSync } from "node:fs";
import {
  scratchDir,
  scratchFile,
  spawnSluice,
  startProxy,
  rawServer,
  exchange,
  waitFor,
  sleep,
  closed,
  type Child,
} from "../helpers/harness.js";

const cleanup: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const dir = scratchDir("descriptors");

/** A server answering every request with a 200 on the connection it came on, counting connections. */
async function backend() {
  let connections = 0;
  let closes = 0;
  const srv = await rawServer((s) => {
    connections++;
    s.on("close", () => closes++);
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let e = buf.indexOf("\r\n\r\n"); e >= 0; e = buf.indexOf("\r\n\r\n")) {
        buf = buf.slice(e + 4);
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      }
    });
  });
  cleanup.push(srv.close);
  return { port: srv.port, connections: () => connections, closes: () => closes };
}

const config = (serverPort: number, global = "") => `global
  log stdout format raw local0
${global}
defaults
  mode http
  log global
  timeout client 10s
  timeout server 5s
  timeout connect 2s
frontend f
  bind fd@3
  default_backend b
backend b
  server s 127.0.0.1:${serverPort}
`;

async function sluice(name: string, text: string, fds: number): Promise<Child> {
  const c = await spawnSluice(["-f", scratchFile(dir, name, text)], { fds });
  cleanup.push(() => c.kill());
  return c;
}

const softLimit = (pid: number): number =>
  Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))![1]);

test("a maxconn the descriptor limit cannot hold: haproxy 2.6.12's alert, and no start", async () => {
  const b = await backend();
  const c = await sluice("maxconn.cfg", config(b.port, "  maxconn 500"), 256);
  assert.equal(await Promise.race([c.exited, sleep(10_000).then(() => "still running")]), 1);
  assert.match(
    c.stderr(),
    /\[ALERT\] +\(\d+\) : \[sluice\.main\(\)\] Cannot raise FD limit to 1017, limit is 256\.\n/,
  );
});

test("ulimit-n sets the process's limit", async () => {
  const b = await backend();
  const c = await sluice("ulimit.cfg", config(b.port, "  ulimit-n 300"), 1000);
  // Served: the limit is set by then.
  assert.match(await exchange(c.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 5000), /^HTTP\/1\.1 200 /);
  assert.equal(softLimit(c.proc.pid!), 300);
});

test("out of descriptors: new connections are refused and said, the sessions under way go on", async () => {
  const b = await backend();
  // 200 descriptors: maxconn (200 - 28) / 2 = 86, as haproxy derives it.
  const c = await sluice("short.cfg", config(b.port), 200);
  assert.match(await exchange(c.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 200 /);
  const clients: net.Socket[] = [];
  const ended: boolean[] = [];
  for (let i = 0; i < 240; i++) {
    const s = net.connect(c.port, "127.0.0.1");
    s.on("error", () => {});
    const k = clients.push(s) - 1;
    ended[k] = false;
    void closed(s).then(() => (ended[k] = true));
    cleanup.push(async () => void s.destroy());
    // One at a time, so that the first ones are the sessions (a refused one may end before its connect).
    await Promise.race([new Promise((r) => s.once("connect", r)), closed(s)]);
  }
  await waitFor(
    () => /refused a connection: \d+ file descriptors in use, the limit is 200\./.test(c.stdout()),
    5000,
    "the refusal said",
  );
  await sleep(200);
  const refused = ended.filter(Boolean).length;
  assert.ok(refused > 0 && refused < 240 - 86, `${refused} refused`);
  // The first client is a session: its request is served.
  const first = clients[0]!;
  let got = "";
  first.on("data", (d: Buffer) => (got += d.toString("latin1")));
  first.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await waitFor(() => /^HTTP\/1\.1 200 /.test(got), 3000, "the session's answer");
  assert.equal(c.proc.exitCode, null);
  // Once they are gone, new connections are served again.
  for (const s of clients) s.destroy();
  await sleep(1200);
  assert.match(await exchange(c.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 200 /);
});

const CLOSE = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/** A proxy with `global` lines before backend b (and o for `/o`), each one server, `http-reuse always`. */
async function pooled(global: string, b: number, o = b) {
  const p = await startProxy(`global
${global}
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 2s
frontend f
  bind 127.0.0.1:1
  use_backend o if { path /o }
  default_backend b
backend b
  http-reuse always
  server s 127.0.0.1:${b}
backend o
  http-reuse always
  server s 127.0.0.1:${o}
`);
  cleanup.push(p.stop);
  return p;
}

/** Two clients one after the other, each with one request. */
async function twoClients(global: string): Promise<{ connections: number; closes: number }> {
  const b = await backend();
  const p = await pooled(global, b.port);
  for (let i = 0; i < 2; i++) assert.match(await exchange(p.port, CLOSE), /^HTTP\/1\.1 200 /);
  await sleep(100);
  return { connections: b.connections(), closes: b.closes() };
}

test("tune.pool-low-fd-ratio: past it in use, a server connection does not go idle", async () => {
  assert.deepEqual(await twoClients(""), { connections: 1, closes: 0 });
  assert.deepEqual(await twoClients("  tune.pool-low-fd-ratio 0"), { connections: 2, closes: 2 });
});

test("tune.pool-high-fd-ratio: past it in use, a new server connection closes an idle one first", async () => {
  const b = await backend();
  const other = await backend();
  const p = await pooled("  tune.pool-high-fd-ratio 0\n  tune.pool-low-fd-ratio 100", b.port, other.port);
  assert.match(await exchange(p.port, CLOSE), /^HTTP\/1\.1 200 /);
  await sleep(100);
  assert.equal(b.closes(), 0);
  assert.match(await exchange(p.port, CLOSE.replace("GET / ", "GET /o ")), /^HTTP\/1\.1 200 /);
  await waitFor(() => b.closes() === 1, 2000, "the idle connection closed");
});
