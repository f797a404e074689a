import { test } from "node:test";
import assert from "node:assert/strict";
import { BodyKind, type HttpHead } from "../../src/http/message.js";
import {
  NEED_MORE,
  Leniency,
  maxHeadSize,
  maxHeadWeight,
  newHead,
  parseRequest,
  parseResponse,
  responseBodyKind,
  normalizedStartLine,
  headerIndex,
  headerCount,
  headerName,
  headerValue,
  headerValueIs,
} from "../../src/http/parse.js";
import { prng } from "../helpers/prng.js";

const MAXHDR = 101;
const bytes = (s: string): Buffer => Buffer.from(s, "latin1");
const req = (s: string, maxhdr = MAXHDR): HttpHead | number => {
  const b = bytes(s);
  return parseRequest(b, 0, b.length, maxhdr);
};
const res = (s: string, maxhdr = MAXHDR): HttpHead | number => {
  const b = bytes(s);
  return parseResponse(b, 0, b.length, maxhdr);
};
const laxReq = (s: string, leniency = Leniency.InvalidHttp): HttpHead | number => {
  const b = bytes(s);
  return parseRequest(b, 0, b.length, MAXHDR, undefined, true, leniency);
};
const laxRes = (s: string): HttpHead | number => {
  const b = bytes(s);
  return parseResponse(b, 0, b.length, MAXHDR, undefined, true, Leniency.InvalidHttp);
};
const head = (r: HttpHead | number): HttpHead => {
  assert.equal(typeof r, "object", `expected a head, got ${String(r)}`);
  return r as HttpHead;
};

const GET = "GET / HTTP/1.1\r\nHost: x\r\n";
const POST = "POST / HTTP/1.1\r\nHost: x\r\n";

test("a request head: method, target, version, headers as offsets, framing", () => {
  const h = head(
    req("POST /a?b=c HTTP/1.1\r\nHost: x\r\nX-Mixed-Case:  spaced value  \r\nContent-Length: 5\r\n\r\nhello"),
  );
  assert.equal(h.method, "POST");
  assert.equal(h.uri, "/a?b=c");
  assert.equal(h.versionMinor, 1);
  assert.equal(h.status, 0);
  assert.equal(h.count, 3);
  assert.equal(headerName(h, 1), "X-Mixed-Case");
  assert.equal(headerValue(h, 1), "spaced value");
  assert.equal(headerIndex(h, "x-mixed-case"), 1);
  assert.equal(headerIndex(h, "host", 1), -1);
  assert.equal(headerIndex(h, "absent"), -1);
  assert.equal(headerCount(h, "host"), 1);
  assert.equal(headerValueIs(h, 0, "x"), true);
  assert.equal(h.body, BodyKind.Length);
  assert.equal(h.contentLength, 5);
  assert.equal(h.start, 0);
  assert.equal(h.end, h.buf.indexOf("hello"));
});

