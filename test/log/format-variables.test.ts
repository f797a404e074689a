// Log-format variables where haproxy 2.6.12 writes them besides log lines: in rules' arguments, as
// each side's rules run; and the variables of a server connection (%si, %bi...), the frontend's log
// counter, the data and user times, each compared with what haproxy printed for the same exchanges.
process.env.TZ = "UTC";

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Client,
  DEFAULTS,
  exchange,
  headServer,
  httpBackend,
  loggedDefaults,
  sleep,
  startProxy,
  syslogReceiver,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";

test("rules' arguments write log variables as they stand when the rule runs, samples unquoted and escaped", async () => {
  const b = await httpBackend("b");
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  unique-id-format %{+X}o\\ %ci_%rt
  http-request set-header X-A "%ci|%fi|%f|%b|%s|%ac|%fc|%bc|%sc|%ST|%rt|%ID|%HM|%HPO|%si|%sp|%bi|%Td|%{+Q}si|%{+M}si"
  http-request set-header X-D "a  b %[req.hdr(nope)] c %{+Q}ci %{+Q}[req.hdr(host)]"
  http-request set-header X-U %[path,url_dec]
  http-request set-var-fmt(txn.v) "%{+Q}[req.hdr(host)]"
  http-request set-header X-V %[var(txn.v)]
  default_backend bk
backend bk
  http-response set-header Y-A "%b|%s|%bc|%sc|%ST|%si:%sp|%ID"
  server s1 127.0.0.1:${b.port}
`);
  try {
    const out = await exchange(p.port, "GET /a%01b%0d%0a?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const sent = b.seen[0]!.headers;
    const value = (name: string) => sent[sent.indexOf(name) + 1];
    // At the request's rules no backend, server or status yet; the stream is numbered, its id not made.
    assert.match(
      value("X-A")!,
      /^127\.0\.0\.1\|127\.0\.0\.1\|f\|f\|<NOSRV>\|1\|1\|0\|0\|-1\|\d+\|\|GET\|\/a%01b%0d%0a\|\|\|\|-1\|""\|-$/,
    );
    assert.equal(value("X-D"), 'a  b  c "127.0.0.1" h');
    assert.equal(value("X-U"), "/a%01b%0D%0A");
    assert.equal(value("X-V"), '"h"');
    const id = /^Y-A: bk\|s1\|1\|1\|200\|127\.0\.0\.1:(\d+)\|7F000001_(\w+)\r$/m.exec(out);
    assert.ok(id, out);
    assert.equal(Number(id[1]), b.port);
  } finally {
    await p.stop();
    await b.close();
  }
});

test("%si %sp %bi %bp %lc %Td %Tu %HPO and +M in a log line", async () => {
  const rx = await syslogReceiver();
  const ports: number[] = [];
  const b = await httpBackend("b", (req, res) => {
    ports.push(req.socket.remotePort!);
    res.end("ok");
  });
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  option http-server-close
  log-format "%si:%sp|%bi:%bp|%lc|%{+X}lc|%HPO|%{+Q}HPO|%{-M}CC|%{+M}CC|%{+Q}si|%{+X}si|%Td|%Tu|%ST"
  use_backend none if { path /none }
  default_backend bk
backend none
backend bk
  server s1 127.0.0.1:${b.port}
`);
  try {
    const c = new Client(p.port);
    const ask = async (line: string) => {
      c.send(`${line}\r\nHost: h\r\n\r\n`);
      await c.response();
    };
    await ask("GET /p/q?x=1 HTTP/1.1");
    await ask("GET /none HTTP/1.1");
    await ask("OPTIONS * HTTP/1.1");
    await ask("GET http://h/abs/p?q HTTP/1.1");
    c.close();
    const at = `127.0.0.1:${b.port}`;
    const lines = [0, 1, 2, 3].map((n) => rx.take(new RegExp(`\\|${n}\\|000${n}\\|`)));
    const [first, none, star, abs] = await Promise.all(lines);
    assert.match(
      first!,
      new RegExp(
        `^${at}\\|127\\.0\\.0\\.1:${ports[0]}\\|0\\|0000\\|/p/q\\|"/p/q"\\|\\|-\\|"127\\.0\\.0\\.1"\\|7F000001\\|\\d+\\|\\d+\\|200$`,
      ),
    );
    assert.match(none!, /^-:-\|-:-\|1\|0001\|\/none\|"\/none"\|\|-\|""\|-\|-1\|\d+\|503$/);
    assert.match(star!, new RegExp(`^${at}\\|127\\.0\\.0\\.1:${ports[1]}\\|2\\|0002\\|\\|""\\|`));
    assert.match(abs!, new RegExp(`^${at}\\|127\\.0\\.0\\.1:${ports[2]}\\|3\\|0003\\|/abs/p\\|`));
  } finally {
    await p.stop();
    await b.close();
    await rx.close();
  }
});

