// http-response return and redirect, which answer in place of the server's response, and
// http-request early-hint, as haproxy 2.6.12 answered the same requests (haproxy-behaviour §73).
import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  Client,
  DEFAULTS,
  alertsFor,
  exchange,
  headServer,
  loggedDefaults,
  startProxy,
  syslogReceiver,
  waitFor,
} from "../helpers/harness.js";

/**
 * A server that answers `/part` with half of its body (the rest never comes), a HEAD without a body,
 * and anything else with a whole one; it counts the connections it accepted and those that closed.
 */
async function countingServer() {
  const accepted = new Set<net.Socket>();
  let closedConns = 0;
  const srv = await headServer((head, s) => {
    if (!accepted.has(s)) {
      accepted.add(s);
      s.once("close", () => closedConns++);
    }
    if (head.startsWith("HEAD")) s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    else if (head.includes("/part")) s.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
    else s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  });
  return { srv, accepted: () => accepted.size, closed: () => closedConns };
}

const RESPONSE_RULES = `
  http-response return status 404 content-type text/plain string nope hdr X-P "%[var(txn.p)]" if { var(txn.p) -m beg /r }
  http-response redirect location /moved code 303 set-cookie A=1 if { var(txn.p) -m beg /m }
  http-response redirect location "%[res.hdr(nope)]" ignore-empty if { var(txn.p) -m beg /empty }
  http-response set-header X-Later 1
  http-after-response add-header X-After be`;

