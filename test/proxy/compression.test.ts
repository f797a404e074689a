// HTTP compression end to end, as haproxy 2.6's compression filter does it: which responses are
// compressed, how their heads change, and that every body decodes to the server's bytes, whether it
// came with a length or in chunks, in one read or many.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import {
  startProxy,
  headServer,
  exchange,
  Client,
  DEFAULTS,
  pattern,
  type Proxy,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const PAGE = Buffer.from("<p>hello, compressed world</p>\n".repeat(300), "latin1");
/** Text of several MB, sent in pieces: many reads, each compressed on its own. */
const BIG = Buffer.from(pattern(7, 3 * 1024 * 1024).toString("base64"), "latin1");

function lengthAnswer(head: string, body: Buffer = PAGE): Buffer {
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`, "latin1"), body]);
}

/** What the server answers, by path; the request's Accept-Encoding comes back in X-AE. */
function answer(req: string, s: import("node:net").Socket): void {
  const path = req.split(" ")[1]!;
  const ae = /\r\naccept-encoding: *([^\r]*)/i.exec(req)?.[1] ?? "-";
  const ok = `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-AE: ${ae}\r\n`;
  switch (path) {
    case "/page":
      return void s.write(lengthAnswer(`${ok}ETag: "v1"\r\n`));
    case "/chunked":
      s.write(
        `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n`,
      );
      // The rest comes later: the first piece must not wait for it.
      setTimeout(() => s.write("5\r\nhello\r\n0\r\nX-Sum: 21\r\n\r\n"), 400);
      return;
    case "/big": {
      s.write(`${ok}Content-Length: ${BIG.length}\r\n\r\n`);
      let off = 0;
      const more = (): void => {
        while (off < BIG.length) {
          const piece = BIG.subarray(off, off + 100_000);
          off += piece.length;
          if (!s.write(piece)) return void s.once("drain", more);
        }
      };
      return more();
    }
    case "/png":
      return void s.write(lengthAnswer("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"));
    case "/encoded":
      return void s.write(lengthAnswer(`${ok}Content-Encoding: br\r\n`));
    case "/no-transform":
      return void s.write(lengthAnswer(`${ok}Cache-Control: public, no-transform\r\n`));
    case "/weak-etag":
      return void s.write(lengthAnswer(`${ok}ETag: W/"v1"\r\n`));
    case "/bad-etag":
      return void s.write(lengthAnswer(`${ok}ETag: v1\r\n`));
    case "/missing":
      return void s.write(lengthAnswer("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"));
    case "/empty":
      return void s.write(lengthAnswer(ok, Buffer.alloc(0)));
    case "/until-close":
      return void s.end(Buffer.concat([Buffer.from(`${ok}\r\n`, "latin1"), PAGE]));
    default:
      return void s.write(lengthAnswer(ok));
  }
}

let p: Proxy;

before(async () => {
  const srv = await headServer(answer);
  cleanup.push(srv.close);
  p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  compression algo gzip deflate
  compression type text/html text/plain
  http-response set-header X-Comp %[res.comp]
  http-response set-header X-Comp-Algo %[res.comp_algo] if { res.comp }
  default_backend b
frontend offload
  bind 127.0.0.1:1
  compression algo raw-deflate identity
  compression offload
  default_backend b
frontend limited
  bind 127.0.0.1:1
  default_backend small
backend b
  server s 127.0.0.1:${srv.port}
backend small
  compression algo gzip
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
});

interface Answer {
  head: string;
  /** The body as sent, without its chunked framing. */
  body: Buffer;
  trailers: string;
}

/** Splits a whole response (the connection closed after it) into head, body and trailers. */
function parse(raw: string): Answer {
  const end = raw.indexOf("\r\n\r\n");
  assert.ok(end > 0, `no head in ${JSON.stringify(raw.slice(0, 200))}`);
  const head = raw.slice(0, end);
  let rest = raw.slice(end + 4);
  if (!/\r\ntransfer-encoding: chunked/i.test(head))
    return { head, body: Buffer.from(rest, "latin1"), trailers: "" };
  const parts: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    assert.ok(Number.isInteger(size), `bad chunk size in ${JSON.stringify(rest.slice(0, 40))}`);
    if (size === 0) return { head, body: Buffer.concat(parts), trailers: rest.slice(eol + 2) };
    parts.push(Buffer.from(rest.slice(eol + 2, eol + 2 + size), "latin1"));
    assert.equal(rest.slice(eol + 2 + size, eol + 4 + size), "\r\n");
    rest = rest.slice(eol + 4 + size);
  }
}

async function get(
  path: string,
  extra = "Accept-Encoding: gzip\r\n",
  port = p.ports[0]!,
  version = "1.1",
): Promise<Answer> {
  return parse(
    await exchange(port, `GET ${path} HTTP/${version}\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`),
  );
}

const header = (a: Answer, name: string): string[] =>
  a.head
    .split("\r\n")
    .slice(1)
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());

test("a response with a length is compressed with gzip: chunked, weak ETag, Vary, Content-Encoding", async () => {
  const a = await get("/page");
  assert.deepEqual(header(a, "content-length"), []);
  assert.deepEqual(header(a, "transfer-encoding"), ["chunked"]);
  assert.deepEqual(header(a, "etag"), ['W/"v1"']);
  assert.deepEqual(header(a, "vary"), ["Accept-Encoding"]);
  assert.deepEqual(header(a, "content-encoding"), ["gzip"]);
  // Decided before the response's rules: they can read it.
  assert.deepEqual(header(a, "x-comp"), ["1"]);
  assert.deepEqual(header(a, "x-comp-algo"), ["gzip"]);
  // haproxy's order: the new lines after the server's, the rules' before its own, Connection last.
  const names = a.head.split("\r\n").map((l) => l.split(":")[0]!.toLowerCase());
  assert.deepEqual(names.slice(-6), [
    "x-comp",
    "x-comp-algo",
    "transfer-encoding",
    "vary",
    "content-encoding",
    "connection",
  ]);
  assert.ok(a.body.length < PAGE.length / 10, `compressed to ${a.body.length} bytes`);
  assert.deepEqual(gunzipSync(a.body), PAGE);
});

test("deflate is the zlib format; Accept-Encoding's q-values choose", async () => {
  const a = await get("/page", "Accept-Encoding: gzip;q=0.5, deflate\r\n");
  assert.deepEqual(header(a, "content-encoding"), ["deflate"]);
  assert.deepEqual(inflateSync(a.body), PAGE);
  const b = await get("/page", "Accept-Encoding: deflate;q=0.2, GZIP;q=0.3\r\n");
  assert.deepEqual(header(b, "content-encoding"), ["gzip"]);
  // `*` takes the last algorithm configured, which haproxy checks first.
  const c = await get("/page", "Accept-Encoding: *\r\n");
  assert.deepEqual(header(c, "content-encoding"), ["deflate"]);
});

test("a chunked response keeps its trailers; its pieces arrive compressed as they come", async () => {
  const c = new Client(p.ports[0]!);
  try {
    const start = Date.now();
    c.send("GET /chunked HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
    // The first piece, compressed alone, before the server sends the rest 400 ms later.
    await c.until((t) => /\r\n\r\n[0-9a-f]+\r\n/.test(t));
    assert.ok(Date.now() - start < 350, `the first piece came after ${Date.now() - start} ms`);
    const a = parse(await c.until((t) => t.endsWith("X-Sum: 21\r\n\r\n")));
    assert.deepEqual(header(a, "content-encoding"), ["gzip"]);
    assert.equal(gunzipSync(a.body).toString(), "0123456789abcdefhello");
    assert.equal(a.trailers, "X-Sum: 21\r\n\r\n");
  } finally {
    c.close();
  }
});

test("a body of several MB read in many pieces decodes to the server's bytes", async () => {
  const a = await get("/big");
  assert.deepEqual(header(a, "content-encoding"), ["gzip"]);
  assert.ok(gunzipSync(a.body).equals(BIG));
});

test("responses haproxy leaves alone are forwarded as they are", async () => {
  const cases: [string, string, string][] = [
    ["/png", "Accept-Encoding: gzip\r\n", "type not listed"],
    ["/encoded", "Accept-Encoding: gzip\r\n", "already encoded"],
    ["/no-transform", "Accept-Encoding: gzip\r\n", "no-transform"],
    ["/bad-etag", "Accept-Encoding: gzip\r\n", "malformed ETag"],
    ["/missing", "Accept-Encoding: gzip\r\n", "status 404"],
    ["/empty", "Accept-Encoding: gzip\r\n", "empty body"],
    ["/until-close", "Accept-Encoding: gzip\r\n", "no length"],
    ["/page", "Accept-Encoding: gzip;q=0\r\n", "q=0"],
    ["/page", "Accept-Encoding: br\r\n", "no common algorithm"],
    ["/page", "", "no Accept-Encoding"],
    ["/page", "Accept-Encoding: gzip\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 5.5)\r\n", "old browser"],
  ];
  for (const [path, extra, why] of cases) {
    const a = await get(path, extra);
    assert.deepEqual(
      header(a, "content-encoding").filter((v) => v !== "br"),
      [],
      why,
    );
    assert.deepEqual(header(a, "x-comp"), ["0"], why);
    assert.deepEqual(header(a, "vary"), [], why);
    if (path !== "/until-close") assert.equal(header(a, "content-length").length, 1, why);
  }
  // HTTP/1.0 on the client's side, HEAD.
  const a = await get("/page", "Accept-Encoding: gzip\r\n", p.ports[0], "1.0");
  assert.deepEqual(header(a, "content-encoding"), []);
  const head = await exchange(
    p.ports[0]!,
    "HEAD /page HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
  );
  assert.match(head, /\r\nContent-Length: 9300\r\n/);
  assert.doesNotMatch(head, /Content-Encoding/i);
  // A weak ETag stays as it is.
  const w = await get("/weak-etag");
  assert.deepEqual(header(w, "etag"), ['W/"v1"']);
  assert.deepEqual(gunzipSync(w.body), PAGE);
});

test("a kept-alive connection carries compressed responses one after the other", async () => {
  const c = new Client(p.ports[0]!);
  try {
    for (let i = 0; i < 3; i++) {
      c.send(`GET /${i % 2 ? "chunked" : "page"} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n`);
      const text = await c.until((t) => /\r\n0\r\n(?:[^\r]+\r\n)*\r\n$/.test(t));
      const a = parse(c.take());
      assert.deepEqual(
        gunzipSync(a.body),
        i % 2 ? Buffer.from("0123456789abcdefhello") : PAGE,
        text.slice(0, 100),
      );
      // Each response its own trailers: none after a body that had a length.
      assert.equal(a.trailers, i % 2 ? "X-Sum: 21\r\n\r\n" : "\r\n");
    }
  } finally {
    c.close();
  }
});

test("compression offload: the server does not see an Accept-Encoding that chose an algorithm", async () => {
  const a = await get("/page", "Accept-Encoding: deflate\r\n", p.ports[1]);
  assert.deepEqual(header(a, "x-ae"), ["-"]);
  assert.deepEqual(header(a, "content-encoding"), ["deflate"]);
  assert.deepEqual(inflateRawSync(a.body), PAGE);
  // Nothing accepted: identity, which the server is not told of, changes the framing only.
  const b = await get("/page", "Accept-Encoding: br\r\n", p.ports[1]);
  assert.deepEqual(header(b, "x-ae"), ["br"]);
  assert.deepEqual(header(b, "content-encoding"), []);
  assert.deepEqual(header(b, "transfer-encoding"), ["chunked"]);
  assert.deepEqual(header(b, "vary"), ["Accept-Encoding"]);
  assert.deepEqual(b.body, PAGE);
});

test("a backend's compression applies to the frontends that send to it", async () => {
  const a = await get("/png", "Accept-Encoding: gzip\r\n", p.ports[2]);
  assert.deepEqual(header(a, "content-encoding"), ["gzip"], "no type list: every type");
  assert.deepEqual(gunzipSync(a.body), PAGE);
});

test("a rule's 204 or 304 keeps the compressed head, as haproxy writes it, and sends no body", async () => {
  const srv = await headServer(answer);
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  compression algo gzip
  http-request set-var(txn.s) req.hdr(x-s)
  http-response set-status 204 if { var(txn.s) -m str 204 }
  http-response set-status 304 if { var(txn.s) -m str 304 }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const raw = (status: string) =>
      exchange(
        q.port,
        `GET /page HTTP/1.1\r\nHost: x\r\nX-S: ${status}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
      );
    // What haproxy 2.6.12 sent for the same page (names in its lower case).
    const lines = (text: string) => text.split("\r\n").filter((l) => !/^(x-ae|content-type):/i.test(l));
    assert.deepEqual(lines(await raw("204")), [
      "HTTP/1.1 204 No Content",
      'ETag: W/"v1"',
      "Vary: Accept-Encoding",
      "Content-Encoding: gzip",
      "Connection: close",
      "",
      "",
    ]);
    assert.deepEqual(lines(await raw("304")), [
      "HTTP/1.1 304 Not Modified",
      'ETag: W/"v1"',
      "Transfer-Encoding: chunked",
      "Vary: Accept-Encoding",
      "Content-Encoding: gzip",
      "Connection: close",
      "",
      "",
    ]);
  } finally {
    await q.stop();
    await srv.close();
  }
});

test("maxcomprate: past the input rate, new responses go uncompressed", async () => {
  const srv = await headServer(answer);
  const q = await startProxy(`global
  maxcomprate 4
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  compression algo identity gzip
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    // Identity compresses nothing: haproxy does not count what it passes.
    const plain = await get("/page", "", q.port);
    assert.deepEqual(header(plain, "transfer-encoding"), ["chunked"]);
    assert.deepEqual(plain.body, PAGE);
    const first = await get("/page", undefined, q.port);
    assert.deepEqual(header(first, "content-encoding"), ["gzip"]);
    // 9300 bytes in, over 4 KiB/s for the rest of this second.
    const second = await get("/page", undefined, q.port);
    assert.deepEqual(header(second, "content-encoding"), []);
    assert.deepEqual(second.body, PAGE);
  } finally {
    await q.stop();
    await srv.close();
  }
});
