import { test, after } from "node:test";
import net from "node:net";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import {
  startProxy,
  Client,
  rawServer,
  headServer,
  sleep,
  waitFor,
  exchange,
  closedPort,
  recordEnd,
  DEFAULTS,
  FRONTEND,
  syslogReceiver,
  loggedDefaults,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** An echo server speaking `echo-protocol` only, like the article's test bed. */
async function echoServer(name: string): Promise<{ port: number; wss: WebSocketServer }> {
  const server = http.createServer((_req, res) => res.end(`page of ${name}`));
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has("echo-protocol") ? "echo-protocol" : false),
  });
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port, wss };
}

async function proxyTo(port: number, extra = "") {
  const p = await startProxy(`${DEFAULTS}
  option http-server-close
${extra}
${FRONTEND}  server a 127.0.0.1:${port}
`);
  cleanup.push(p.stop);
  return p;
}

function open(port: number, protocol = "echo-protocol"): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocol);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

function next(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) =>
    ws.once("message", (data: Buffer, binary: boolean) => resolve({ data, binary })),
  );
}

test("a WebSocket session through the proxy: text, binary, fragments, ping/pong, close handshake", async () => {
  const { port } = await echoServer("a");
  const p = await proxyTo(port);
  const ws = await open(p.port);
  assert.equal(ws.protocol, "echo-protocol");

  const m1 = next(ws);
  ws.send("hello");
  assert.deepEqual(await m1, { data: Buffer.from("hello"), binary: false });

  const bin = Buffer.from([0, 1, 2, 255]);
  const m2 = next(ws);
  ws.send(bin);
  assert.deepEqual(await m2, { data: bin, binary: true });

  // A fragmented message: three frames, one message.
  const m3 = next(ws);
  ws.send("frag", { fin: false });
  ws.send("men", { fin: false });
  ws.send("ted", { fin: true });
  assert.equal((await m3).data.toString(), "fragmented");

  const big = Buffer.alloc(2 * 1024 * 1024, 7);
  const m4 = next(ws);
  ws.send(big);
  assert.ok((await m4).data.equals(big));

  const pong = once(ws, "pong");
  ws.ping("p");
  assert.equal(((await pong)[0] as Buffer).toString(), "p");

  const closed = once(ws, "close");
  ws.close(1000, "bye");
  const [code, reason] = await closed;
  assert.equal(code, 1000);
  assert.equal(String(reason), "bye");
});

test("with http-server-close, a connection per request: requests, refused connects and a tunnel in turn", async () => {
  const { port } = await echoServer("a");
  const dead = await closedPort();
  const p = await startProxy(`${DEFAULTS}
  option http-server-close
  retries 0
frontend f
  bind 127.0.0.1:1
  use_backend bd if { path /dead }
  default_backend bk
backend bk
  server a 127.0.0.1:${port}
backend bd
  server d 127.0.0.1:${dead}
`);
  cleanup.push(p.stop);
  const status = async (path = "/"): Promise<number> =>
    Number(
      (await exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).slice(9, 12),
    );
  assert.equal(await status(), 200);
  assert.equal(await status("/dead"), 503);
  assert.equal(await status(), 200);
  const ws = await open(p.port);
  const m = next(ws);
  ws.send("after a refused connect");
  assert.equal((await m).data.toString(), "after a refused connect");
  assert.equal(await status("/dead"), 503);
  assert.equal(await status(), 200);
  ws.close();
  await once(ws, "close");
});

test("an idle tunnel outlives timeout client but not timeout tunnel", async () => {
  const { port } = await echoServer("a");
  const p = await proxyTo(port, "  timeout client 200ms\n  timeout server 200ms\n  timeout tunnel 800ms");
  const ws = await open(p.port);
  await sleep(500);
  assert.equal(ws.readyState, WebSocket.OPEN, "still open after timeout client");
  const m = next(ws);
  ws.send("still there");
  assert.equal((await m).data.toString(), "still there");
  const t0 = Date.now();
  await once(ws, "close");
  const idle = Date.now() - t0;
  assert.ok(idle >= 700 && idle < 2000, `closed after ${idle} ms of silence`);
});

