// http-after-response: rules for every response, the server's and the proxy's own (deny, redirect,
// return, 503), the backend's before the frontend's, as haproxy 2.6.12 answered the same requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS, exchange, headServer, startProxy, alertsFor } from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";

/** The header lines of a response, without the framing ones. */
const headers = (text: string): string[] =>
  text
    .slice(0, text.indexOf("\r\n\r\n"))
    .split("\r\n")
    .filter((l) => !/^(content-length|connection):/i.test(l));

test("http-after-response rewrites the server's responses and the proxy's own", async () => {
  const srv = await headServer((_head, s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request deny if { path /deny }
  http-request redirect location /else if { path /redir }
  http-request return status 200 content-type text/plain string "hi" if { path /ret }
  http-request set-var(txn.p) path
  http-after-response set-header X-Fe "fe %[status] %[var(txn.p)]"
  http-after-response add-header X-Order fe
  http-after-response del-header X-Gone
  http-after-response replace-value X-V (a+) <\\1>
  use_backend none if { path /none }
  default_backend b
backend b
  http-after-response add-header X-Order be
  http-after-response allow if { status 200 }
  http-after-response add-header X-Order be2
  http-response set-header X-Gone 1
  http-response set-header X-V aa,b,aaa
  server s 127.0.0.1:${srv.port}
backend none
  http-after-response add-header X-Order none
`);
  try {
    const ask = (path: string, method = "GET") =>
      exchange(p.port, `${method} ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    // The backend's allow ends its own rules, not the frontend's.
    assert.deepEqual(headers(await ask("/x")), [
      "HTTP/1.1 200 OK",
      "X-V: <aa>,b,<aaa>",
      "X-Order: be",
      "X-Fe: fe 200 /x",
      "X-Order: fe",
    ]);
    // The proxy's own answers, before a backend and after one; a HEAD gets the same head.
    const deny = await ask("/deny");
    assert.deepEqual(headers(deny).slice(-2), ["X-Fe: fe 403 ", "X-Order: fe"]);
    assert.match(deny, /\r\n\r\n<html><body><h1>403 Forbidden<\/h1>/);
    assert.deepEqual(headers(await ask("/deny", "HEAD")).slice(-2), ["X-Fe: fe 403 ", "X-Order: fe"]);
    assert.deepEqual(headers(await ask("/redir")), [
      "HTTP/1.1 302 Found",
      "location: /else",
      "cache-control: no-cache",
      "X-Fe: fe 302 ",
      "X-Order: fe",
    ]);
    const ret = await ask("/ret");
    assert.deepEqual(headers(ret).slice(-2), ["X-Fe: fe 200 ", "X-Order: fe"]);
    assert.ok(ret.endsWith("\r\n\r\nhi"), ret);
    // The Connection line leaves last, after the rules' lines, as haproxy's HTTP/1 layer writes it.
    assert.ok(ret.endsWith("X-Order: fe\r\nconnection: close\r\n\r\nhi"), ret);
    assert.ok(deny.includes("X-Order: fe\r\nconnection: close\r\n\r\n"), deny);
    assert.deepEqual(headers(await ask("/none")).slice(-3), [
      "X-Order: none",
      "X-Fe: fe 503 /none",
      "X-Order: fe",
    ]);
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("http-after-response: haproxy's words for what it refuses", () => {
  assert.deepEqual(alertsFor("http-after-response deny"), [
    "'http-after-response' expects 'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', but got 'deny'.",
  ]);
  assert.deepEqual(alertsFor("http-after-response set-header x %[path]"), [
    "error detected in frontend 'f' while parsing 'http-after-response set-header' rule : sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
  ]);
  assert.deepEqual(alertsFor("http-after-response strict-mode on"), []);
  assert.match(alertsFor("http-after-response ot-group g")[0]!, /is not supported by sluice yet/);
  assert.deepEqual(alertsFor("http-response set-status 20x"), [
    "error detected in frontend 'f' while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999.",
  ]);
  assert.deepEqual(alertsFor("http-response set-status 404 reason"), [
    "'http-response set-status' expects either 'if' or 'unless' followed by a condition but found 'reason'.",
  ]);
  assert.match(alertsFor("http-after-response set-status 101")[0]!, /is not supported by sluice yet/);
  const said = parseConfig([
    { name: "t.cfg", text: "defaults\n  mode http\n  http-after-response set-header x y\n" },
  ]).diagnostics.map((d) => d.message);
  assert.deepEqual(said, ["'http-after-response' not allowed in anonymous 'defaults' section."]);
});

test("set-status: the status line and haproxy's framing for a status with no body, or with one where there was none", async () => {
  const srv = await headServer((head, s) => {
    const path = head.split(" ")[1];
    if (path === "/nobody") s.write("HTTP/1.1 204 No Content\r\nX: 1\r\n\r\n");
    else if (path === "/chunk")
      s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  });
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.p) path
  http-request deny if { path /deny }
  http-response set-status 204 if { var(txn.p) -m str /body204 }
  http-response set-status 200 if { var(txn.p) -m str /nobody }
  http-response set-status 304 if { var(txn.p) -m str /chunk }
  http-response set-status 404 reason Gone if { var(txn.p) -m str /r }
  http-response set-header X-St %ST if { var(txn.p) -m str /r }
  http-response set-status 599 if { var(txn.p) -m str /599 }
  http-after-response set-status 204 if { status 403 }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    // Each answer, then a plain request on the same connection: its answer must come whole after.
    const ask = (path: string) =>
      exchange(
        p.port,
        `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\nGET /plain HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
      );
    // (haproxy writes its own Connection header in lower case.)
    const next = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    // As haproxy 2.6.12 sent them.
    assert.equal(await ask("/body204"), `HTTP/1.1 204 No Content\r\n\r\n${next}`);
    assert.equal(
      await ask("/nobody"),
      `HTTP/1.1 200 OK\r\nX: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${next}`,
    );
    assert.equal(
      await ask("/chunk"),
      `HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n${next}`,
    );
    // A later rule sees the status set.
    assert.equal(await ask("/r"), `HTTP/1.1 404 Gone\r\nContent-Length: 5\r\nX-St: 404\r\n\r\nhello${next}`);
    assert.equal(await ask("/599"), `HTTP/1.1 599 Server Error\r\nContent-Length: 5\r\n\r\nhello${next}`);
    const denied = await ask("/deny");
    assert.match(
      denied,
      /^HTTP\/1\.1 204 No Content\r\ncache-control: no-cache\r\ncontent-type: text\/html\r\n\r\nHTTP\/1\.1 200 OK/,
    );
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("http-after-response sees the persistence cookie the backend inserts, as haproxy 2.6.12 does", async () => {
  const srv = await headServer((_head, s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-after-response set-header X-C "%[res.hdr(set-cookie)]" if { capture.req.uri /see }
  http-after-response del-header Set-Cookie if { capture.req.uri /del }
  default_backend b
backend b
  cookie SRV insert indirect nocache
  server s1 127.0.0.1:${srv.port} cookie s1
`);
  try {
    const seen = await exchange(p.port, "GET /see HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert.deepEqual(headers(seen).slice(1), ["Set-Cookie: SRV=s1; path=/", "X-C: SRV=s1; path=/"]);
    const gone = await exchange(p.port, "GET /del HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert.deepEqual(headers(gone).slice(1), []);
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("a 204 given a status with a body: the proxy's own says its length of 0, a server's an empty chunked one, to an HTTP/1.0 client too, as haproxy 2.6.12 frames them", async () => {
  const srv = await headServer((_head, s) => s.write("HTTP/1.1 204 No Content\r\n\r\n"));
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 204 if { path_beg /own }
  http-after-response set-status 200 if { capture.req.uri -m beg /own }
  http-after-response add-header X-A a if { capture.req.uri /own-a }
  http-response set-status 200 if { capture.req.uri /srv }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const get = (path: string, v: string) =>
      exchange(p.port, `GET ${path} HTTP/1.${v}\r\nHost: h\r\n\r\n`, 1000);
    assert.equal(await get("/own", "1"), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    // The length is the answer's first line, before the rules' lines and the Connection line (haproxy's order).
    assert.equal(
      await get("/own-a", "0"),
      "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nX-A: a\r\nconnection: close\r\n\r\n",
    );
    assert.equal(await get("/srv", "1"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.equal(
      await get("/srv", "0"),
      "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("a Connection line the rules write on the proxy's own answer loses close and keep-alive; the proxy's own comes last", async () => {
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.p) path
  http-after-response add-header Connection keep-alive if { var(txn.p) -m str /ka }
  http-after-response add-header Connection foo if { var(txn.p) -m str /foo }
  http-after-response set-header Connection close if { var(txn.p) -m str /cl }
  http-after-response add-header X-A a
  http-request deny if { path /foo }
  http-request return status 200 content-type text/plain string ok
`);
  try {
    const head = async (path: string, close = false) => {
      const text = await exchange(
        p.port,
        `GET ${path} HTTP/1.1\r\nHost: h\r\n${close ? "Connection: close\r\n" : ""}\r\n`,
        500,
      );
      return text.slice(text.indexOf("\r\n") + 2, text.indexOf("\r\n\r\n"));
    };
    // haproxy 2.6.12's heads for the same requests: the client told close when the connection closes.
    assert.equal(
      await head("/ka", true),
      "content-length: 2\r\ncontent-type: text/plain\r\nX-A: a\r\nconnection: close",
    );
    assert.equal(
      await head("/cl"),
      "content-length: 2\r\ncontent-type: text/plain\r\nX-A: a\r\nconnection: close",
    );
    assert.match(await head("/foo"), /\r\ncontent-type: text\/html\r\nConnection: foo\r\nX-A: a$/i);
  } finally {
    await p.stop();
  }
});
