// The byte counts of log lines (%B, %U) and of stick tables: haproxy 2.6 counts the internal (HTX)
// form of each message, not its bytes on the wire. Every figure below is haproxy 2.6.12's for the
// same exchange (docs/haproxy-behaviour.md, section 77).
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  startProxy,
  headServer,
  rawServer,
  exchange,
  Client,
  DEFAULTS,
  htxSize,
  scratchDir,
  scratchFile,
  syslogReceiver,
  type SyslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

let rx: SyslogReceiver;
before(async () => {
  rx = await syslogReceiver();
  cleanup.push(rx.close);
});

/** Answers by path, from the table; a function answers itself. */
async function server(answers: Record<string, string | ((s: net.Socket) => void)>) {
  const srv = await headServer((head, s) => {
    const path = head.split(" ")[1]!;
    const a = answers[path] ?? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ns1";
    if (typeof a === "string") s.write(a);
    else a(s);
  });
  cleanup.push(srv.close);
  return srv;
}

async function proxy(body: string, extra = ""): Promise<number> {
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}
  log global
  log-format "%{+Q}r %ST %B %U"
${extra}
${body}`);
  cleanup.push(p.stop);
  return p.port;
}

/** %B and %U of the line logged for `path`. */
async function counts(path: string): Promise<[string, number]> {
  const line = await rx.take(new RegExp(` ${path.replace(/[?/]/g, "\\$&")} HTTP`));
  const m = / (\+?\d+) (\d+)$/.exec(line);
  assert.ok(m, line);
  return [m[1]!, Number(m[2])];
}

const get = (path: string, more = ""): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${more}Connection: close\r\n\r\n`;
/** What a bodiless GET for `path` with Host: x counts: its Connection line is not kept. */
const getIn = (path: string): number => 21 + 3 + path.length + 8 + 5;

test("a server's response counts as haproxy's parser keeps it, before any rule", async () => {
  const srv = await server({
    "/": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ns1",
    "/spaces": "HTTP/1.1 200 OK\r\nContent-Length:   2  \r\nX-A:b\r\n\r\ns1",
    "/conn": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: foo , close , bar\r\n\r\ns1",
    "/rules": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Del: 0123456789\r\n\r\ns1",
    "/trailers":
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: abc\r\nX-Uv:  zz \r\n\r\n",
    "/both":
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "/list": "HTTP/1.1 200 OK\r\nContent-Length: 02, 2\r\n\r\ns1",
    "/interim": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ns1",
    "/204": "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    "/close": (s) => s.end("HTTP/1.1 200 OK\r\n\r\nhello world"),
    "/cut": (s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc");
      setTimeout(() => s.destroy(), 50);
    },
  });
  const port = await proxy(`
frontend fe
  bind 127.0.0.1:1
  http-request early-hint Link "</a.css>; rel=preload" if { path /hint }
  use_backend rules if { path /rules }
  default_backend bk
backend bk
  cookie SRV insert
  server s1 127.0.0.1:${srv.port} cookie s1
backend rules
  http-response set-header X-Long abcdefghijklmnop
  http-response del-header x-del
  server s1 127.0.0.1:${srv.port}
`);
  const cases: [string, number][] = [
    // 21, "HTTP/1.1", "200", "OK", then "content-length" and "2", and the body: 51 (40 on the wire,
    // and 68 with the cookie that haproxy inserts after it counted).
    ["/", 51],
    ["/spaces", 55],
    // The close word goes, and a comma with it: "foo ,bar".
    ["/conn", 69],
    // Rules change what leaves, not what was counted.
    ["/rules", 66],
    // The payload, the trailers' names and trimmed values, and 1 for their end.
    ["/trailers", 76],
    // The length beside chunked framing is dropped.
    ["/both", 64],
    ["/list", 51],
    ["/interim", 91],
    // A 204's length is counted, not sent.
    ["/204", 57],
    ["/close", 45],
    ["/cut", 54],
    // A 103 the proxy sends first counts as the heads do: 21, its start line's parts, "link" and its
    // value (68), before the server's 51.
    ["/hint", 119],
  ];
  for (const [path, out] of cases) {
    const got = await exchange(port, get(path));
    if (path === "/rules")
      assert.match(got, /^HTTP\/1.1 200 OK\r\nContent-Length: 2\r\nX-Long: abcdefghijklmnop\r\n/);
    if (path === "/") assert.match(got, /\r\nSet-Cookie: SRV=s1; path=\/\r\n/);
    assert.deepEqual(await counts(path), [String(out), getIn(path)], path);
  }
});

test("a request counts as haproxy's parser keeps it: a normalized target and Host, no repeats, chunks' payload", async () => {
  const srv = await server({});
  const port = await proxy(`
frontend fe
  bind 127.0.0.1:1
  http-request set-header X-Added abcdefghijklmnop
  default_backend bk
backend bk
  server s1 127.0.0.1:${srv.port}
`);
  const many = Array.from({ length: 30 }, (_, i) => `X-H${i}: v${i}\r\n`).join("");
  await exchange(
    port,
    `GET /a/b?c=d HTTP/1.1\r\nHost: x\r\n${many}User-Agent:   curl/8  \r\nConnection: close\r\n\r\n`,
  );
  assert.deepEqual(await counts("/a/b?c=d"), ["51", 281]);
  await exchange(
    port,
    "GET http://x:80/abs HTTP/1.1\r\nHost: x:80\r\nHost: x:80\r\nConnection: close\r\n\r\n",
  );
  assert.deepEqual(await counts("http://x/abs"), ["51", 49]);
  await exchange(
    port,
    "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\nX-T:  abc \r\n\r\n",
  );
  assert.deepEqual(await counts("/up"), ["51", 77]);
  // haproxy's parser refuses a malformed chunk before any stream counts the request.
  await exchange(port, "POST /bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX");
  const bad = await rx.take(/<BADREQ>/);
  assert.match(bad, / 400 0 0$/);
});