test("timeout tunnel is the backend's: a frontend's, even from its defaults, does nothing", async () => {
  const { port } = await echoServer("a");
  // haproxy 2.6 keeps this tunnel open: the backend's defaults have no timeout tunnel.
  const p = await startProxy(`
defaults
  mode http
  timeout client 2s
  timeout server 2s
  timeout connect 1s
  timeout tunnel 200ms
frontend f
  bind 127.0.0.1:1
  default_backend bk
defaults
  mode http
  timeout client 2s
  timeout server 2s
  timeout connect 1s
backend bk
  server a 127.0.0.1:${port}
`);
  cleanup.push(p.stop);
  const ws = await open(p.port);
  await sleep(600);
  assert.equal(ws.readyState, WebSocket.OPEN, "open past the frontend's timeout tunnel");
  ws.close();
});

test("a server that refuses the upgrade keeps the connection in HTTP; the next request is routed", async () => {
  let n = 0;
  const srv = await rawServer((s) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      while (buf.includes("\r\n\r\n")) {
        buf = buf.slice(buf.indexOf("\r\n\r\n") + 4);
        n++;
        s.write(
          n === 1
            ? "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        );
      }
    });
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send(
    "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
  );
  const r1 = await c.response();
  assert.equal(r1.status, 400);
  const r2 = await c.response();
  assert.equal(r2.status, 200);
  assert.equal(r2.body, "ok");
  c.close();
});

test("a half-close in the tunnel is passed on; the other side can still send", async () => {
  const srv = await rawServer((s) => {
    let buf = "";
    const onData = (d: Buffer): void => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n\r\n")) return;
      s.removeListener("data", onData);
      s.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      );
      s.on("end", () => {
        // The client finished sending; the server answers then closes.
        s.end("late reply");
      });
    };
    s.on("data", onData);
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
  timeout tunnel 2s
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const c = new Client(p.port);
  c.send(
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await c.until((t) => t.includes("\r\n\r\n"));
  c.take();
  c.socket.end();
  const text = await c.until((t) => t.includes("late reply"));
  assert.equal(text, "late reply");
  await waitFor(() => c.closed, 2000, "close after the server's FIN");
});

const UPGRADE =
  "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** A client whose upgrade the server has accepted: the tunnel is open. */
async function tunnel(port: number): Promise<Client> {
  const c = new Client(port);
  c.send(UPGRADE);
  await c.until((t) => t.includes("\r\n\r\n"));
  return c;
}

/**
 * A server that answers 101 and keeps its side open after the client's FIN (allowHalfOpen), as a
 * real one may; it records when it sees the proxy's FIN or reset.
 */
async function halfOpenUpgradeServer(): Promise<{
  port: number;
  last(): net.Socket | undefined;
  ends(): string[];
}> {
  let last: net.Socket | undefined;
  let ends: string[] = [];
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    last = s;
    // Each connection's own record: a late event of an earlier one does not land in it.
    ends = [];
    recordEnd(s, ends);
    s.once("data", () =>
      s.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      ),
    );
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  cleanup.push(async () => {
    last?.destroy();
    srv.close();
  });
  return { port: (srv.address() as AddressInfo).port, last: () => last, ends: () => ends };
}

