// The check request's bytes (captured from haproxy 2.6 with a raw server) and the verdicts on
// responses, without a network.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { HttpCheckExpect, HttpCheckSend } from "../../src/config/model.js";
import { buildCheckRequest, compileExpectation, HttpCheckReader } from "../../src/check/http-check.js";
import { describeResult } from "../../src/check/result.js";

const send = (
  method: string,
  uri: string,
  version: string,
  headers: string[] = [],
  body = "",
): HttpCheckSend => ({
  method,
  uri,
  version,
  headers,
  body,
});
const req = (s: HttpCheckSend): string => buildCheckRequest(s).toString("latin1");

test("the request haproxy 2.6 sends", () => {
  assert.equal(req(send("OPTIONS", "/", "HTTP/1.0")), "OPTIONS / HTTP/1.0\r\n\r\n");
  assert.equal(req(send("GET", "/a", "HTTP/1.0")), "GET /a HTTP/1.0\r\n\r\n");
  assert.equal(req(send("POST", "/a", "HTTP/1.0")), "POST /a HTTP/1.0\r\ncontent-length: 0\r\n\r\n");
  assert.equal(
    req(send("GET", "/x", "HTTP/1.1", ["Host: foo", "X-A: b"])),
    "GET /x HTTP/1.1\r\nhost: foo\r\nx-a: b\r\nconnection: close\r\n\r\n",
  );
  assert.equal(
    req(send("POST", "/y", "HTTP/1.1", ["Host: bar", "X-Y: z"], "hello")),
    "POST /y HTTP/1.1\r\nhost: bar\r\nx-y: z\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
  );
  assert.equal(
    req(send("HEAD", "/z", "HTTP/1.1", [], "hi")),
    "HEAD /z HTTP/1.1\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi",
  );
  for (const m of ["DELETE", "OPTIONS"])
    assert.equal(req(send(m, "/a", "HTTP/1.1")), `${m} /a HTTP/1.1\r\nconnection: close\r\n\r\n`);
  for (const m of ["PUT", "PATCH", "TRACE", "get"])
    assert.equal(
      req(send(m, "/a", "HTTP/1.1")),
      `${m} /a HTTP/1.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
    );
});

test("the article's WebSocket check: no connection: close beside its own Connection header", () => {
  const s = send("GET", "/", "HTTP/1.1", [
    "Host: ws.domain.com",
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Key: haproxy",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Protocol: echo-protocol",
  ]);
  assert.equal(
    req(s),
    "GET / HTTP/1.1\r\nhost: ws.domain.com\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-key: haproxy\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: echo-protocol\r\n\r\n",
  );
});

test("the Connection header, Content-Length, Transfer-Encoding and the version, as haproxy 2.6's H1 mux writes them", () => {
  // close and keep-alive leave the header (which goes if nothing is left) and come back last as
  // the connection mode: close written only for 1.1, keep-alive only for 1.0, neither beside upgrade.
  const conn = (version: string, value: string) =>
    req(send("GET", "/c", version, [`Connection: ${value}`, "X-B: 2"]));
  assert.equal(conn("HTTP/1.1", "Close"), "GET /c HTTP/1.1\r\nx-b: 2\r\nconnection: close\r\n\r\n");
  assert.equal(conn("HTTP/1.1", "keep-alive"), "GET /c HTTP/1.1\r\nx-b: 2\r\n\r\n");
  assert.equal(
    conn("HTTP/1.1", "keep-alive, close"),
    "GET /c HTTP/1.1\r\nx-b: 2\r\nconnection: close\r\n\r\n",
  );
  assert.equal(
    conn("HTTP/1.1", "foo, close, bar"),
    "GET /c HTTP/1.1\r\nconnection: foo,bar\r\nx-b: 2\r\nconnection: close\r\n\r\n",
  );
  assert.equal(conn("HTTP/1.1", "foo"), "GET /c HTTP/1.1\r\nconnection: foo\r\nx-b: 2\r\n\r\n");
  assert.equal(
    conn("HTTP/1.1", "Upgrade, close"),
    "GET /c HTTP/1.1\r\nconnection: Upgrade\r\nx-b: 2\r\n\r\n",
  );
  assert.equal(conn("HTTP/1.0", "close"), "GET /c HTTP/1.0\r\nx-b: 2\r\n\r\n");
  assert.equal(conn("HTTP/1.0", "Keep-Alive"), "GET /c HTTP/1.0\r\nx-b: 2\r\nconnection: keep-alive\r\n\r\n");
  assert.equal(conn("HTTP/1.0", "close, foo"), "GET /c HTTP/1.0\r\nconnection: foo\r\nx-b: 2\r\n\r\n");
  assert.equal(
    conn("HTTP/1.0", "Upgrade, keep-alive"),
    "GET /c HTTP/1.0\r\nconnection: Upgrade\r\nx-b: 2\r\n\r\n",
  );
  // A given length or coding is dropped: the body's own length is sent.
  assert.equal(
    req(
      send("POST", "/c", "HTTP/1.1", ["Content-Length: 10", "Transfer-Encoding: chunked", "X-A: 1"], "abc"),
    ),
    "POST /c HTTP/1.1\r\nx-a: 1\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
  );
  assert.equal(
    req(send("GET", "/c", "HTTP/1.1", ["Content-Length: 5"])),
    "GET /c HTTP/1.1\r\nconnection: close\r\n\r\n",
  );
  // Versions: 1.1 and above written HTTP/1.1; HTTP/2 too, though the mux then takes it for 1.0;
  // anything else as given, taken for 1.0.
  assert.equal(req(send("GET", "/c", "HTTP/1.2")), "GET /c HTTP/1.1\r\nconnection: close\r\n\r\n");
  assert.equal(req(send("GET", "/c", "http/1.1")), "GET /c HTTP/1.1\r\nconnection: close\r\n\r\n");
  assert.equal(req(send("GET", "/c", "HTTP/2.0")), "GET /c HTTP/1.1\r\nconnection: close\r\n\r\n");
  assert.equal(req(send("GET", "/c", "HTTP/2")), "GET /c HTTP/1.1\r\n\r\n");
  assert.equal(req(send("GET", "/c", "HTTP/1.1rnX")), "GET /c HTTP/1.1rnX\r\n\r\n");
});

const where = { file: "t.cfg", line: 1 };
const exp = (kind: HttpCheckExpect["kind"], pattern: string, negate = false) =>
  compileExpectation({ kind, pattern, negate, where } as HttpCheckExpect);

function verdict(
  expect: ReturnType<typeof exp>[],
  chunks: string[],
  then: "end" | "timeout" | "none" = "end",
) {
  const r = new HttpCheckReader(expect, "GET");
  for (const c of chunks) {
    const v = r.feed(Buffer.from(c, "latin1"));
    if (v) return describeResult({ ...v, durationMs: 0 });
  }
  if (then === "none") return undefined;
  return describeResult({ ...(then === "end" ? r.end() : r.timeout()), durationMs: 0 });
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";

test("no expectation: 2xx and 3xx pass, others are a wrong status with the reason phrase", () => {
  assert.equal(verdict([], [OK]), ", reason: Layer7 check passed, code: 200, check duration: 0ms");
  assert.equal(
    verdict([], ["HTTP/1.0 302 Found\r\n\r\n"]),
    ", reason: Layer7 check passed, code: 302, check duration: 0ms",
  );
  assert.equal(
    verdict([], ["HTTP/1.1 500 Internal Server Error\r\n\r\n"]),
    ', reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 0ms',
  );
});

test("the status waits for the whole head, the head alone decides a status expectation", () => {
  assert.equal(verdict([], ["HTTP/1.1 200 OK\r\nContent-Le"], "none"), undefined);
  assert.equal(
    verdict([], ["HTTP/1.1 200 OK\r\nContent-Le"], "timeout"),
    ", reason: Layer7 invalid response, check duration: 0ms",
  );
  assert.match(
    verdict([], ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"], "none")!,
    /Layer7 check passed/,
  );
  assert.equal(
    verdict([], ["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n"], "none"),
    ", reason: Layer7 check passed, code: 204, check duration: 0ms",
  );
});

test("garbage, an empty close and silence", () => {
  assert.equal(verdict([], ["hello\r\n"]), ", reason: Layer7 invalid response, check duration: 0ms");
  assert.equal(verdict([], []), ", reason: Layer7 invalid response, check duration: 0ms");
  assert.equal(verdict([], [], "timeout"), ", reason: Layer7 timeout, check duration: 0ms");
});

test("status, rstatus and their negations", () => {
  assert.match(verdict([exp("status", "101")], [OK])!, /wrong status, code: 200, info: "OK"/);
  assert.match(verdict([exp("status", "200,204")], [OK])!, /check passed, code: 200/);
  assert.match(
    verdict([exp("status", "200-399")], ["HTTP/1.1 301 Moved\r\n\r\n"])!,
    /check passed, code: 301/,
  );
  assert.match(
    verdict([exp("status", "500", true)], ["HTTP/1.1 500 Internal Server Error\r\n\r\n"])!,
    /wrong status, code: 500, info: "Internal Server Error"/,
  );
  assert.match(
    verdict([exp("rstatus", "^5")], ["HTTP/1.1 503 Service Unavailable\r\n\r\n"])!,
    /check passed, code: 503/,
  );
  assert.match(
    verdict([exp("rstatus", "^2")], ["HTTP/1.1 500 Internal Server Error\r\n\r\n"])!,
    /wrong status, code: 500/,
  );
});

test("string and rstring judge the body, not the status", () => {
  assert.match(
    verdict([exp("string", "OK")], ["HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nOK"])!,
    /check passed, code: 500/,
  );
  assert.equal(
    verdict([exp("string", "nope")], [OK]),
    ', reason: Layer7 invalid response, info: "HTTP content check did not match", check duration: 0ms',
  );
  assert.equal(
    verdict([exp("string", "OK", true)], [OK]),
    ', reason: Layer7 invalid response, info: "HTTP check matched unwanted content", check duration: 0ms',
  );
  assert.match(verdict([exp("rstring", "^O.$")], [OK])!, /check passed/);
  // A match may come in a later packet: the reader waits for the whole body.
  assert.equal(
    verdict([exp("string", "needle")], ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nne"], "none"),
    undefined,
  );
  assert.match(
    verdict([exp("string", "needle")], ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nne", "edle!!!"])!,
    /check passed/,
  );
  assert.match(
    verdict([exp("string", "needle")], ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"], "timeout")!,
    /did not match/,
  );
  // Chunked bodies are matched once decoded.
  assert.match(
    verdict(
      [exp("string", "needle")],
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnee\r\n3\r\ndle\r\n0\r\n\r\n"],
    )!,
    /check passed/,
  );
  // Until the server closes when there is no framing.
  assert.match(verdict([exp("string", "x", true)], ["HTTP/1.0 200 OK\r\n\r\nabc"], "end")!, /check passed/);
});

test("a 101 switch: decided on its head; haproxy refuses a WebSocket switch without Sec-WebSocket-Accept", () => {
  const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  assert.match(
    verdict([exp("status", "101")], [head + "Sec-WebSocket-Accept: x\r\n\r\n"], "none")!,
    /check passed, code: 101/,
  );
  assert.equal(
    verdict([exp("status", "101")], [head + "\r\n"], "none"),
    ", reason: Layer7 invalid response, check duration: 0ms",
  );
  assert.match(
    verdict([exp("status", "101")], ["HTTP/1.1 101 Switching Protocols\r\n\r\n"], "none")!,
    /check passed/,
  );
});
