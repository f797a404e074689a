// The Connection header on both hops, against what haproxy 2.6 sends for the same exchange (each
// expected head below is haproxy's, recorded with the same config, but for the one test that says
// otherwise; Sluice keeps the senders' header case, so heads are compared without case).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startProxy, headServer, Client, DEFAULTS, type Proxy } from "../helpers/harness.js";

type Mode = "http-keep-alive" | "http-server-close" | "httpclose";

let answer = "";
const toServer: string[] = [];
let server: Awaited<ReturnType<typeof headServer>>;
const proxies = new Map<Mode, Proxy>();

before(async () => {
  server = await headServer((head, s) => {
    toServer.push(head);
    s.write(answer);
  });
  for (const mode of ["http-keep-alive", "http-server-close", "httpclose"] as const) {
    const text = `${DEFAULTS}  option ${mode}\nfrontend f\n  bind 127.0.0.1:1\n  default_backend bk\nbackend bk\n  server s1 127.0.0.1:${server.port}\n`;
    proxies.set(mode, await startProxy(text));
  }
});
after(async () => {
  for (const p of proxies.values()) await p.stop();
  await server.close();
});

interface Case {
  mode: Mode;
  request: string;
  response: string;
  /** What haproxy 2.6 sent to the server and to the client, and whether it closed the client. */
  server: string;
  client: string;
  closes: boolean;
}

async function check(c: Case): Promise<void> {
  answer = c.response;
  toServer.length = 0;
  const client = new Client(proxies.get(c.mode)!.port);
  try {
    client.send(c.request);
    const got = await client.until((t) => t.length >= c.client.length);
    assert.equal(got.toLowerCase(), c.client.toLowerCase(), "to the client");
    assert.equal(toServer.join("").toLowerCase(), c.server.toLowerCase(), "to the server");
    if (c.closes) {
      if (!client.closed) await once(client.socket, "close");
      return;
    }
    // Still open: a second request is answered the same way.
    client.take();
    client.send(c.request);
    assert.equal(
      (await client.until((t) => t.length >= c.client.length)).toLowerCase(),
      c.client.toLowerCase(),
    );
  } finally {
    client.close();
  }
}

const GET11 = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const OK11 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

test("keep-alive: the server's close is its own; a 1.1 client hears nothing of it", () =>
  check({
    mode: "http-keep-alive",
    request: GET11,
    response: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: OK11,
    closes: false,
  }));

test("keep-alive: a client's close stays on the client's hop", () =>
  check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    response: OK11,
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    closes: true,
  }));

test("keep-alive: an HTTP/1.0 client's server connection is kept; the client's is closed", () =>
  check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.0\r\n\r\n",
    response: OK11,
    server: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    closes: true,
  }));

test("keep-alive: an HTTP/1.0 client that says both close and keep-alive is closed, as by haproxy 2.6", () =>
  check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
    response: OK11,
    server: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    closes: true,
  }));

test("keep-alive: an HTTP/1.0 response to a 1.1 client says keep-alive", () =>
  check({
    mode: "http-keep-alive",
    request: GET11,
    response: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
    closes: false,
  }));

test("keep-alive: a server's keep-alive that is true of the client's connection passes as it is", async () => {
  // haproxy 2.6 moves the header to the end ("content-length: 2, connection: keep-alive"), and drops
  // it for a 1.1 client; Sluice leaves the head untouched: the same meaning, no rewrite.
  await check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    response: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    closes: false,
  });
  await check({
    mode: "http-keep-alive",
    request: GET11,
    response: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    closes: false,
  });
});

test("other Connection words stay where they were; close and keep-alive leave", () =>
  check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-D ,close,,X-E\r\n\r\n",
    response:
      "HTTP/1.1 200 OK\r\nConnection: X-A , close, X-B,keep-alive, X-C\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\nConnection: X-D,,X-E\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nConnection: X-A ,X-B,X-C\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    closes: true,
  }));

test("keep-alive: beside upgrade, in an answer that is no 101, the keep-alive word leaves", () =>
  // And, as haproxy, a Sec-WebSocket-Accept for the key the request did not send (24 zero bytes).
  check({
    mode: "http-keep-alive",
    request: GET11,
    response:
      "HTTP/1.1 200 OK\r\nConnection: upgrade, keep-alive\r\nUpgrade: websocket\r\nContent-Length: 2\r\n\r\nok",
    server: GET11,
    client:
      "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\nSec-Websocket-Accept: X7sdFi1aZDLMcFz+yURsFmFjwvU=\r\n\r\nok",
    closes: false,
  }));

test("a chunked HTTP/1.0 response closes the client connection", () =>
  check({
    mode: "http-keep-alive",
    request: GET11,
    response:
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    closes: true,
  }));

test("204 and 1xx responses lose their framing and the server's Connection words", async () => {
  await check({
    mode: "http-keep-alive",
    request: GET11,
    response: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.1 204 No Content\r\n\r\n",
    closes: false,
  });
  await check({
    mode: "http-keep-alive",
    request: GET11,
    response: "HTTP/1.1 100 Continue\r\nConnection: keep-alive\r\n\r\n" + OK11,
    server: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    client: "HTTP/1.1 100 Continue\r\n\r\n" + OK11,
    closes: false,
  });
});

test("server-close: the server is told to close, the client hears nothing of it", async () => {
  await check({
    mode: "http-server-close",
    request: GET11,
    response: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    client: OK11,
    closes: false,
  });
  await check({
    mode: "http-server-close",
    request: "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    response: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    client: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
    closes: false,
  });
});

test("httpclose: both hops are told to close", () =>
  check({
    mode: "httpclose",
    request: GET11,
    response: OK11,
    server: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    closes: true,
  }));

test("header lines leave written as haproxy writes them: one space after the colon, values trimmed", () =>
  check({
    mode: "http-keep-alive",
    request: "GET / HTTP/1.1\r\nHost:x\r\nX-A:   a  \t\r\nX-B:\r\nX-C: c\r\n\r\n",
    response: "HTTP/1.1 200 OK\r\nContent-Length:   2  \r\nX-D:\td\r\n\r\nok",
    server: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\nX-B: \r\nX-C: c\r\n\r\n",
    client: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-D: d\r\n\r\nok",
    closes: false,
  }));

test("server-close with option http-pretend-keepalive: the server hears of no close, and its connection still ends", async () => {
  const heads: string[] = [];
  const ends: string[] = [];
  const srv = await headServer((head, s) => {
    heads.push(head);
    // The proxy ends a server connection with an RST, as haproxy does: the socket closes.
    s.once("close", () => ends.push("closed"));
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const p = await startProxy(
    `${DEFAULTS}  option http-server-close\nfrontend f\n  bind 127.0.0.1:1\n  default_backend bk\nbackend bk\n  option http-pretend-keepalive\n  server s1 127.0.0.1:${srv.port}\n`,
  );
  try {
    const c = new Client(p.port);
    c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.response();
    c.send("GET /b HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    await c.response();
    c.close();
    // As haproxy 2.6.12 sent them (names aside, which it writes in lower case).
    assert.deepEqual(heads, [
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /b HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    ]);
    const deadline = Date.now() + 2000;
    while (ends.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(ends, ["closed", "closed"]);
  } finally {
    await p.stop();
    await srv.close();
  }
});
