// The demo server alone, without Sluice: its pages, X-Served-By, the echo application, its strictness
// about the subprotocol, both example configurations' health checks, and the program's start and stop.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { WebSocket } from "ws";
import { startDemoServer, packageRoot, type DemoServer } from "../../demo/server.js";
import { freePorts, get, openEcho, Refused } from "../../demo/client.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
let srv: DemoServer;

before(async () => {
  srv = await startDemoServer({ name: "websrv9", port: 0, peers: { websrv9: "http://127.0.0.1:1" } });
});
after(async () => {
  await srv?.close();
});

/** Writes `data` on a fresh connection; returns what came back until the server closed, or after `ms`. */
async function raw(port: number, data: string, ms = 2000): Promise<string> {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => undefined);
  let got = "";
  s.setEncoding("latin1");
  s.on("data", (d: string) => (got += d));
  s.write(data);
  const t = setTimeout(() => s.destroy(), ms);
  await new Promise((r) => s.once("close", r));
  clearTimeout(t);
  return got;
}

/** Starts the demo server's program on `port`; resolves once it says it listens. */
async function program(port: number): Promise<{ child: ChildProcess; out: () => string }> {
  const script = join(packageRoot(), "dist", "demo", "server.js");
  const child = spawn(process.execPath, [script, "--name", "websrv7", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 5000;
  while (!out.includes("listening") && child.exitCode === null && Date.now() < end)
    await new Promise((r) => setTimeout(r, 20));
  return { child, out: () => out };
}

const killLeft = (child: ChildProcess): void => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
};

test("the page, its assets and the plain page, each with X-Served-By", async () => {
  const index = await get(srv.port, "/");
  assert.equal(index.status, 200);
  assert.equal(index.servedBy, "websrv9");
  assert.match(index.body, /<title>Sluice demo/);
  assert.match(index.body, /id="error"/);
  assert.match(index.body, /<strong id="page-server" class="srv">websrv9<\/strong>/);
  assert.doesNotMatch(index.body, /\{\{server\}\}/);
  // No /favicon.ico request through the balancer: it would 404 and take a turn of roundrobin.
  assert.match(index.body, /<link rel="icon" href="data:," \/>/);
  for (const path of ["/app.js", "/style.css"]) {
    const r = await get(srv.port, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.servedBy, "websrv9", path);
  }
  const plain = await get(srv.port, "/server.html");
  assert.equal(plain.status, 200);
  assert.match(plain.body, /Served by <strong id="served-by" class="srv">websrv9<\/strong>/);
  assert.doesNotMatch(plain.body, /\{\{server\}\}/);
  const who = await get(srv.port, "/whoami");
  assert.deepEqual(JSON.parse(who.body), { server: "websrv9", peers: { websrv9: "http://127.0.0.1:1" } });
});

test("errors are answered too, with X-Served-By, and nothing outside demo/public is served", async () => {
  for (const path of ["/nope.html", "/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json"]) {
    const r = await get(srv.port, path);
    assert.equal(r.status, 404, path);
    assert.equal(r.servedBy, "websrv9", path);
  }
  const post = await raw(
    srv.port,
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  );
  assert.match(post, /^HTTP\/1\.1 405 /);
  assert.match(post, /\r\nX-Served-By: websrv9\r\n/i);
});

test("bk_web's health check: HEAD / answers 200 without a body", async () => {
  const head = await raw(srv.port, "HEAD / HTTP/1.0\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 200 /);
  assert.match(head, /\r\nX-Served-By: websrv9\r\n/i);
  assert.equal(head.split("\r\n\r\n")[1], "");
});

test("bk_ws's health check: the upgrade of examples/advanced.cfg gets 101", async () => {
  const check =
    "GET / HTTP/1.1\r\nHost: ws.domain.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo-protocol\r\n\r\n`;
  const answer = await raw(srv.port, check, 300);
  assert.match(answer, /^HTTP\/1\.1 101 /);
  assert.match(answer, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  assert.match(answer, /\r\nSec-WebSocket-Protocol: echo-protocol\r\n/i);
  assert.match(answer, /\r\nX-Served-By: websrv9\r\n/i);
});

test("echo-protocol: a hello naming the server, then every message echoed", async () => {
  const s = await openEcho(`ws://127.0.0.1:${srv.port}/`, { timeoutMs: 3000 });
  try {
    assert.deepEqual(s.hello, {
      type: "hello",
      server: "websrv9",
      protocol: "echo-protocol",
      host: `127.0.0.1:${srv.port}`,
      open: 1,
    });
    assert.deepEqual(await s.echo("hi"), { type: "echo", server: "websrv9", text: "hi", seq: 1 });
    assert.deepEqual(await s.echo("again"), { type: "echo", server: "websrv9", text: "again", seq: 2 });
  } finally {
    s.close();
  }
});

test("the hello reports the Host header, which the ws. routing uses", async () => {
  const s = await openEcho(`ws://127.0.0.1:${srv.port}/`, { host: "ws.localhost:8080", timeoutMs: 3000 });
  s.close();
  assert.equal(s.hello.host, "ws.localhost:8080");
});

test("a client offering several subprotocols gets echo-protocol; binary frames come back as they went", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/`, ["chat", "echo-protocol"]);
  try {
    const frames: Buffer[] = [];
    let servedBy: string | undefined;
    ws.on("upgrade", (res) => (servedBy = res.headers["x-served-by"] as string));
    ws.on("message", (d: Buffer) => frames.push(d));
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    assert.equal(ws.protocol, "echo-protocol");
    assert.equal(servedBy, "websrv9");
    ws.send(Buffer.from([0, 1, 2, 255]));
    const end = Date.now() + 3000;
    while (frames.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual([...frames[1]!], [0, 1, 2, 255]);
  } finally {
    ws.terminate();
  }
});

test("another subprotocol, or none, is refused with a clear 400 like a strict server", async () => {
  for (const protocol of [[], "chat"]) {
    await assert.rejects(openEcho(`ws://127.0.0.1:${srv.port}/`, { protocol, timeoutMs: 3000 }), (e) => {
      assert.ok(e instanceof Refused, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.servedBy, "websrv9");
      assert.match(e.body, /this server only speaks 'echo-protocol'/);
      return true;
    });
  }
  const other = await raw(
    srv.port,
    `GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`,
  );
  assert.match(other, /^HTTP\/1\.1 400 /);
});