test("the proxy's own answers count as haproxy holds them, after its http-after-response rules", async () => {
  const dir = scratchDir("htx");
  const file = scratchFile(
    dir,
    "403.http",
    "HTTP/1.1 403 Forbidden\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope",
  );
  const srv = await server({});
  const port = await proxy(`
frontend fe
  bind 127.0.0.1:1
  errorfile 403 ${file}
  http-request wait-for-body time 1s if { path /continue }
  http-request return status 200 content-type text/plain string hello hdr X-A b if { path /return }
  http-request return status 204 if { path /204 }
  http-request redirect location /x set-cookie A=b if { path /redirect }
  http-request deny if { path_beg /deny }
  http-request deny deny_status 429 if { path /page }
  http-after-response set-header X-Long abcdefghijklmnop if { status 429 }
  default_backend bk
backend bk
  server s1 127.0.0.1:${srv.port}
`);
  await exchange(port, get("/return"));
  assert.deepEqual(await counts("/return"), ["80", getIn("/return")]);
  await exchange(port, get("/204"));
  assert.deepEqual(await counts("/204"), ["57", getIn("/204")]);
  await exchange(port, get("/redirect"));
  assert.deepEqual(await counts("/redirect"), ["105", getIn("/redirect")]);
  // The errorfile's Connection line counts, though the encoder writes its own.
  await exchange(port, get("/deny"));
  assert.deepEqual(await counts("/deny"), ["102", getIn("/deny")]);
  const page = await exchange(port, get("/page"));
  assert.match(page, /\r\nx-long: abcdefghijklmnop\r\n/i);
  assert.deepEqual(await counts("/page"), [String(htxSize(page)), getIn("/page")]);
  // The body that came with a denied request counts; the 100 Continue the proxy sends too.
  await exchange(
    port,
    "POST /deny/body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhel",
  );
  assert.deepEqual(await counts("/deny/body"), ["102", 67]);
  const c = new Client(port);
  cleanup.push(async () => void c.socket.destroy());
  c.send("POST /continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  await c.until((t) => t.includes("100 Continue\r\n\r\n"));
  c.send("hello");
  assert.deepEqual(await counts("/continue"), ["91", 85]);
});

test("a tunnel counts its bytes as they pass, after the heads that opened it", async () => {
  const ws = await rawServer((s) =>
    s.once("data", () => {
      s.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      );
      s.on("data", (d: Buffer) => s.write(d.toString("latin1").toUpperCase()));
    }),
  );
  cleanup.push(ws.close);
  const port = await proxy(`
frontend fe
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s1 127.0.0.1:${ws.port}
`);
  const c = new Client(port);
  cleanup.push(async () => void c.socket.destroy());
  c.send(
    "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await c.until((t) => t.includes("\r\n\r\n"));
  c.send("hello");
  await c.until((t) => t.endsWith("HELLO"));
  c.socket.end();
  assert.deepEqual(await counts("/ws"), ["137", 142]);
});

test("option logasap: what the response buffer holds as the head leaves, and nothing of the request", async () => {
  const srv = await server({
    "/": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ns1",
    "/late": (s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe");
      setTimeout(() => s.write("llo"), 50);
    },
  });
  const port = await proxy(
    `
frontend fe
  bind 127.0.0.1:1
  use_backend late if { path /late }
  default_backend bk
backend bk
  http-response set-header X-Long abcdefghijklmnop
  server s1 127.0.0.1:${srv.port}
backend late
  http-response del-header content-length
  server s1 127.0.0.1:${srv.port}
`,
    "  option logasap",
  );
  await exchange(port, get("/"));
  assert.deepEqual(await counts("/"), ["+113", 0]);
  await exchange(port, get("/late"));
  assert.deepEqual(await counts("/late"), ["+36", 0]);
});

test("stick-table bytes_in and bytes_out add up each request's counts", async () => {
  const srv = await server({});
  const port = await proxy(`
frontend fe
  bind 127.0.0.1:1
  http-request track-sc0 src table bk
  http-request return status 200 content-type text/plain lf-string "in=%[src,table_bytes_in_rate(bk)] out=%[src,table_bytes_out_rate(bk)]" if { path /show }
  default_backend bk
backend bk
  stick-table type ip size 100 expire 30s store bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s),bytes_out_rate(10s)
  server s1 127.0.0.1:${srv.port}
`);
  const c = new Client(port);
  cleanup.push(async () => void c.socket.destroy());
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await c.until((t) => t.endsWith("s1"));
  c.take();
  c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  await c.until((t) => t.endsWith("s1"));
  c.send("GET /show HTTP/1.1\r\nHost: x\r\n\r\n");
  // The counters took the first two requests as they ended: 38 and 59 in, 51 and 51 out.
  assert.match(await c.until((t) => /out=\d+$/.test(t)), /in=97 out=102$/);
});