test("a kept-alive connection's next request is dated from the end of the one before; Connect from, per request", async () => {
  const rx = await syslogReceiver();
  let slow = true;
  const b = await httpBackend("b", (_req, res) => {
    const wait = slow ? 300 : 0;
    slow = false;
    setTimeout(() => res.end("ok"), wait);
  });
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}  log global
frontend f
  bind 127.0.0.1:1
  log-format "at=%Ts%ms Tt=%Tt Ti=%Ti Tu=%Tu %HP"
  default_backend bk
frontend plain
  bind 127.0.0.1:1
  default_backend bk
backend bk
  server s1 127.0.0.1:${b.port}
`);
  try {
    const c = new Client(p.port);
    c.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");
    await c.response();
    await sleep(100);
    c.send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
    await c.response();
    c.close();
    const parse = (l: string) =>
      l
        .match(/^at=(\d+) Tt=(\d+) Ti=(\d+) Tu=(\d+)/)!
        .slice(1)
        .map(Number);
    const [at1, tt1] = parse(await rx.take(/ \/1$/));
    const [at2, tt2, ti2, tu2] = parse(await rx.take(/ \/2$/));
    // As haproxy 2.6.12: the first stream takes the server's 300 ms; the second starts as it ends,
    // waits 100 ms for its request (Ti), and counts nothing of the first.
    assert.ok(tt1! >= 300, `Tt ${tt1}`);
    assert.ok(at2! >= at1! + 300 && at2! <= at1! + tt1! + 5, `${at1} + ${tt1} -> ${at2}`);
    assert.ok(ti2! >= 90 && tt2! >= ti2! && tt2! < 300, `Tt ${tt2} Ti ${ti2}`);
    assert.equal(tu2, tt2! - ti2!);

    // Without a log format: a "Connect from" line for each request read, none for a connection
    // that sends nothing or a request that cannot be read.
    const plain = p.ports[1]!;
    await exchange(plain, "");
    await exchange(plain, "BAD\r\n\r\n");
    await exchange(
      plain,
      "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    const connect = /^Connect from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(plain\/HTTP\)$/;
    await rx.take(connect);
    await rx.take(connect);
    await sleep(100);
    assert.deepEqual(
      rx.lines.filter((l) => l.startsWith("Connect")),
      [],
    );
  } finally {
    await p.stop();
    await b.close();
    await rx.close();
  }
});

test("http-request and http-response capture, declare capture: slots in declaration order, as haproxy logs them", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b", (_req, res) => res.end("ninety-nine chars?"));
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  capture request header Host len 10
  http-request capture req.hdr(User-Agent) len 5
  capture request header X len 3
  declare capture request len 4
  declare capture response len 6
  http-request capture path id 3
  http-request capture req.hdr(nope) len 2
  http-response capture res.hdr(Content-Length) id 0
  capture response header Content-Type len 4
  log-format "%hr|%hs"
  default_backend bk
backend bk
  server s1 127.0.0.1:${b.port}
`);
  try {
    const ask = (path: string, headers: string) =>
      exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:1\r\n${headers}Connection: close\r\n\r\n`);
    await ask("/some/path", "User-Agent: curl/7.88.1\r\nX: abcdef\r\n");
    assert.equal(await rx.take(/curl/), "{127.0.0.1:|curl/|abc|/som|}|{18|}");
    await ask("/p", "User-Agent: Mozilla\r\n");
    assert.equal(await rx.take(/Mozil/), "{127.0.0.1:|Mozil||/p|}|{18|}");
    // A header sent twice: its last value, as haproxy's.
    await ask("/twice", "User-Agent: Twice\r\nX: first\r\nX: second\r\n");
    assert.equal(await rx.take(/Twice/), "{127.0.0.1:|Twice|sec|/twi|}|{18|}");
  } finally {
    await p.stop();
    await b.close();
    await rx.close();
  }
  const alerts = (lines: string) =>
    parseConfig([{ name: "t.cfg", text: `${DEFAULTS}frontend f\n  bind :1\n${lines}` }])
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => d.message);
  assert.deepEqual(alerts("  http-request capture path id 7\n"), [
    "Proxy 'f': unable to find capture id '7' referenced by http-request capture rule.",
  ]);
  assert.deepEqual(alerts("  http-response capture res.hdr(x) len 3\n"), [
    "error detected in frontend 'f' while parsing 'http-response capture' rule : expects 'id', found 'len'.",
  ]);
  assert.deepEqual(alerts("  http-request capture res.hdr(x) len 3\n"), [
    "error detected in frontend 'f' while parsing 'http-request capture' rule : fetch method 'res.hdr(x)' extracts information from 'HTTP response headers', none of which is available here.",
  ]);
  assert.deepEqual(alerts("  declare capture request len x\n"), [
    "'declare capture': cannot parse the length 'len'.",
  ]);
});

test("a rule's request-line variables write the line as read, after a rewrite and without logging", async () => {
  const heads: string[] = [];
  // The first answer takes 60 ms: the next request's %Tt must not carry them.
  const srv = await headServer((head, s) => {
    heads.push(head);
    const answer = () => s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    if (heads.length === 1) setTimeout(answer, 60);
    else answer();
  });
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-path /new
  http-request set-header X-HU "%HU|%r|%HM"
  http-response set-header X-Tt "%Tt %tsc"
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const c = new Client(p.port);
    for (const path of ["/orig", "/again"]) {
      c.send(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      const r = await c.response();
      // As haproxy 2.6.12: the line the client sent; a later request's times are its own.
      assert.match(r.head, /\r\nX-Tt: 0 ----$/);
    }
    c.close();
    assert.match(heads[0]!, /^GET \/new HTTP\/1\.1\r\n[^]*\r\nX-HU: \/orig\|GET \/orig HTTP\/1\.1\|GET\r\n/);
    assert.match(heads[1]!, /\r\nX-HU: \/again\|GET \/again HTTP\/1\.1\|GET\r\n/);
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("a request line past 1023 characters is kept cut, as haproxy keeps it: %HU, %r and %HV from what is left", async () => {
  const heads: string[] = [];
  const srv = await headServer((head, s) => {
    heads.push(head);
    s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-header X-HU %HU
  http-request set-header X-R %r
  http-request set-header X-HV %HV
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const path = "/" + "a".repeat(3000) + "?q=1";
    await exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    const value = (name: string) => new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`).exec(heads[0]!)![1]!;
    // haproxy 2.6.12 sent 1019 characters of target, the 1023-character line, and HTTP/0.9.
    assert.equal(value("X-HU"), path.slice(0, 1019));
    assert.equal(value("X-R"), `GET ${path}`.slice(0, 1023));
    assert.equal(value("X-HV"), "HTTP/0.9");
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("capture.res.ver: the server's response's version, in a rule and a log line; none for the proxy's own answers", async () => {
  const rx = await syslogReceiver();
  const srv = await headServer((head, s) =>
    s.write(`HTTP/1.${head.includes("/v10") ? 0 : 1} 200 OK\r\nContent-Length: 2\r\n\r\nok`),
  );
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  log global
  log-format "%r V=%[capture.res.ver] S=%ST"
  http-response set-header X-RV %[capture.res.ver]
  http-request deny if { path /deny }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const answers: string[] = [];
    for (const path of ["/a", "/v10", "/deny"])
      answers.push(await exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
    assert.match(answers[0]!, /\r\nX-RV: HTTP\/1\.1\r\n/);
    assert.match(answers[1]!, /\r\nX-RV: HTTP\/1\.0\r\n/);
    // What haproxy 2.6.12 logged for the same three requests.
    assert.equal(await rx.take(/^GET \/a /), "GET /a HTTP/1.1 V=HTTP/1.1 S=200");
    assert.equal(await rx.take(/^GET \/v10 /), "GET /v10 HTTP/1.1 V=HTTP/1.0 S=200");
    assert.equal(await rx.take(/^GET \/deny /), "GET /deny HTTP/1.1 V=- S=403");
  } finally {
    await p.stop();
    await srv.close();
    await rx.close();
  }
});