test("requests that are accepted, and how they are read", () => {
  type Want = Partial<Pick<HttpHead, "method" | "uri" | "versionMinor" | "count" | "body" | "contentLength">>;
  const cases: [string, string, Want][] = [
    ["bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", { count: 1 }],
    ["mixed line ends", "GET / HTTP/1.1\r\nHost: x\n\r\n", { count: 1 }],
    ["empty lines before", "\r\n\nGET / HTTP/1.1\r\n\r\n", { method: "GET", count: 0 }],
    ["HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", { versionMinor: 0 }],
    ["HTTP/1.2 is 1.1", "GET / HTTP/1.2\r\n\r\n", { versionMinor: 1 }],
    ["HTTP/2.0 is 1.1", "GET / HTTP/2.0\r\n\r\n", { versionMinor: 1 }],
    ["HTTP/0.9 is 1.0", "GET / HTTP/0.9\r\n\r\n", { versionMinor: 0 }],
    ["several blanks", "GET  /x \tHTTP/1.1\r\n\r\n", { method: "GET", uri: "/x" }],
    ["tab separator", "GET\t/ HTTP/1.1\r\n\r\n", { uri: "/" }],
    ["lower-case method", "get / HTTP/1.1\r\n\r\n", { method: "get" }],
    ["unknown method", "FOO / HTTP/1.1\r\n\r\n", { method: "FOO" }],
    ["odd but valid target bytes", 'GET /a"<>{}|\\^`\x7fb HTTP/1.1\r\n\r\n', { uri: '/a"<>{}|\\^`\x7fb' }],
    ["asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", { uri: "*" }],
    ["absolute-form", "GET http://x/p HTTP/1.1\r\nHost: x\r\n\r\n", { uri: "http://x/p" }],
    ["absolute-form, no Host", "GET http://x/ HTTP/1.1\r\n\r\n", {}],
    ["absolute-form, no path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", {}],
    // An empty authority is compared with no Host (haproxy 2.6 forwards it).
    ["absolute-form, empty authority", "GET http:///x HTTP/1.1\r\nHost: y\r\n\r\n", { uri: "http:///x" }],
    ["absolute-form, default port", "GET http://x:80/ HTTP/1.1\r\nHost: x\r\n\r\n", {}],
    ["Host with default port", "GET http://x/ HTTP/1.1\r\nHost: x:80\r\n\r\n", {}],
    ["https default port", "GET https://x/ HTTP/1.1\r\nHost: x:443\r\n\r\n", {}],
    ["userinfo and case", "GET http://u@X/ HTTP/1.1\r\nHost: x\r\n\r\n", {}],
    ["CONNECT", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", { uri: "x:443" }],
    ["CONNECT, Host without default port", "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", {}],
    ["CONNECT port 80, Host without port", "CONNECT x:80 HTTP/1.1\r\nHost: x\r\n\r\n", {}],
    ["no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", { count: 0 }],
    ["same Host twice, any case", GET + "host: X \r\n\r\n", { count: 2 }],
    ["empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", { count: 1 }],
    ["empty value", GET + "X:\r\n\r\n", { count: 2 }],
    ["tab and 8-bit in value", GET + "X: a\tb\xe9\r\n\r\n", { count: 2 }],
    ["no body", GET + "\r\n", { body: BodyKind.None, contentLength: -1 }],
    ["length 0", POST + "Content-Length: 0\r\n\r\n", { body: BodyKind.Length, contentLength: 0 }],
    ["length leading zeros", POST + "Content-Length: 002\r\n\r\n", { contentLength: 2 }],
    ["length with blanks", POST + "Content-Length:  2 \r\n\r\n", { contentLength: 2 }],
    ["same length twice", POST + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", { contentLength: 3 }],
    ["same length in a list", POST + "Content-Length: 3, 3,3 , 3\r\n\r\n", { contentLength: 3 }],
    ["length 0 and 00", POST + "Content-Length: 0\r\ncontent-length: 00\r\n\r\n", { contentLength: 0 }],
    ["length 2^53-1", POST + "Content-Length: 9007199254740991\r\n\r\n", { contentLength: 2 ** 53 - 1 }],
    ["chunked", POST + "Transfer-Encoding: chunked\r\n\r\n", { body: BodyKind.Chunked, contentLength: -1 }],
    ["HTTP/1.0 GET with an empty body", "GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", { contentLength: 0 }],
    [
      "HTTP/1.0 lower-case get with a body",
      "get / HTTP/1.0\r\nContent-Length: 1\r\n\r\n",
      { contentLength: 1 },
    ],
    ["HTTP/1.1 GET with a body", GET + "Content-Length: 1\r\n\r\n", { contentLength: 1 }],
    [
      "WebSocket with a body needs no key (it asks no upgrade)",
      GET + "Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 1\r\n\r\n",
      { contentLength: 1 },
    ],
    [
      "WebSocket key of 24 characters among others",
      GET +
        "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\nsec-websocket-key: ########################\r\n\r\n",
      { count: 5 },
    ],
    ["CHUNKED", POST + "Transfer-Encoding: CHUNKED \r\n\r\n", { body: BodyKind.Chunked }],
    ["chunked, trailing comma", POST + "Transfer-Encoding: chunked ,\r\n\r\n", { body: BodyKind.Chunked }],
    [
      "empty TE line, then chunked",
      POST + "TE: x\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n",
      {},
    ],
    ["chunked in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", { body: BodyKind.Chunked }],
    ["chunked GET", GET + "Transfer-Encoding: chunked\r\n\r\n", { body: BodyKind.Chunked }],
    ["maxhdr - 1 lines", GET + "A: 1\r\nB: 1\r\nC: 1\r\n\r\n", { count: 4 }],
  ];
  for (const [name, text, want] of cases) {
    const r = req(text, name.startsWith("maxhdr") ? 5 : MAXHDR);
    assert.equal(typeof r, "object", `${name}: got ${String(r)}`);
    const h = r as HttpHead;
    for (const [k, v] of Object.entries(want)) assert.equal(h[k as keyof HttpHead], v, `${name}: ${k}`);
    assert.equal(h.end, bytes(text).length, `${name}: end`);
  }
});

test("requests that are refused, with the status haproxy 2.6 sends (or a stricter 400)", () => {
  const cases: [string, string, number][] = [
    // start line
    ["no version (HTTP/0.9)", "GET /\r\n\r\n", 400],
    ["no version, headers", "GET /\r\nHost: x\r\n\r\n", 400],
    ["HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", 400],
    ["HTTP/11.1", "GET / HTTP/11.1\r\n\r\n", 400],
    ["lower-case version", "GET / http/1.1\r\n\r\n", 400],
    ["garbage version", "GET / FOO/1.1\r\n\r\n", 400],
    ["blank after version", "GET / HTTP/1.1 \r\n\r\n", 400],
    ["text after version", "GET / HTTP/1.1x\r\n\r\n", 400],
    ["empty method", " / HTTP/1.1\r\n\r\n", 400],
    ["bad method byte", "G(T / HTTP/1.1\r\n\r\n", 400],
    ["space in target", "GET /a b HTTP/1.1\r\n\r\n", 400],
    ["control byte in target", "GET /a\x01b HTTP/1.1\r\n\r\n", 400],
    ["8-bit byte in target", "GET /a\xe9b HTTP/1.1\r\n\r\n", 400],
    ["fragment in target", "GET /a#b HTTP/1.1\r\n\r\n", 400],
    ["relative target", "GET abc HTTP/1.1\r\n\r\n", 400],
    ["bad scheme", "GET h_t://x/ HTTP/1.1\r\n\r\n", 400],
    ["asterisk and more", "OPTIONS *x HTTP/1.1\r\n\r\n", 400],
    ["CONNECT without port", "CONNECT x HTTP/1.1\r\n\r\n", 400],
    ["CONNECT with path", "CONNECT / HTTP/1.1\r\n\r\n", 400],
    ["CONNECT other host", "CONNECT x:443 HTTP/1.1\r\nHost: y:443\r\n\r\n", 400],
    ["CR alone ends the line", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400],
    // Host
    ["two different Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400],
    ["Host and empty Host", "GET / HTTP/1.1\r\nHost: x\r\nHost:\r\n\r\n", 400],
    ["Host with and without port", "GET / HTTP/1.1\r\nHost: x\r\nHost: x:80\r\n\r\n", 400],
    ["absolute-form, other Host", "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", 400],
    ["absolute-form 1.0, other Host", "GET http://a/ HTTP/1.0\r\nHost: b\r\n\r\n", 400],
    ["absolute-form, other port", "GET http://x/ HTTP/1.1\r\nHost: x:81\r\n\r\n", 400],
    ["absolute-form, https port on http", "GET http://x/ HTTP/1.1\r\nHost: x:443\r\n\r\n", 400],
    ["absolute-form, query in authority", "GET http://x?a HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    // header lines
    ["space before colon", GET + "X : y\r\n\r\n", 400],
    ["tab before colon", GET + "X\t: y\r\n\r\n", 400],
    ["empty name", GET + ": x\r\n\r\n", 400],
    ["no colon", GET + "Foo\r\n\r\n", 400],
    ["bad name byte", GET + "X(y: z\r\n\r\n", 400],
    ["8-bit name byte", GET + "X\xe9: z\r\n\r\n", 400],
    ["obs-fold", GET + "X: a\r\n b\r\n\r\n", 400],
    ["obs-fold with tab", GET + "X: a\r\n\tb\r\n\r\n", 400],
    ["blank before the first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400],
    ["control byte in value", GET + "X: a\x01b\r\n\r\n", 400],
    ["NUL in value", GET + "X: a\x00b\r\n\r\n", 400],
    ["DEL in value", GET + "X: a\x7fb\r\n\r\n", 400],
    ["bare CR in value", GET + "X: a\rb\r\n\r\n", 400],
    ["CR without LF at the end", GET + "\rX", 400],
    // Content-Length
    ["two different lengths", POST + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
    ["a list that differs", POST + "Content-Length: 1, 2\r\n\r\n", 400],
    ["empty length", POST + "Content-Length:\r\n\r\n", 400],
    ["length with a sign", POST + "Content-Length: +2\r\n\r\n", 400],
    ["negative length", POST + "Content-Length: -2\r\n\r\n", 400],
    ["hex length", POST + "Content-Length: 0x2\r\n\r\n", 400],
    ["length with text", POST + "Content-Length: 1x\r\n\r\n", 400],
    ["blank inside the length", POST + "Content-Length: 1 2\r\n\r\n", 400],
    ["trailing comma", POST + "Content-Length: 2,\r\n\r\n", 400],
    ["leading comma", POST + "Content-Length: ,2\r\n\r\n", 400],
    ["empty list element", POST + "Content-Length: 2,,2\r\n\r\n", 400],
    ["length above 2^53-1", POST + "Content-Length: 9007199254740993\r\n\r\n", 400],
    ["huge length", POST + "Content-Length: 99999999999999999999999\r\n\r\n", 400],
    // Transfer-Encoding
    ["length and chunked", POST + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["chunked and length", POST + "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400],
    ["coding not chunked", POST + "Transfer-Encoding: gzip\r\n\r\n", 400],
    ["identity", POST + "Transfer-Encoding: identity\r\n\r\n", 400],
    ["chunked not last", POST + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400],
    ["chunked twice in a list", POST + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400],
    [
      "chunked twice in two lines",
      POST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
    ],
    ["chunked with parameters", POST + "Transfer-Encoding: chunked;x=1\r\n\r\n", 400],
    ["empty coding list", POST + "Transfer-Encoding:\r\n\r\n", 400],
    ["not a token", POST + "Transfer-Encoding: xchunked\r\n\r\n", 400],
    ["other coding before chunked", POST + "Transfer-Encoding: gzip, chunked\r\n\r\n", 422],
    [
      "other coding line before chunked",
      POST + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
      422,
    ],
    ["other coding in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: foo, chunked\r\n\r\n", 422],
    ["HTTP/2's preface method", "PRI /x HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    // A comma where a coding starts is an empty coding to haproxy 2.6 (a trailing one is not).
    ["empty coding first", POST + "Transfer-Encoding: ,chunked\r\n\r\n", 422],
    ["empty coding after a blank", POST + "Transfer-Encoding:  , chunked\r\n\r\n", 422],
    ["empty coding between", POST + "Transfer-Encoding: gzip,,chunked\r\n\r\n", 422],
    ["empty coding after chunked", POST + "Transfer-Encoding: chunked,,\r\n\r\n", 400],
    ["empty coding after chunked and blanks", POST + "Transfer-Encoding: chunked , ,\r\n\r\n", 400],
    // Bodies and upgrades
    ["HTTP/1.0 GET with a body", "GET / HTTP/1.0\r\nContent-Length: 1\r\n\r\n", 413],
    ["HTTP/1.0 HEAD with a chunked body", "HEAD / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 413],
    ["HTTP/1.0 DELETE with a body", "DELETE / HTTP/1.0\r\nContent-Length: 2\r\n\r\n", 413],
    ["WebSocket without key", GET + "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n", 400],
    [
      "WebSocket with a 23-character key",
      GET + "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n\r\n",
      400,
    ],
    // Incomplete but already wrong: refused without waiting for the rest.
    ["NUL in the target, head not complete", "GET /\x00", 400],
    ["bad header name, head not complete", "GET / HTTP/1.1\r\nX y", 400],
  ];
  for (const [name, text, status] of cases) assert.equal(req(text), status, name);
  assert.equal(req(GET + "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", 5), 400, "maxhdr lines");
  assert.equal(req(GET + "X: y\r\n\r\n", 2), 400, "maxhdr 2");
  // haproxy 2.6 keeps a name's length in a byte.
  assert.equal(typeof req(GET + "n".repeat(255) + ": 1\r\n\r\n"), "object", "a 255-byte name");
  assert.equal(req(GET + "n".repeat(256) + ": 1\r\n\r\n"), 400, "a 256-byte name");
});

test("a head that has not fully arrived asks for more, whatever the cut", () => {
  const texts = [
    "\r\nPOST /path?q HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.0\nX:\n\n",
  ];
  for (const text of texts) {
    const b = bytes(text);
    for (let cut = 0; cut < b.length; cut++)
      assert.equal(parseRequest(b, 0, cut, MAXHDR), NEED_MORE, `${JSON.stringify(text)} cut at ${cut}`);
    assert.equal(head(parseRequest(b, 0, b.length, MAXHDR)).end, b.length);
  }
  const r = bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  for (let cut = 0; cut < r.length; cut++)
    assert.equal(parseResponse(r, 0, cut, MAXHDR), NEED_MORE, `cut ${cut}`);
  // Bytes past `end` are not looked at.
  const whole = bytes("GET / HTTP/1.1\r\n\r\n");
  assert.equal(parseRequest(whole, 0, whole.length - 1, MAXHDR), NEED_MORE);
});

test("pipelined heads parse one after the other from where the previous one ended", () => {
  const two = bytes(
    "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabGET /2 HTTP/1.0\r\n\r\nHTTP/1.1 204 No\r\n\r\n",
  );
  const a = head(parseRequest(two, 0, two.length, MAXHDR));
  assert.equal(a.uri, "/1");
  const b = head(parseRequest(two, a.end + a.contentLength, two.length, MAXHDR));
  assert.deepEqual([b.uri, b.versionMinor, b.start, b.count], ["/2", 0, a.end + 2, 0]);
  const c = head(parseResponse(two, b.end, two.length, MAXHDR));
  assert.deepEqual([c.status, c.reason, c.end], [204, "No", two.length]);
});

test("a reused head object is refilled, and its header array grows only when needed", () => {
  const into = newHead(Buffer.alloc(0));
  const first = into.hdr;
  const many = GET + Array.from({ length: 40 }, (_, i) => `X-${i}: ${i}\r\n`).join("") + "\r\n";
  const h1 = head(parseRequest(bytes(many), 0, many.length, MAXHDR, into));
  assert.equal(h1, into);
  assert.equal(h1.count, 41);
  assert.equal(headerValue(h1, 40), "39");
  const grown = into.hdr;
  assert.notEqual(grown, first);
  const small = "PUT /s HTTP/1.0\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n";
  const h2 = head(parseRequest(bytes(small), 0, small.length, MAXHDR, into));
  assert.equal(h2.hdr, grown);
  assert.deepEqual(
    [h2.method, h2.uri, h2.count, h2.contentLength, h2.connKeepAlive, h2.connClose, h2.upgradeWebSocket],
    ["PUT", "/s", 2, 1, true, false, false],
  );
  const r = head(parseResponse(bytes("HTTP/1.1 200 OK\r\n\r\n"), 0, 19, MAXHDR, into));
  assert.deepEqual([r.method, r.uri, r.status, r.count, r.body], ["", "", 200, 0, BodyKind.UntilClose]);
});

test("what haproxy 2.6 would re-encode is flagged: repeated Content-Length or Host, bare LF", () => {
  const flags = (text: string) => {
    const h = head(req(text));
    return [h.repeatedLength, h.repeatedHost, h.bareLf];
  };
  assert.deepEqual(flags(POST + "Content-Length: 2\r\n\r\n"), [false, false, false]);
  assert.deepEqual(flags(POST + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n"), [true, false, false]);
  assert.deepEqual(flags(POST + "Content-Length: 2 , 2\r\n\r\n"), [true, false, false]);
  assert.deepEqual(flags(GET + "host: X\r\n\r\n"), [false, true, false]);
  assert.deepEqual(flags("GET / HTTP/1.1\nHost: x\r\n\r\n"), [false, false, true]);
  assert.deepEqual(flags(GET + "X: 1\n\r\n"), [false, false, true]);
  assert.deepEqual(flags(GET + "\n"), [false, false, true]);
  // haproxy's parser drops the lines that repeat: no rule sees them (req.hdr_cnt(host) is 1 there).
  assert.deepEqual(
    head(req(POST + "Content-Length: 2\r\nhost: X\r\nContent-Length: 2\r\n\r\n")).repeats,
    [2, 3],
  );
  assert.equal(head(req(POST + "Content-Length: 2\r\n\r\n")).repeats, undefined);
  const loose = (line: string) => head(req(GET + line + "\r\n\r\n")).looseValue;
  assert.deepEqual(["X: v", "X:v", "X:  v", "X: v ", "X:\tv", "X:", "X: "].map(loose), [
    false,
    true,
    true,
    true,
    true,
    true,
    false,
  ]);
});

test("a target naming its scheme's default port loses it, and Host takes the target's host (haproxy 2.6)", () => {
  // [request, uri as sent on, every Host's value, or undefined when Host is left alone]
  const cases: [string, string, string | undefined][] = [
    ["GET http://a.example:80/p HTTP/1.1\r\nHost: a.example:80\r\n\r\n", "http://a.example/p", "a.example"],
    ["GET http://a.example:80/p HTTP/1.1\r\nHost: A.EXAMPLE:80\r\n\r\n", "http://a.example/p", "a.example"],
    ["GET HTTP://A.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n", "HTTP://A.example", "A.example"],
    [
      "GET https://a.example:443/p HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
      "https://a.example/p",
      "a.example",
    ],
    [
      "GET http://u@a.example:80/p HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
      "http://u@a.example/p",
      "a.example",
    ],
    ["GET http://[::1]:80/p HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", "http://[::1]/p", "[::1]"],
    ["GET http://a.example:/p HTTP/1.1\r\nHost: a.example:\r\n\r\n", "http://a.example/p", "a.example"],
    ["GET http://a.example:80/p HTTP/1.1\r\n\r\n", "http://a.example/p", undefined],
    ["CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "a.example:443", "a.example"],
    ["CONNECT a.example:80 HTTP/1.1\r\nHost: a.example:80\r\n\r\n", "a.example:80", "a.example"],
    // Left as they are.
    ["GET http://A.example/p HTTP/1.1\r\nHost: a.example\r\n\r\n", "http://A.example/p", undefined],
    [
      "GET http://a.example:8080/p HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
      "http://a.example:8080/p",
      undefined,
    ],
    [
      "GET http://a.example:443/p HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
      "http://a.example:443/p",
      undefined,
    ],
    [
      "GET http://a.example:080/p HTTP/1.1\r\nHost: a.example:080\r\n\r\n",
      "http://a.example:080/p",
      undefined,
    ],
    ["GET ftp://a.example:80/p HTTP/1.1\r\nHost: a.example:80\r\n\r\n", "ftp://a.example:80/p", undefined],
    ["GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n", "/", undefined],
  ];
  for (const [text, uri, host] of cases) {
    const h = head(req(text));
    assert.deepEqual([h.uri, h.hostValue], [uri, host], text);
    const line = normalizedStartLine(h);
    if (uri === text.slice(text.indexOf(" ") + 1, text.indexOf(" HTTP/")))
      assert.equal(line, undefined, text);
    else assert.equal(line, `GET ${uri} HTTP/1.1`, text);
  }
});

test("Connection, Upgrade and Expect", () => {
  const h = head(
    req(
      GET +
        "Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nExpect: 100-Continue\r\n\r\n",
    ),
  );
  assert.deepEqual(
    [h.connKeepAlive, h.connUpgrade, h.connClose, h.upgradeWebSocket, h.expectContinue],
    [true, true, false, true, true],
  );
  const c = head(req(GET + "Connection: CLOSE\r\nconnection: ,upgrade ,\r\n\r\n"));
  assert.deepEqual(
    [c.connClose, c.connUpgrade, c.connKeepAlive, c.upgradeWebSocket],
    [true, true, false, false],
  );
  // Upgrade lists protocols; as in haproxy 2.6, the last Upgrade line says whether websocket is asked.
  const ws = (lines: string): boolean => head(req(GET + lines + "\r\n")).upgradeWebSocket;
  assert.equal(ws("Upgrade: foo, WebSocket \r\n"), true);
  assert.equal(ws("Upgrade: websocket/13\r\n"), false);
  assert.equal(ws("Upgrade: websocket\r\nUpgrade: foo\r\n"), false);
  assert.equal(ws("Upgrade: foo\r\nUpgrade: h2c,websocket\r\n"), true);
  const n = head(req(GET + "Connection: closed, keep-alivex\r\nExpect: 100-continued\r\n\r\n"));
  assert.deepEqual([n.connClose, n.connKeepAlive, n.expectContinue], [false, false, false]);
});

test("responses that are accepted, and how they are read", () => {
  const r = head(res("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n"));
  assert.deepEqual(
    [r.status, r.reason, r.body, r.contentLength, r.method, r.uri],
    [404, "Not Found", BodyKind.Length, 3, "", ""],
  );
  const cases: [string, string, number, string, BodyKind][] = [
    ["no reason", "HTTP/1.1 200\r\n\r\n", 200, "", BodyKind.UntilClose],
    ["no reason, blank", "HTTP/1.1 200 \r\n\r\n", 200, "", BodyKind.UntilClose],
    ["1.0", "HTTP/1.0 200 OK\r\n\r\n", 200, "OK", BodyKind.UntilClose],
    ["2.0 is 1.1", "HTTP/2.0 200 OK\r\n\r\n", 200, "OK", BodyKind.UntilClose],
    ["blanks", "HTTP/1.1 \t201  Created here\r\n\r\n", 201, "Created here", BodyKind.UntilClose],
    ["8-bit reason", "HTTP/1.1 200 O\xe9K\r\n\r\n", 200, "O\xe9K", BodyKind.UntilClose],
    ["bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 200, "OK", BodyKind.Length],
    ["empty line before", "\r\nHTTP/1.1 200 OK\r\n\r\n", 200, "OK", BodyKind.UntilClose],
    ["chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, "OK", BodyKind.Chunked],
    [
      "chunked wins over length",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      200,
      "OK",
      BodyKind.Chunked,
    ],
    ["status 999", "HTTP/1.1 999 X\r\n\r\n", 999, "X", BodyKind.UntilClose],
  ];
  for (const [name, text, status, reason, body] of cases) {
    const h = head(res(text));
    assert.deepEqual([h.status, h.reason, h.body], [status, reason, body], name);
  }
  assert.equal(head(res("HTTP/1.0 200 OK\r\n\r\n")).versionMinor, 0);
  assert.equal(head(res("HTTP/2.0 200 OK\r\n\r\n")).versionMinor, 1);
});

test("responses that are refused are always 502", () => {
  for (const bad of [
    "HTP/1.1 200 OK\r\n\r\n",
    "http/1.1 200 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 099 X\r\n\r\n",
    "HTTP/1.1200 OK\r\n\r\n",
    "HTTP/1.1 200OK\r\n\r\n",
    "HTTP/1.1 200 O\x01K\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    "HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
  ])
    assert.equal(res(bad), 502, JSON.stringify(bad));
  assert.equal(res("HTTP/1.1 200 OK\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\n\r\n", 5), 502, "maxhdr");
  assert.equal(typeof res("HTTP/1.1 200 OK\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", 5), "object");
  assert.equal(typeof res("HTTP/1.1 200 OK\r\n" + "n".repeat(255) + ": 1\r\n\r\n"), "object");
  assert.equal(res("HTTP/1.1 103 Early Hints\r\n" + "n".repeat(256) + ": 1\r\n\r\n"), 502, "a 256-byte name");
});

test("a response's version may name another protocol: four version bytes before the slash, as haproxy 2.6 reads it", () => {
  const cases: [string, number, string][] = [
    ["RTSP/1.0 200 OK\r\n\r\n", 0, "RTSP/1.0"],
    ["ABCD/1.1 200 OK\r\n\r\n", 1, "ABCD/1.1"],
    ["HTTP/0.9 200 OK\r\n\r\n", 0, "HTTP/0.9"],
    ["HTTP/1.1 200 OK\r\n\r\n", 1, "HTTP/1.1"],
  ];
  for (const [text, minor, version] of cases) {
    const h = head(res(text));
    assert.deepEqual(
      [h.versionMinor, h.version, h.startLineAsIs],
      [minor, version, version.startsWith("HTTP/1.")],
    );
  }
  for (const bad of ["HTTPX1.1 200 OK\r\n\r\n", "/////1.1 200 OK\r\n\r\n", "12345/1.1 200 OK\r\n\r\n"])
    assert.equal(res(bad), 502, bad);
  // A request's must be HTTP's.
  assert.equal(req("GET / RTSP/1.0\r\n\r\n"), 400);
});

test("Leniency.InvalidHttp (option accept-invalid-http-request/-response) reads what haproxy 2.6 then accepts", () => {
  // Header names of any byte but ':' and LF; not empty.
  for (const name of ["X(y)", "X y", "Xy ", "X\x00y", "X\ry", "X\xe9y", "Content Length"]) {
    const h = head(laxReq(`GET / HTTP/1.1\r\nHost: a\r\n${name}: 3\r\n\r\n`));
    assert.deepEqual([headerName(h, 1), headerValue(h, 1), h.contentLength], [name, "3", -1], name);
    assert.equal(req(`GET / HTTP/1.1\r\n${name}: 3\r\n\r\n`), 400, name);
    assert.equal(headerName(head(laxRes(`HTTP/1.1 200 OK\r\n${name}: 3\r\n\r\n`)), 0), name);
  }
  assert.equal(laxReq("GET / HTTP/1.1\r\n: v\r\n\r\n"), 400, "an empty name");
  assert.equal(laxReq("GET / HTTP/1.1\r\nX\n\r\n"), 400, "no colon");
  // A target with 8-bit bytes and '#'.
  assert.equal(head(laxReq("GET /a\xe9#b#c HTTP/1.1\r\n\r\n")).uri, "/a\xe9#b#c");
  // Versions: any run of version bytes, 1.1 only when 8 bytes long and at least "1" and "1" where the
  // digits stand; what does not count as 1.1 keeps its text.
  const versions: [string, number, string][] = [
    ["RTSP/1.0", 0, "RTSP/1.0"],
    ["RTSP/1.1", 1, "RTSP/1.1"],
    ["HTTP/A.B", 1, "HTTP/A.B"],
    ["HTTP/0.Z", 0, "HTTP/0.Z"],
    ["HTTP/12.0", 0, "HTTP/12.0"],
    ["HTTP/1.10", 0, "HTTP/1.10"],
    ["HTTP/1", 0, "HTTP/1"],
    ["X", 0, "X"],
  ];
  for (const [v, minor, text] of versions) {
    for (const h of [head(laxReq(`GET / ${v}\r\nHost: a\r\n\r\n`)), head(laxRes(`${v} 200 OK\r\n\r\n`))]) {
      assert.deepEqual([h.versionMinor, h.version, h.startLineAsIs], [minor, text, false], v);
      assert.equal(normalizedStartLine(h)?.includes(minor ? "HTTP/1.1" : text), true, v);
    }
  }
  for (const bad of ["http/1.1", "HTTP/1.1x", "HTTP/1-1"]) {
    assert.equal(laxReq(`GET / ${bad}\r\n\r\n`), 400, bad);
    assert.equal(laxRes(`${bad} 200 OK\r\n\r\n`), 502, bad);
  }
  // HTTP/0.9: no version, the head is the request line alone and reads as HTTP/1.0.
  for (const line of ["GET /x\r\n", "GET /x \r\n", "GET /x\n"]) {
    const h = head(laxReq(line + "Host: a\r\n\r\n"));
    assert.deepEqual(
      [h.method, h.uri, h.version, h.versionMinor, h.count, h.end],
      ["GET", "/x", "HTTP/1.0", 0, 0, line.length],
    );
    assert.equal(normalizedStartLine(h), "GET /x HTTP/1.0");
  }
  assert.equal(laxReq("GET /x"), NEED_MORE);
  assert.equal(laxReq("GET /x \r"), NEED_MORE);
  assert.equal(laxReq("GET /x x\r\n\r\n"), 400);
  for (const other of ["POST /x\r\n", "HEAD /x\r\n", "get /x\r\n"]) assert.equal(laxReq(other), 400, other);
});

test("Leniency.PayloadAnyMethod (h1-accept-payload-with-any-method): an HTTP/1.0 GET, HEAD or DELETE may carry a body", () => {
  for (const method of ["GET", "HEAD", "DELETE"]) {
    const text = `${method} / HTTP/1.0\r\nContent-Length: 3\r\n\r\n`;
    assert.equal(req(text), 413, method);
    assert.equal(head(laxReq(text, Leniency.PayloadAnyMethod)).contentLength, 3, method);
  }
});

test("the response body's framing depends on the request's method and the status", () => {
  const withLength = head(res("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"));
  const cases: [string, string, BodyKind][] = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "GET", BodyKind.Length],
    ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", "HEAD", BodyKind.None],
    ["HTTP/1.1 100 Continue\r\n\r\n", "POST", BodyKind.None],
    ["HTTP/1.1 101 Switching Protocols\r\n\r\n", "GET", BodyKind.None],
    ["HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "GET", BodyKind.None],
    ["HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", "GET", BodyKind.None],
    ["HTTP/1.1 200 OK\r\n\r\n", "CONNECT", BodyKind.None],
    ["HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", "CONNECT", BodyKind.Length],
    ["HTTP/1.1 200 OK\r\n\r\n", "GET", BodyKind.UntilClose],
    ["HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", BodyKind.Chunked],
  ];
  for (const [text, method, kind] of cases)
    assert.equal(responseBodyKind(head(res(text)), method), kind, `${method} ${JSON.stringify(text)}`);
  assert.equal(withLength.contentLength, 9);
});

test("normalizedStartLine gives the line haproxy would send, only when it differs", () => {
  // Responses checked against haproxy 2.6.12: the space after the status is always sent, and the
  // reason keeps its trailing blanks.
  const cases: [string, string | undefined][] = [
    ["GET / HTTP/1.1\r\n\r\n", undefined],
    ["GET /x HTTP/1.0\n\n", undefined],
    ["GET  /x\tHTTP/1.1\r\n\r\n", "GET /x HTTP/1.1"],
    ["GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.1"],
    ["GET / HTTP/0.9\r\n\r\n", "GET / HTTP/0.9"],
    ["RTSP/1.0 200 OK\r\n\r\n", "RTSP/1.0 200 OK"],
    ["ABCD/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK"],
    ["HTTP/1.1 200 OK\r\n\r\n", undefined],
    ["HTTP/1.1 200\r\n\r\n", "HTTP/1.1 200 "],
    ["HTTP/1.0 404 Not Found\r\n\r\n", undefined],
    ["HTTP/1.1  200 OK \r\n\r\n", "HTTP/1.1 200 OK "],
    ["HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.1 200 OK"],
    ["HTTP/1.1 200\tOK\r\n\r\n", "HTTP/1.1 200 OK"],
    ["HTTP/1.1 200 \r\n\r\n", undefined],
    ["GET\t/ HTTP/1.1\r\n\r\n", "GET / HTTP/1.1"],
  ];
  for (const [text, want] of cases) {
    const h = text.startsWith("GET") ? head(req(text)) : head(res(text));
    assert.equal(normalizedStartLine(h), want, JSON.stringify(text));
  }
});

test("size limit helpers, and what a head weighs", () => {
  assert.equal(maxHeadWeight(16384), 15275);
  assert.equal(maxHeadWeight(8192), 7083);
  assert.equal(maxHeadSize(16384), 15360);
  assert.equal(maxHeadSize(1024), 512);
  assert.equal(maxHeadSize(16384, 2048), 14336);
  // Start line parts (3 + 2 + 8), then name + value + 8 per header.
  assert.equal(head(req("GET /x HTTP/1.1\r\nHost: ab\r\nX-Y:  z \r\n\r\n")).weight, 13 + 14 + 12);
  assert.equal(head(req("GET /x HTTP/2.0\r\n\r\n")).weight, 13);
  const res = parseResponse(bytes("HTTP/1.1 200 OK\r\nA: b\r\n\r\n"), 0, 25, MAXHDR) as HttpHead;
  assert.equal(res.weight, 8 + 3 + 2 + 10);
  // What haproxy's parser drops weighs nothing (haproxy 2.6.12: the largest header that fits moves
  // with the words kept): close and keep-alive words, a repeated Host or Content-Length, a list's
  // values past its last.
  const base = head(req("GET /x HTTP/1.1\r\nHost: ab\r\n\r\n")).weight;
  for (const [line, more] of [
    ["Connection: keep-alive, close", 0],
    ["Connection: close\r\nConnection: Keep-Alive", 0],
    ["Connection: close, foo", 10 + 3 + 8],
    ["Connection: foo", 10 + 3 + 8],
    ["Host: ab", 0],
    ["Content-Length: 0, 0", 14 + 1 + 8],
    ["Content-Length: 0\r\nContent-Length: 0", 14 + 1 + 8],
  ] as const)
    assert.equal(head(req(`GET /x HTTP/1.1\r\nHost: ab\r\n${line}\r\n\r\n`)).weight, base + more, line);
  const chunked = bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  const framed = parseResponse(chunked, 0, chunked.length, MAXHDR) as HttpHead;
  assert.equal(framed.weight, 8 + 3 + 2 + 17 + 7 + 8);
});

test("no input, however random, makes the parsers throw or read past end", () => {
  const rand = prng(42);
  const alphabet = "GET /HTP1.0\r\n :;,chunkedContent-LengthHost0123456789abcdef\x00\x7f\xff\t";
  for (let i = 0; i < 3000; i++) {
    const len = rand(120);
    let s = i % 2 ? "GET / HTTP/1.1\r\n" : "HTTP/1.1 200 OK\r\n";
    for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
    const b = bytes(s);
    for (const r of [parseRequest(b, 0, b.length, MAXHDR), parseResponse(b, 0, b.length, MAXHDR)]) {
      if (typeof r === "number") assert.ok(r === NEED_MORE || r >= 400, String(r));
      else assert.ok(r.end <= b.length && r.count >= 0);
    }
  }
});
