// The demo server alone: pages, X-Served-By, the echo application and its strictness.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { startDemoServer, type DemoServer } from "../../demo/server.js";
import { exchange } from "../helpers/harness.js";

let srv: DemoServer;
before(async () => {
  srv = await startDemoServer("websrv9", "127.0.0.1", 0);
});
after(async () => {
  await srv.close();
});

test("pages carry X-Served-By; HEAD / answers the plain health check", async () => {
  const page = await exchange(srv.port, "GET /server.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(page, /^HTTP\/1\.1 200/);
  assert.match(page, /X-Served-By: websrv9/);
  assert.match(page, /served by <span class="server">websrv9<\/span>/);
  const index = await exchange(srv.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(index, /<title>Sluice demo/);
  const head = await exchange(srv.port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.equal(head.split("\r\n\r\n")[1], "");
  assert.match(
    await exchange(srv.port, "GET /../package.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    /^HTTP\/1\.1 404/,
  );
});

test("echo-protocol: a hello naming the server, then echoes", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/`, "echo-protocol");
  const messages: unknown[] = [];
  ws.on("message", (d) => messages.push(JSON.parse(String(d))));
  await new Promise((r) => ws.once("open", r));
  assert.equal(ws.protocol, "echo-protocol");
  ws.send("hi");
  await new Promise<void>((r) => {
    const t = setInterval(() => messages.length >= 2 && (clearInterval(t), r()), 10);
  });
  assert.deepEqual(messages, [
    { type: "hello", server: "websrv9", protocol: "echo-protocol" },
    { type: "echo", server: "websrv9", text: "hi" },
  ]);
  ws.close();
});

test("another subprotocol, or none, is refused with a clear 400", async () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  for (const proto of ["chat", ""]) {
    const text = await exchange(
      srv.port,
      `GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${proto ? `Sec-WebSocket-Protocol: ${proto}\r\n` : ""}\r\n`,
    );
    assert.match(text, /^HTTP\/1\.1 400/);
    assert.match(text, /only speaks the 'echo-protocol' WebSocket subprotocol/);
  }
  // The advanced configuration's health check: an upgrade with the valid key gets 101.
  const ok = await exchange(
    srv.port,
    `GET / HTTP/1.1\r\nHost: ws.domain.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo-protocol\r\n\r\n`,
    500,
  );
  assert.match(ok, /^HTTP\/1\.1 101/);
});
