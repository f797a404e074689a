import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyKind, type HttpHead } from "../../src/http/message.js";
import {
  NEED_MORE,
  parseRequest,
  parseResponse,
  responseBodyKind,
  headerIndex,
  headerName,
  headerValue,
} from "../../src/http/parse.js";
import { ChunkedScanner } from "../../src/http/chunked.js";
import { HeadEdits, serializeHead } from "../../src/http/serialize.js";

const req = (s: string, maxhdr = 101) =>
  parseRequest(Buffer.from(s, "latin1"), 0, Buffer.byteLength(s, "latin1"), maxhdr);
const res = (s: string) => parseResponse(Buffer.from(s, "latin1"), 0, Buffer.byteLength(s, "latin1"), 101);
const head = (r: HttpHead | number): HttpHead => {
  assert.equal(typeof r, "object", `expected a head, got ${String(r)}`);
  return r as HttpHead;
};

test("a request head: method, target, version, headers as offsets, framing", () => {
  const h = head(
    req("POST /a?b=c HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:  spaced value  \r\nContent-Length: 5\r\n\r\nhello"),
  );
  assert.equal(h.method, "POST");
  assert.equal(h.uri, "/a?b=c");
  assert.equal(h.versionMinor, 1);
  assert.equal(h.count, 3);
  assert.equal(headerName(h, 1), "X-Mixed-Case");
  assert.equal(headerValue(h, 1), "spaced value");
  assert.equal(headerIndex(h, "x-mixed-case"), 1);
  assert.equal(headerIndex(h, "absent"), -1);
  assert.equal(h.body, BodyKind.Length);
  assert.equal(h.contentLength, 5);
  assert.equal(h.end, h.buf.indexOf("hello"));
});

test("incomplete heads ask for more; pipelined heads parse one after the other", () => {
  assert.equal(req("GET / HTTP/1.1\r\nHost: x\r\n"), NEED_MORE);
  assert.equal(req("GET / HT"), NEED_MORE);
  const two = Buffer.from("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", "latin1");
  const a = head(parseRequest(two, 0, two.length, 101));
  const b = head(parseRequest(two, a.end, two.length, 101));
  assert.deepEqual([a.uri, b.uri, b.versionMinor, b.end], ["/1", "/2", 0, two.length]);
  // Bare LF line ends are accepted, and empty lines before the request line are skipped.
  assert.equal(head(req("\r\nGET / HTTP/1.1\nHost: x\n\n")).count, 1);
});

test("Connection, Upgrade and Expect are read as they are received", () => {
  const h = head(
    req(
      "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nExpect: 100-Continue\r\n\r\n",
    ),
  );
  assert.deepEqual(
    [h.connKeepAlive, h.connUpgrade, h.connClose, h.upgrade, h.expectContinue],
    [true, true, false, "websocket", true],
  );
  const c = head(req("GET / HTTP/1.1\r\nConnection: close\r\nConnection: upgrade\r\n\r\n"));
  assert.deepEqual([c.connClose, c.connUpgrade], [true, true]);
});