test("tunnel FINs as in haproxy 2.6: the server's ends the session, the client's starts timeout server-fin", async () => {
  const srv = await halfOpenUpgradeServer();
  const p = await startProxy(`${DEFAULTS}
  timeout tunnel 5s
  timeout server-fin 300ms
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  // The client finishes, the server stays silent with its side open: closed after server-fin.
  const c = await tunnel(p.port);
  const t0 = Date.now();
  c.socket.end();
  await waitFor(() => p.rt.actconn === 0, 2000, "the session's end");
  const took = Date.now() - t0;
  assert.ok(took >= 280 && took < 1500, `ended ${took} ms after the client's FIN`);
  // As haproxy's, the end is a reset: the server's next write fails at once.
  const late = await new Promise<string | undefined>((ok) =>
    srv.last()!.write("late", (e) => ok((e as NodeJS.ErrnoException | null | undefined)?.code)),
  );
  assert.equal(late, "EPIPE");
  // The server closes: the client gets its FIN and the session ends at once.
  const d = await tunnel(p.port);
  srv.last()!.end();
  await waitFor(() => p.rt.actconn === 0, 500, "the session's end right after the server's FIN");
  d.close();
});

test("without timeout tunnel, each side keeps its timeout, as in haproxy 2.6", async () => {
  // haproxy 2.6.12, client 1s and server 3s: FIN to the server at 1 s, FIN to the client at 3 s (cD);
  // client 3s and server 1s: FIN to the client and a reset to the server at 1 s (sD).
  const srv = await halfOpenUpgradeServer();
  const proxyWith = async (client: number, server: number, serverFin = "") => {
    const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  timeout client ${client}
  default_backend bk
backend bk
  timeout server ${server}
  ${serverFin}
  server a 127.0.0.1:${srv.port}
`);
    cleanup.push(p.stop);
    return p;
  };
  const clientFirst = await proxyWith(150, 600);
  const c = new Client(clientFirst.port);
  const clientEnds: string[] = [];
  recordEnd(c.socket, clientEnds);
  c.send(UPGRADE);
  await c.until((t) => t.includes("\r\n\r\n"));
  const t0 = Date.now();
  await waitFor(() => srv.ends().length > 0, 2000, "the server's FIN");
  assert.deepEqual(srv.ends(), ["FIN"]);
  assert.deepEqual(clientEnds, [], "the client's side still open");
  // The server may still answer until its own timeout.
  srv.last()!.write("late");
  await c.until((t) => t.endsWith("late"));
  await waitFor(() => clientEnds.length > 0, 2000, "the client's FIN");
  const took = Date.now() - t0;
  assert.ok(took >= 500, `the client's FIN ${took} ms after the tunnel began`);

  const serverFirst = await proxyWith(600, 150);
  const d = new Client(serverFirst.port);
  d.send(UPGRADE);
  await d.until((t) => t.includes("\r\n\r\n"));
  const t1 = Date.now();
  await waitFor(() => d.closed, 2000, "the client's close");
  assert.ok(Date.now() - t1 < 500, `closed ${Date.now() - t1} ms after the tunnel began`);
  await waitFor(() => srv.ends().length > 0, 1000, "the server's end");
  assert.deepEqual(srv.ends(), ["ECONNRESET"]);

  // A client's FIN hands the session to the server side's FIN timeout, once.
  const finFirst = await proxyWith(150, 3000, "timeout server-fin 200ms");
  const e = new Client(finFirst.port);
  e.send(UPGRADE);
  await e.until((t) => t.includes("\r\n\r\n"));
  const t2 = Date.now();
  e.socket.end();
  await waitFor(() => finFirst.rt.actconn === 0, 2000, "the session's end");
  const fin = Date.now() - t2;
  assert.ok(fin >= 170 && fin < 330, `ended ${fin} ms after the client's FIN`);
  e.close();
});

test("after the client's FIN, without timeout tunnel: timeout server from the last data; a server reset is SD", async () => {
  // haproxy 2.6.12, client 1s and server 1500ms: the client's FIN, then silence, ends the tunnel
  // 1.5 s after the last data (sD--); a server that then resets is logged SD--.
  const srv = await halfOpenUpgradeServer();
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  timeout client 150ms
  default_backend bk
backend bk
  timeout server 600ms
  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const c = await tunnel(p.port);
  const t0 = Date.now();
  c.socket.end();
  await waitFor(() => c.closed, 2000, "the tunnel's end");
  assert.ok(Date.now() - t0 >= 500, `ended ${Date.now() - t0} ms after the client's FIN`);
  assert.match(await rx.take(/ 101 /), / 101 \d+ - - sD-- /);
  const d = await tunnel(p.port);
  d.socket.end();
  await sleep(50);
  srv.last()!.resetAndDestroy();
  await waitFor(() => d.closed, 2000, "the tunnel's end");
  assert.match(await rx.take(/ 101 /), / 101 \d+ - - SD-- /);
});

test("a subprotocol the server refuses gives the client its error, not a tunnel", async () => {
  const { port } = await echoServer("a");
  const p = await proxyTo(port);
  await assert.rejects(open(p.port, "chat"), /status 400|Server sent no subprotocol|unexpected/);
});

test("http-response rules apply to a 101: headers edited, or a deny that answers 502", async () => {
  // Checked against haproxy 2.6.12 with the same rules (header names aside).
  const srv = await headServer((head, s) =>
    s.write(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Gone: 1\r\n" +
        `${/\/deny/.test(head) ? "X-Deny: 1\r\n" : ""}Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n`,
    ),
  );
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-response set-header X-Fe 1
  default_backend bk
backend bk
  http-response set-header X-Be 1
  http-response del-header X-Gone
  http-response deny if { res.hdr(X-Deny) -m found }
  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const upgrade = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send(upgrade("/ws"));
  const head = await c.until((t) => t.includes("\r\n\r\n"));
  assert.equal(
    head,
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Be: 1\r\nX-Fe: 1\r\n\r\n",
  );
  const d = new Client(p.port);
  cleanup.push(async () => d.close());
  d.send(upgrade("/deny"));
  assert.equal((await d.response()).status, 502);
});

test("an upgrade whose key a rule took away leaves with one of the proxy's making, which the 101 must answer, as haproxy 2.6.12 does", async () => {
  // haproxy checks the key when the request arrives, before the rules; its HTTP/1 layer then writes
  // a key of its own where none leaves, and holds the server's Sec-WebSocket-Accept to it.
  const keys: string[] = [];
  const srv = await headServer((head, s) => {
    const key = /\r\nsec-websocket-key: ([^\r]*)/i.exec(head)![1]!;
    keys.push(key);
    const accept = head.startsWith("GET /bad")
      ? "dGhlIHNhbXBsZSBub25jZQ=="
      : createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    s.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request del-header Sec-WebSocket-Key
  default_backend bk
backend bk
  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const good = new Client(p.port);
  cleanup.push(async () => good.close());
  good.send(UPGRADE);
  await good.until((t) => t.startsWith("HTTP/1.1 101 "));
  const bad = new Client(p.port);
  cleanup.push(async () => bad.close());
  bad.send(UPGRADE.replace("GET /", "GET /bad"));
  assert.equal((await bad.response()).status, 502);
  // Two keys of 16 bytes each, neither the client's.
  assert.equal(keys.length, 2);
  for (const k of keys) {
    assert.equal(Buffer.from(k, "base64").length, 16);
    assert.ok(!UPGRADE.includes(k));
  }
  assert.notEqual(keys[0], keys[1]);
});

test("a response that says upgrade to websocket leaves with a Sec-WebSocket-Accept answering the client's key, as haproxy 2.6.12 writes one", async () => {
  const srv = await headServer((head, s) => {
    const upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\n";
    if (head.startsWith("GET /426"))
      s.write(`HTTP/1.1 426 Upgrade Required\r\n${upgrade}Content-Length: 2\r\n\r\nno`);
    else s.write(`HTTP/1.1 101 Switching Protocols\r\n${upgrade}Sec-WebSocket-Accept: x\r\n\r\n`);
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-response del-header Sec-WebSocket-Accept if { status 101 }
  default_backend bk
backend bk
  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const clientKey = /Sec-WebSocket-Key: ([^\r]*)/.exec(UPGRADE)![1]!;
  const answer = (key: string | Buffer): string =>
    createHash("sha1")
      .update(Buffer.concat([Buffer.from(key), Buffer.from("258EAFA5-E914-47DA-95CA-C5AB0DC85B11")]))
      .digest("base64");
  // The 101 whose accept a rule deleted gets one back, after the Connection line.
  const ws = new Client(p.port);
  cleanup.push(async () => ws.close());
  ws.send(UPGRADE);
  const head = await ws.until((t) => t.includes("\r\n\r\n"));
  assert.match(
    head,
    new RegExp(
      `^HTTP/1.1 101 [^]*\\r\\nSec-Websocket-Accept: ${answer(clientKey).replace(/[+/]/g, "\\$&")}\\r\\n\\r\\n$`,
    ),
  );
  // Any other status that says so gets one too; to a request without a key, for 24 zero bytes.
  const plain = new Client(p.port);
  cleanup.push(async () => plain.close());
  plain.send("GET /426 HTTP/1.1\r\nHost: h\r\n\r\n");
  const res = await plain.response();
  assert.equal(res.status, 426);
  assert.match(
    res.head,
    new RegExp(`\\r\\nSec-Websocket-Accept: ${answer(Buffer.alloc(24)).replace(/[+/]/g, "\\$&")}$`),
  );
  assert.equal(answer(Buffer.alloc(24)), "X7sdFi1aZDLMcFz+yURsFmFjwvU=");
});

test("the handshake is checked where haproxy 2.6 checks it", async () => {
  // Each case checked against haproxy 2.6.12: the key's length is checked (24 characters), not its
  // content, when the last Upgrade line lists websocket; other upgrades (h2c) are not checked. A 101
  // passes when the request and the 101 both say `Connection: upgrade`, and, if the 101's last
  // Upgrade line lists websocket, it has a Sec-WebSocket-Accept, whatever its value. A request with a
  // body loses its Upgrade header on the way, so a 101 to it is an invalid response.
  let answer = "";
  const seen: string[] = [];
  const srv = await headServer((head, s) => {
    seen.push(head);
    s.write(answer);
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const OK101 =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
  const ws = (key: string | undefined) =>
    `GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${key === undefined ? "" : `Sec-WebSocket-Key: ${key}\r\n`}Sec-WebSocket-Version: 13\r\n\r\n`;
  const cases: [string, string, number, boolean][] = [
    ["no key", ws(undefined), 400, false],
    ["the article's key", ws("haproxy"), 400, false],
    ["25 characters", ws("dGhlIHNhbXBsZSBub25jZQ==="), 400, false],
    ["24 characters, not base64", ws("########################"), 101, true],
    [
      "h2c without key",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
      101,
      true,
    ],
    [
      "websocket among others, no key",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo, WebSocket\r\n\r\n",
      400,
      false,
    ],
    [
      "websocket on an earlier Upgrade line, no key",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: foo\r\n\r\n",
      101,
      true,
    ],
    ["an HTTP/1.0 GET with a body", "GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 413, false],
  ];
  for (const [name, req, status, forwarded] of cases) {
    answer = OK101;
    const before = seen.length;
    const c = new Client(p.port);
    c.send(req);
    const text = await c.until((t) => t.includes("\r\n\r\n"));
    c.close();
    assert.equal(Number(text.slice(9, 12)), status, name);
    assert.equal(seen.length > before, forwarded, name);
  }
  const key = ws("dGhlIHNhbXBsZSBub25jZQ==");
  const withBody = key.replace("\r\n\r\n", "\r\nContent-Length: 5\r\n\r\nhello");
  const answers: [string, string, string, number][] = [
    ["101 without Sec-WebSocket-Accept", key, "Connection: Upgrade\r\nUpgrade: websocket\r\n", 502],
    ["101 to a plain request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "Connection: Upgrade\r\n", 502],
    ["101 without Connection: upgrade", key, "Upgrade: websocket\r\nSec-WebSocket-Accept: x\r\n", 502],
    ["101 with only Connection: upgrade", key, "Connection: Upgrade\r\n", 101],
    ["101 to another protocol", key, "Upgrade: foo\r\nConnection: Upgrade\r\n", 101],
    [
      "101 whose last Upgrade is not websocket",
      key,
      "Connection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: foo\r\n",
      101,
    ],
    [
      "101 to Connection: upgrade without Upgrade",
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n\r\n",
      "Connection: Upgrade\r\nUpgrade: foo\r\n",
      101,
    ],
    [
      "101 to an upgrade request with a body",
      withBody,
      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n",
      502,
    ],
  ];
  for (const [name, req, headers, status] of answers) {
    answer = `HTTP/1.1 101 Switching Protocols\r\n${headers}\r\n`;
    const c = new Client(p.port);
    c.send(req);
    const text = await c.until((t) => t.includes("\r\n\r\n"));
    c.close();
    assert.equal(Number(text.slice(9, 12)), status, name);
  }
  // The request with a body reached the server without its Upgrade header, its Connection untouched.
  assert.match(seen.at(-1)!, /\r\nConnection: Upgrade\r\n/);
  assert.doesNotMatch(seen.at(-1)!, /\r\nUpgrade:/i);
});