test("close() says goodbye to open sockets (1001) and stops listening", async () => {
  const own = await startDemoServer({ name: "websrv8", port: 0 });
  const ws = new WebSocket(`ws://127.0.0.1:${own.port}/`, "echo-protocol");
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
  await own.close();
  assert.equal(await closed, 1001);
  await assert.rejects(get(own.port, "/", undefined, 1000));
});

test(
  "the program: listens where told, stops cleanly on SIGTERM and SIGINT",
  { timeout: 20_000 },
  async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const [port] = await freePorts(1);
      const { child, out } = await program(port!);
      try {
        assert.match(out(), new RegExp(`websrv7 listening on http://127\\.0\\.0\\.1:${port}/`));
        assert.equal((await get(port!, "/server.html")).servedBy, "websrv7");
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        child.kill(signal);
        assert.equal(await exited, 0, signal);
      } finally {
        killLeft(child);
      }
    }
  },
);

test("the program: a Ctrl-C, then the demo's SIGTERM, stop it once", { timeout: 20_000 }, async () => {
  const [port] = await freePorts(1);
  const { child, out } = await program(port!);
  try {
    assert.match(out(), /websrv7 listening/);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGINT");
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(out().match(/stopping/g)?.length, 1, out());
  } finally {
    killLeft(child);
  }
});

test("the program says so when its port is taken", { timeout: 10_000 }, async () => {
  const script = join(packageRoot(), "dist", "demo", "server.js");
  const child = spawn(process.execPath, [script, "--name", "websrv7", "--port", String(srv.port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(t);
  assert.equal(code, 1);
  assert.match(err, /already in use/);
});