test("tune.http.logurilen sets how much of the request line is kept", async () => {
  const heads: string[] = [];
  const srv = await headServer((head, s) => {
    heads.push(head);
    s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  const p = await startProxy(`global
  tune.http.logurilen 20
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-header X-R %r
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    await exchange(p.port, `GET /h1/${"a".repeat(40)} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    // What haproxy 2.6.12 logged with the same setting: "GET /h1/aaaaaaaaaaaa".
    assert.match(heads[0]!, /\r\nX-R: GET \/h1\/a{12}\r\n/);
  } finally {
    await p.stop();
    await srv.close();
  }
});

test("capture.req.method, .uri, .ver, capture.req.hdr and capture.res.hdr: what the log keeps, on the response's side too", async () => {
  const rx = await syslogReceiver();
  const srv = await headServer((head, s) => {
    const body = head.startsWith("HEAD") ? "" : "x".repeat(86);
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${head.startsWith("HEAD") ? 46 : 86}\r\n\r\n${body}`);
  });
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  log global
  capture request header Host len 20
  capture response header Content-Length len 5
  http-request set-path /new
  log-format "%[capture.req.method] %[capture.req.uri] %[capture.req.ver] %[capture.req.hdr(0)] %[capture.res.hdr(0)] %[capture.req.hdr(5)]"
  http-response set-header X-Uri "%[capture.req.uri]|%[capture.req.method]|%[capture.req.hdr(0)]|%[capture.res.hdr(0)]"
  default_backend b
frontend g
  bind 127.0.0.1:1
  http-request set-path /new
  http-response set-header X-Uri "%[capture.req.uri]|%[capture.req.method]|%[capture.req.ver]"
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const [f, g] = p.ports;
    const uri = async (port: number, req: string) =>
      /\r\nX-Uri: ([^\r]*)\r\n/.exec(await exchange(port, req))?.[1];
    // As haproxy 2.6.12 answered and logged the same requests: the target as sent, before set-path.
    assert.equal(
      await uri(f!, "GET /orig?x=1 HTTP/1.1\r\nHost: h:1\r\nConnection: close\r\n\r\n"),
      "/orig?x=1|GET|h:1|86",
    );
    assert.equal(await uri(f!, "HEAD /h HTTP/1.0\r\n\r\n"), "/h|HEAD||46");
    assert.equal(await rx.take(/^GET/), "GET /orig?x=1 HTTP/1.1 h:1 86 -");
    assert.equal(await rx.take(/^HEAD/), "HEAD /h HTTP/1.0 - 46 -");
    // A frontend that logs nothing keeps the line too, for the fetch.
    assert.equal(
      await uri(g!, "GET /orig?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
      "/orig?x=1|GET|HTTP/1.1",
    );
  } finally {
    await p.stop();
    await srv.close();
    await rx.close();
  }
});