test("http-response return: the reply in place of the server's, logged LH-- without Tr; the server connection kept when its response came whole, closed when not", async () => {
  const rx = await syslogReceiver();
  const { srv, accepted, closed } = await countingServer();
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.p) path
  http-after-response add-header X-After fe
  default_backend b
backend b${RESPONSE_RULES}
  server s 127.0.0.1:${srv.port}
`);
  const c = new Client(p.port);
  try {
    c.send("GET /r/whole HTTP/1.1\r\nHost: h\r\n\r\n");
    const r = await c.response();
    assert.equal(r.status, 404);
    assert.equal(r.body, "nope");
    // Its hdr line, then http-after-response's (the backend's, then the frontend's); later
    // http-response rules do not run.
    assert.match(r.head, /\r\nx-p: \/r\/whole\r\n/);
    assert.ok(r.head.endsWith("\r\nX-After: be\r\nX-After: fe"), r.head);
    assert.doesNotMatch(r.head, /X-Later/);
    assert.match(await rx.take(/"GET \/r\/whole /), / b\/s \d+\/0\/\d+\/-1\/\d+ 404 \d+ - - LH-- /);
    // The client's connection goes on, and so does the server's: its response was all in.
    c.send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    const x = await c.response();
    assert.equal(x.body, "hello");
    assert.match(x.head, /\r\nX-Later: 1\r\n/);
    assert.equal(accepted(), 1);
    // A response whose body has not all come: its connection closes, the next request takes another.
    c.send("GET /r/part HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal((await c.response()).status, 404);
    await waitFor(() => closed() === 1, 3000, "the server connection's close");
    c.send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal((await c.response()).body, "hello");
    assert.equal(accepted(), 2);
    // A HEAD gets the reply's head alone.
    const head = await exchange(p.port, "HEAD /r/h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(head, /\r\ncontent-length: 4\r\n/);
    assert.ok(head.endsWith("\r\nconnection: close\r\n\r\n"), head);
  } finally {
    c.close();
    await p.stop();
    await srv.close();
    await rx.close();
  }
});

test("http-response redirect: a location only, logged LH-- without Tr; ignore-empty lets the next rule run", async () => {
  const rx = await syslogReceiver();
  const { srv } = await countingServer();
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.p) path
  default_backend b
backend b${RESPONSE_RULES}
  server s 127.0.0.1:${srv.port}
`);
  try {
    const ask = (path: string) =>
      exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    // A 303 says no-cache, as haproxy's 302 and 303 do.
    assert.equal(
      await ask("/m"),
      "HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /moved\r\ncache-control: no-cache\r\nset-cookie: A=1; path=/;\r\nX-After: be\r\nconnection: close\r\n\r\n",
    );
    assert.match(await rx.take(/"GET \/m /), / b\/s \d+\/0\/\d+\/-1\/\d+ 303 \d+ - - LH-- /);
    const empty = await ask("/empty");
    assert.match(empty, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(empty, /\r\nX-Later: 1\r\n/);
  } finally {
    await p.stop();
    await srv.close();
    await rx.close();
  }
});

test("http-request early-hint: a 103 per run of rules, a condition starting another; none to HTTP/1.0; sent before a later rule's answer", async () => {
  const { srv } = await countingServer();
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request early-hint Link "</a.css>; rel=preload"
  http-request early-hint Link "</b.js>; rel=preload"
  http-request set-var(txn.x) str(1)
  http-request early-hint X-Path "%[path]"
  http-request early-hint X-Cond yes if { path /cond }
  http-request early-hint X-Empty "%[req.hdr(nope)]"
  http-request redirect location /else if { path /redir }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const ask = (path: string, version = "1.1") =>
      exchange(p.port, `GET ${path} HTTP/${version}\r\nHost: h\r\nConnection: close\r\n\r\n`);
    const first =
      "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\nlink: </b.js>; rel=preload\r\n\r\n";
    // The conditional rule after X-Path ends its 103; X-Empty, after it, starts one whether it ran or not.
    const x = await ask("/x");
    assert.ok(
      x.startsWith(
        `${first}HTTP/1.1 103 Early Hints\r\nx-path: /x\r\n\r\nHTTP/1.1 103 Early Hints\r\nx-empty: \r\n\r\nHTTP/1.1 200 OK\r\n`,
      ),
      x,
    );
    const cond = await ask("/cond");
    assert.ok(
      cond.startsWith(
        `${first}HTTP/1.1 103 Early Hints\r\nx-path: /cond\r\n\r\nHTTP/1.1 103 Early Hints\r\nx-cond: yes\r\nx-empty: \r\n\r\nHTTP/1.1 200 OK\r\n`,
      ),
      cond,
    );
    const redir = await ask("/redir");
    assert.ok(
      redir.startsWith(
        `${first}HTTP/1.1 103 Early Hints\r\nx-path: /redir\r\n\r\nHTTP/1.1 103 Early Hints\r\nx-empty: \r\n\r\nHTTP/1.1 302 Found\r\n`,
      ),
      redir,
    );
    assert.match(await ask("/x", "1.0"), /^HTTP\/1\.1 200 OK\r\n/);
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("http-response return, http-response redirect, http-request early-hint: haproxy's words for what it refuses", () => {
  const rule = (kw: string, m: string) => `error detected in frontend 'f' while parsing '${kw}' rule : ${m}.`;
  const condition = (kw: string, word: string) =>
    `'${kw}' expects either 'if' or 'unless' followed by a condition but found '${word}'.`;
  const refused: [string, string[]][] = [
    [
      "http-response redirect prefix /x",
      [rule("http-response redirect", "response only supports redirect type 'location'")],
    ],
    ["http-response redirect location", [rule("http-response redirect", "missing argument for 'location'")]],
    ["http-response return status 100", [rule("http-response return", "Unexpected status code '100'")]],
    ["http-response return foo", [condition("http-response return", "foo")]],
    ["http-request early-hint X", [rule("http-request early-hint", "expects exactly 2 arguments")]],
    ['http-request early-hint "" y', [rule("http-request early-hint", "expects exactly 2 arguments")]],
    ["http-request early-hint X y z", [condition("http-request early-hint", "z")]],
    [
      "http-request early-hint X %[res.hdr(a)]",
      [
        rule(
          "http-request early-hint",
          "sample fetch <res.hdr(a)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here",
        ),
      ],
    ],
    ["http-request early-hint X y if TRUE", []],
  ];
  for (const [line, alerts] of refused) assert.deepEqual(alertsFor(line), alerts, line);
});