test("bad requests are refused with the status to send", () => {
  const cases: [string, string, number][] = [
    ["no version", "GET /\r\n\r\n", 400],
    ["space in target", "GET /a b HTTP/1.1\r\n\r\n", 400],
    ["bad method", "G(T / HTTP/1.1\r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505],
    ["garbage version", "GET / FOO/1.1\r\n\r\n", 400],
    ["space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400],
    ["empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400],
    ["control character", "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400],
    ["two different lengths", "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
    ["length list that differs", "GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400],
    ["length not a number", "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400],
    ["length and chunked", "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["coding not ending in chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400],
    [
      "chunked twice",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    ["NUL byte, head not complete", "GET /\x00", 400],
  ];
  for (const [name, text, status] of cases) assert.equal(req(text), status, name);
  assert.equal(req(`GET / HTTP/1.1\r\n${"X: y\r\n".repeat(3)}\r\n`, 2), 400, "more than maxhdr headers");
  // Identical repeated lengths are one length.
  assert.equal(
    head(req("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\n")).contentLength,
    3,
  );
  assert.equal(
    head(req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")).body,
    BodyKind.Chunked,
  );
});

test("responses: status, reason, framing by the request's method; bad ones are 502", () => {
  const r = head(res("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n"));
  assert.deepEqual([r.status, r.reason, r.body, r.contentLength], [404, "Not Found", BodyKind.Length, 3]);
  assert.equal(responseBodyKind(r, "HEAD"), BodyKind.None);
  assert.equal(responseBodyKind(head(res("HTTP/1.1 204 No Content\r\n\r\n")), "GET"), BodyKind.None);
  assert.equal(
    responseBodyKind(head(res("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")), "GET"),
    BodyKind.None,
  );
  assert.equal(responseBodyKind(head(res("HTTP/1.0 200 OK\r\n\r\n")), "GET"), BodyKind.UntilClose);
  assert.equal(
    responseBodyKind(head(res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")), "GET"),
    BodyKind.Chunked,
  );
  assert.equal(head(res("HTTP/1.1 200\r\n\r\n")).reason, "");
  for (const bad of [
    "HTP/1.1 200 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    "HTTP/1.1 099 x\r\n\r\n",
  ])
    assert.equal(res(bad), 502, JSON.stringify(bad));
});

test("serializeHead copies byte ranges, drops and adds lines, replaces the start line", () => {
  const h = head(req("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Keep: y\r\n\r\n"));
  const e = new HeadEdits();
  assert.equal(serializeHead(h, e).toString("latin1"), h.buf.toString("latin1"));
  e.dropHeader(1);
  e.add.push("X-Forwarded-For: 127.0.0.1");
  assert.equal(
    serializeHead(h, e).toString("latin1"),
    "GET /x HTTP/1.1\r\nHost: x\r\nX-Keep: y\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n",
  );
  e.reset();
  e.startLine = "PUT /y HTTP/1.1";
  assert.equal(serializeHead(h, e).toString("latin1").split("\r\n")[0], "PUT /y HTTP/1.1");
});

test("chunked bodies end where they end, however the bytes are split", () => {
  const body = "5;ext=1\r\nhello\r\n0A\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n";
  const after = "GET /next HTTP/1.1\r\n\r\n";
  const all = Buffer.from(body + after, "latin1");
  for (let split = 0; split <= all.length; split++) {
    const sc = new ChunkedScanner();
    const n1 = sc.scan(all, 0, split);
    const n2 = sc.done ? 0 : sc.scan(all, split, all.length);
    assert.equal(sc.error, false, `split ${split}`);
    assert.equal(sc.done, true, `split ${split}`);
    assert.equal(n1 + n2, body.length, `split ${split}`);
    assert.equal(sc.payload, 15);
  }
  // One byte at a time.
  const sc = new ChunkedScanner();
  let total = 0;
  for (let i = 0; i < all.length && !sc.done; i++) total += sc.scan(all, i, i + 1);
  assert.equal(total, body.length);
  for (const bad of [
    "zz\r\n",
    "5\r\nhelloX",
    "\r\n",
    "12345678901234\r\n",
    "5\r\nhello\r\n0\r\nbad\x01\r\n\r\n",
  ]) {
    const s = new ChunkedScanner();
    s.scan(Buffer.from(bad, "latin1"), 0, bad.length);
    assert.equal(s.error, true, JSON.stringify(bad));
  }
});

test("no input, however random, makes the parsers throw", () => {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = "GET /HTP1.0\r\n :;,chunkedContent-Length0123456789abcdef\x00\x7f\xff\t";
  for (let i = 0; i < 3000; i++) {
    const len = rand(120);
    let s = i % 2 ? "GET / HTTP/1.1\r\n" : "HTTP/1.1 200 OK\r\n";
    for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
    const b = Buffer.from(s, "latin1");
    parseRequest(b, 0, b.length, 101);
    parseResponse(b, 0, b.length, 101);
    new ChunkedScanner().scan(b, 0, b.length);
  }
});
