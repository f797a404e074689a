// http-request / http-response actions end to end, and the order haproxy evaluates them in:
// frontend http-request rules, then use_backend, then the chosen backend's http-request rules.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  closed,
  scratchDir,
  startProxy,
  headServer,
  rawServer,
  httpBackend,
  exchange,
  Client,
  DEFAULTS,
  syslogReceiver,
  loggedDefaults,
  waitFor,
  type Backend,
  type Proxy,
  type SyslogReceiver,
  alertsFor,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

let web: Backend;
let api: Backend;
let p: Proxy;

const page = join(scratchDir("rules"), "maintenance.html");
writeFileSync(page, "<p>back soon ✓</p>\n");

before(async () => {
  web = await httpBackend("web", (req, res) => {
    res.setHeader("X-Seen-Path", req.url ?? "");
    res.setHeader("X-Seen-Method", req.method ?? "");
    res.setHeader("X-Secret", "42");
    res.end("web");
  });
  api = await httpBackend("api");
  cleanup.push(web.close, api.close);
  p = await startProxy(`${DEFAULTS}
  timeout tarpit 200ms
frontend f
  bind 127.0.0.1:1
  http-request deny deny_status 429 content-type text/plain string "slow down" if { path_beg /limited }
  http-request tarpit if { path_beg /trap }
  http-request deny deny_status 410 if { path /gone }
  http-request deny status 400 if { path /bare }
  http-request deny deny_status 400 if { path /bad }
  http-request deny deny_status 407 if { path /page407 }
  http-request return status 502 if { path /r502 }
  http-request return status 200 content-type text/plain string "pong" if { path /ping }
  http-request return status 503 content-type "text/html; charset=utf-8" file ${page} if { path /maintenance }
  http-request redirect location https://example.com/new code 301 if { path /old }
  http-request redirect prefix /v2 if { path_beg /legacy }
  http-request set-header X-Frontend f
  http-request add-header X-Added one
  http-request add-header X-Added two
  http-request del-header X-Remove-Me
  http-request replace-header User-Agent (.*)bot(.*) \\1BOT\\2
  http-request set-path /rewritten if { path /to-rewrite }
  http-request set-method PUT if { path /to-put }
  http-response del-header X-Secret
  http-response set-header X-Proxy sluice
  # use_backend sees the frontend's rewrites: the path was rewritten above.
  use_backend api if { path_beg /api } || { hdr(X-Frontend) -m str api }
  use_backend web if { path /rewritten }
  default_backend web
backend web
  http-request deny if { path /backend-deny } { hdr(X-Frontend) -m str f }
  http-response deny if { status 418 }
  server w 127.0.0.1:${web.port}
backend api
  http-request set-header X-Backend api
  server a 127.0.0.1:${api.port}
frontend nothing
  bind 127.0.0.1:1
`);
  cleanup.push(p.stop);
});

const get = (path: string, headers = "", port = p.port) =>
  exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
const status = (t: string): number => Number(t.slice(9, 12));
const seenHeaders = (b: Backend): string[] => b.seen.at(-1)!.headers;

test("deny with a status and a body; tarpit holds the client, then 500", async () => {
  const d = await get("/limited");
  assert.equal(status(d), 429);
  assert.match(d, /content-type: text\/plain/);
  assert.ok(d.endsWith("slow down"));
  // A body the rule wrote is sent as is, marked neither way (haproxy 2.6.12); an error page is no-cache.
  assert.doesNotMatch(d, /cache-control/i);
  // The newer `status` word: no page at all (haproxy 2.6.12 sends exactly this head).
  const bare = await get("/bare");
  assert.equal(bare, "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  // Reason phrases: haproxy's error pages have their own (407 "Unauthorized"), rule replies its
  // general table (502 "Bad Gateway or Proxy Error").
  assert.match(await get("/page407"), /^HTTP\/1\.1 407 Unauthorized\r\n/);
  assert.match(await get("/r502"), /^HTTP\/1\.1 502 Bad Gateway or Proxy Error\r\n/);
  // haproxy's 400 page says Connection: close, and means it, even to a keep-alive client.
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n");
  const bad = await c.response();
  assert.equal(bad.status, 400);
  assert.match(bad.head, /\r\nconnection: close(\r\n|$)/);
  await waitFor(() => c.closed, 3000, "the close after the 400 page");
  const gone = await get("/gone");
  assert.equal(status(gone), 410);
  assert.match(
    gone,
    /\r\ncache-control: no-cache\r\n[^]*\r\n\r\n<html><body><h1>410 Gone<\/h1>\n.+\n<\/body><\/html>\n$/,
  );
  const t0 = Date.now();
  const t = await get("/trap");
  assert.equal(status(t), 500);
  assert.ok(Date.now() - t0 >= 180, `held ${Date.now() - t0} ms`);
});

test("return and redirect answer from the proxy and keep the connection", async () => {
  const c = new Client(p.port);
  c.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body, "pong");
  assert.doesNotMatch(r.head, /cache-control/i);
  c.send("GET /maintenance HTTP/1.1\r\nHost: x\r\n\r\n");
  const m = await c.response();
  assert.equal(m.status, 503);
  assert.equal(Buffer.from(m.body, "latin1").toString("utf8"), "<p>back soon ✓</p>\n");
  c.send("GET /old HTTP/1.1\r\nHost: x\r\n\r\n");
  const r2 = await c.response();
  assert.equal(r2.status, 301);
  assert.match(r2.head, /\r\nlocation: https:\/\/example\.com\/new/);
  c.send("GET /legacy/page?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  const r3 = await c.response();
  assert.equal(r3.status, 302);
  assert.match(r3.head, /\r\nlocation: \/v2\/legacy\/page\?x=1/);
  assert.equal(c.closed, false);
  c.close();
});

test("header and start-line rewrites reach the server; response rules edit the answer", async () => {
  const r = await get("/h", "X-Remove-Me: yes\r\nUser-Agent: googlebot/2\r\nX-Frontend: client\r\n");
  assert.equal(status(r), 200);
  const h = seenHeaders(web);
  const values = (name: string) => h.filter((_, i) => i % 2 === 1 && h[i - 1]!.toLowerCase() === name);
  assert.deepEqual(values("x-frontend"), ["f"], "set-header replaces");
  assert.deepEqual(values("x-added"), ["one", "two"]);
  assert.deepEqual(values("x-remove-me"), []);
  assert.deepEqual(values("user-agent"), ["googleBOT/2"]);
  assert.doesNotMatch(r, /X-Secret/i);
  assert.match(r, /\r\nX-Proxy: sluice\r\n/);

  const rw = await get("/to-rewrite?q=1");
  assert.match(rw, /X-Seen-Path: \/rewritten\?q=1/);
  const put = await get("/to-put");
  assert.match(put, /X-Seen-Method: PUT/);
});

test("evaluation order: frontend rules, then use_backend, then the backend's rules", async () => {
  const r = await get("/api/x");
  assert.equal(status(r), 200);
  const h = seenHeaders(api);
  assert.ok(h.includes("X-Backend") && h.includes("X-Frontend"));
  // The backend's deny sees the frontend's add-header.
  const web0 = web.seen.length;
  assert.equal(
    status(await get("/w", "X-Added: forbidden\r\n")),
    200,
    "the frontend's add-header comes after",
  );
  assert.equal(web.seen.length, web0 + 1);
});

test("a frontend with neither use_backend nor default_backend answers 503", async () => {
  assert.equal(status(await get("/", "", p.ports[1]!)), 503);
});

// The expectations of the two tests below were verified against haproxy 2.6.12: the same rules in
// a haproxy frontend and the same raw requests from Node over 127.0.0.1, side by side.

test("redirect scheme and prefix: the Location and status haproxy 2.6 sends", async () => {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request redirect scheme https code 301 if { path_beg /s301/ }
  http-request redirect scheme http code 308 if { path_beg /s308/ }
  http-request redirect scheme https if { path_beg /s/ } || METH_OPTIONS
  http-request redirect prefix /v2/ if { path_beg /ps/ }
  http-request redirect prefix / if { path_beg /root/ }
  http-request redirect prefix https://new.example code 303 if { path_beg /abs/ }
  http-request redirect prefix /v2 if { path_beg /p/ }
  http-request return status 200
`);
  try {
    const cases: [request: string, statusLine: string, location: string | undefined][] = [
      // scheme: the Host header as sent (port and case kept, default ports too), then path and query
      ["GET /s/a?q=1&r=2 HTTP/1.1\r\nHost: example.com", "302 Found", "https://example.com/s/a?q=1&r=2"],
      ["GET /s/a?q=1 HTTP/1.1\r\nHost: example.com:8080", "302 Found", "https://example.com:8080/s/a?q=1"],
      ["GET /s/a?q=1 HTTP/1.1\r\nHost: example.com:443", "302 Found", "https://example.com:443/s/a?q=1"],
      ["GET /s/ HTTP/1.1\r\nHost: [::1]:8443", "302 Found", "https://[::1]:8443/s/"],
      ["GET /s301/x HTTP/1.1\r\nHost: Example.COM", "301 Moved Permanently", "https://Example.COM/s301/x"],
      [
        "GET /s308/x?y HTTP/1.1\r\nHost: example.com:443",
        "308 Permanent Redirect",
        "http://example.com:443/s308/x?y",
      ],
      ["GET /s/a HTTP/1.0", "302 Found", "https:///s/a"], // no Host: nothing between // and the path
      // absolute-form: the Host header and the path; not the request-target's scheme and authority
      [
        "GET http://other.example/s/a?z=9 HTTP/1.1\r\nHost: other.example",
        "302 Found",
        "https://other.example/s/a?z=9",
      ],
      ["OPTIONS * HTTP/1.1\r\nHost: h:81", "302 Found", "https://h:81/"], // no path: "/"
      // prefix: used as written (a trailing '/' doubles), except that "/" adds nothing
      ["GET /ps/a?x=1 HTTP/1.1\r\nHost: h", "302 Found", "/v2//ps/a?x=1"],
      ["GET /root/a?x=1 HTTP/1.1\r\nHost: h", "302 Found", "/root/a?x=1"],
      ["GET /abs/a?x=1 HTTP/1.1\r\nHost: h", "303 See Other", "https://new.example/abs/a?x=1"],
      ["GET http://h/p/a?x=1 HTTP/1.1\r\nHost: h", "302 Found", "/v2/p/a?x=1"],
      ["GET /other HTTP/1.1\r\nHost: h", "200 OK", undefined],
    ];
    for (const [request, statusLine, location] of cases) {
      const close = request.includes("HTTP/1.0") ? "" : "\r\nConnection: close";
      const r = await exchange(q.port, `${request}${close}\r\n\r\n`);
      const head = r.slice(0, r.indexOf("\r\n\r\n") + 2);
      assert.equal(head.slice(0, head.indexOf("\r\n")), `HTTP/1.1 ${statusLine}`, request);
      const locations = [...head.matchAll(/\r\nlocation: ([^\r]*)/gi)].map((m) => m[1]);
      assert.deepEqual(locations, location === undefined ? [] : [location], request);
      // Permanent redirects are cacheable: haproxy sends no cache-control with 301 and 308.
      if (location !== undefined)
        assert.equal(/\r\ncache-control: no-cache\r\n/.test(head), !/^30[18] /.test(statusLine), request);
    }
  } finally {
    await q.stop();
  }
});

test("set-header and del-header act on every occurrence in any case, on both sides", async () => {
  const b = await httpBackend("b", (_req, res) => {
    res.setHeader("X-Dup", ["a", "b"]);
    res.setHeader("X-Gone", ["1", "2"]);
    res.setHeader("X-Keep", "k");
    res.end("ok");
  });
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-header X-Set new
  http-request del-header X-Del
  http-request set-header x-case Lower
  http-request add-header X-Add added
  http-request set-header X-Add replaced if { hdr(x-trigger) 1 }
  http-response set-header X-Dup one
  http-response del-header x-gone
  http-response set-header X-New fresh
  http-response add-header X-Keep k2
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
`);
  try {
    const r = await exchange(
      q.port,
      "GET /h HTTP/1.1\r\nHost: h\r\nX-Set: a\r\nx-set: b\r\nX-Del: 1\r\nx-del: 2\r\nX-Delete-Not: keep\r\n" +
        "X-Case: Upper\r\nX-Add: client\r\nX-Trigger: 1\r\nConnection: close\r\n\r\n",
    );
    assert.equal(r.slice(9, 12), "200");
    // What the server saw, in order (haproxy appends what set-header and add-header write).
    const raw = b.seen.at(-1)!.headers;
    const seen: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.toLowerCase() !== "connection") seen.push(`${raw[i]!.toLowerCase()}: ${raw[i + 1]}`);
    assert.deepEqual(seen, [
      "host: h",
      "x-delete-not: keep",
      "x-trigger: 1",
      "x-set: new",
      "x-case: Lower",
      "x-add: replaced", // set-header also replaces what an earlier add-header added
    ]);
    // What the client got: the server's X- headers after the http-response rules, in order.
    const got = r
      .slice(0, r.indexOf("\r\n\r\n"))
      .split("\r\n")
      .slice(1)
      .filter((l) => /^x-/i.test(l))
      .map((l) => l.replace(/^[^:]+/, (n) => n.toLowerCase()));
    assert.deepEqual(got, ["x-keep: k", "x-dup: one", "x-new: fresh", "x-keep: k2"]);
  } finally {
    await q.stop();
    await b.close();
  }
});

test("values rules write keep their blanks; the sender's lines still leave as name: value", async () => {
  const seen: string[] = [];
  const srv = await headServer((head, s) => {
    seen.push(head);
    s.write("HTTP/1.1 200 OK\r\nX-S:s  \r\nContent-Length: 2\r\n\r\nok");
  });
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-header X-A " a "
  http-response set-header X-B "b "
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const c = new Client(q.port);
    c.send("GET / HTTP/1.1\r\nHost:h\r\nX-C:  c\r\n\r\n");
    const text = await c.until((t) => t.endsWith("ok"));
    c.close();
    // haproxy 2.6 writes a set-header value as given, after "name: ".
    assert.equal(seen[0], "GET / HTTP/1.1\r\nHost: h\r\nX-C: c\r\nX-A:  a \r\n\r\n");
    assert.equal(text, "HTTP/1.1 200 OK\r\nX-S: s\r\nContent-Length: 2\r\nX-B: b \r\n\r\nok");
  } finally {
    await q.stop();
    await srv.close();
  }
});

test("replace-header: a match anywhere replaces the whole value, in place; %% is a percent sign", async () => {
  const b = await httpBackend("b");
  // What haproxy 2.6 sent to the server for the same config and request (compared without case).
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request replace-header X-A 2 Z\\3\\1
  http-request replace-header X-B ^(a)(b)?-(.*)$ <\\3\\2\\1\\x41\\\\>
  http-request set-header X-P 50%%
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
`);
  try {
    const r = await exchange(
      q.port,
      "GET / HTTP/1.1\r\nHost: h\r\nX-a: 1\r\nX-Other: y\r\nx-A: 123\r\nX-B: a-c\r\nConnection: close\r\n\r\n",
    );
    assert.equal(r.slice(9, 12), "200");
    const raw = b.seen.at(-1)!.headers;
    const seen: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i] !== "Connection") seen.push(`${raw[i]}: ${raw[i + 1]}`);
    assert.deepEqual(seen, ["Host: h", "X-a: 1", "X-Other: y", "x-A: Z", "X-B: <caA>", "X-P: 50%"]);
  } finally {
    await q.stop();
    await b.close();
  }
});

test("log-format arguments: %[...] sample expressions for each request, on both sides, as haproxy 2.6.12 sends them", async () => {
  const b = await httpBackend("b", (_req, res) => {
    res.setHeader("X-Len", "7");
    res.end("payload");
  });
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-header X-Src %[src]
  http-request set-header X-Host %[req.hdr(host),lower]
  http-request set-header X-None %[req.hdr(nope)]
  http-request set-header X-Mix "p=%[path] m=%[method]%%  end"
  http-request set-header X-Count %[req.hdr(x-count)]+1
  http-request replace-header X-Tag ^(.*)$ %[method]-\\1
  http-request set-path /v2%[path] if { path_beg /api }
  http-request redirect location http://%[req.hdr(host),lower]/moved if { path /old }
  http-response set-header X-Got %[res.hdr(x-len)]/%[hdr(x-len)]/%[status]
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
`);
  try {
    const r = await exchange(
      q.port,
      "GET /api/x HTTP/1.1\r\nHost: WWW.Example.com\r\nX-Count: 3\r\nX-Tag: t\r\nConnection: close\r\n\r\n",
    );
    assert.match(r, /\r\nX-Got: 7\/7\/200\r\n/);
    const seen = b.seen.at(-1)!;
    assert.equal(seen.url, "/v2/api/x");
    const raw = seen.headers;
    const hdrs: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.startsWith("X-")) hdrs.push(`${raw[i]}: ${raw[i + 1]}`);
    assert.deepEqual(hdrs, [
      "X-Tag: GET-t",
      "X-Src: 127.0.0.1",
      "X-Host: www.example.com",
      "X-None: ",
      "X-Mix: p=/api/x m=GET%  end",
      "X-Count: 3+1",
    ]);
    assert.match(
      await exchange(q.port, "GET /old HTTP/1.1\r\nHost: A.Example\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 302 Found\r\n(.*\r\n)*location: http:\/\/a\.example\/moved\r\n/,
    );
  } finally {
    await q.stop();
    await b.close();
  }
});

test("a reply's lf-string body and hdr lines are built for each request (a CORS preflight), as haproxy 2.6.12 sends them", async () => {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "ip=%[src] host=%[req.hdr(host)]" if { path /a }
  http-request return status 204 hdr Access-Control-Allow-Origin "*" hdr Access-Control-Allow-Methods "GET, POST" hdr X-Empty %[req.hdr(nope)] if { method OPTIONS }
  http-request deny status 403 content-type text/plain string denied hdr X-Reason "%[path]" if { path /c }
  http-request return status 200 content-type text/plain lf-string "%[req.hdr(nope)]" if { path /d }
  http-request return status 200 content-type text/plain string ok hdr Connection close if { path /f }
  default_backend b
backend b
  server s 127.0.0.1:1
`);
  try {
    const c = new Client(q.port);
    c.send(
      ["GET /a", "OPTIONS /x", "GET /c", "GET /d"].map((l) => `${l} HTTP/1.1\r\nHost: H1\r\n\r\n`).join(""),
    );
    const all =
      "HTTP/1.1 200 OK\r\ncontent-length: 20\r\ncontent-type: text/plain\r\n\r\nip=127.0.0.1 host=H1" +
      "HTTP/1.1 204 No Content\r\naccess-control-allow-origin: *\r\naccess-control-allow-methods: GET, POST\r\n\r\n" +
      "HTTP/1.1 403 Forbidden\r\nx-reason: /c\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\ndenied" +
      "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    assert.equal(await c.until((t) => t.length >= all.length), all);
    c.close();
    // A Connection line is the connection's business: it says close, and the connection closes.
    assert.equal(
      await exchange(q.port, "GET /f HTTP/1.1\r\nHost: H1\r\n\r\n"),
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nok",
    );
  } finally {
    await q.stop();
  }
});

test("redirect options and the redirect keyword, evaluated after the proxy's http-request rules, as haproxy 2.6.12 sends them", async () => {
  const b = await httpBackend("b");
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request allow if { path /g }
  http-request redirect prefix /new drop-query append-slash if { path_beg /a }
  http-request redirect scheme https code 301 set-cookie SEEN=1 if { path_beg /b }
  http-request redirect location %[req.hdr(x-to)] ignore-empty if { path_beg /c }
  http-request deny deny_status 404 if { path_beg /c }
  redirect location /static%[x] code 307 clear-cookie OLD if { path_beg /d }
  redirect prefix http://other.example if { path_beg /e }
  redirect location /g2 if { path /g }
  use_backend b2 if { path /f }
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
backend b2
  redirect location /be
  server s 127.0.0.1:${b.port}
`);
  try {
    const c = new Client(q.port);
    const get = (target: string, extra = "") => `GET ${target} HTTP/1.1\r\nHost: H\r\n${extra}\r\n`;
    c.send(
      get("/a/x?q=1") +
        get("/b?z") +
        get("/c", "X-To: /there\r\n") +
        get("/d") +
        get("/e/1?2") +
        get("/f") +
        get("/g"),
    );
    const found = (to: string, extra = "") =>
      `HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: ${to}\r\ncache-control: no-cache\r\n${extra}\r\n`;
    const all =
      found("/new/a/x/") +
      "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: https://H/b?z\r\nset-cookie: SEEN=1; path=/;\r\n\r\n" +
      found("/there") +
      "HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /static%[x]\r\ncache-control: no-cache\r\nset-cookie: OLD; path=/; Max-Age=0;\r\n\r\n" +
      found("http://other.example/e/1?2") +
      found("/be") +
      found("/g2");
    assert.equal(await c.until((t) => t.length >= all.length), all);
    // ignore-empty: without X-To the redirect does nothing, and the next rule answers.
    c.send(get("/c"));
    assert.equal(
      (await c.until((t) => /404 /.test(t.slice(all.length)))).slice(all.length, all.length + 22),
      "HTTP/1.1 404 Not Found",
    );
    c.close();
    assert.equal(b.seen.length, 0);
  } finally {
    await q.stop();
    await b.close();
  }
});

test("monitor-uri: the frontend answers before any rule, 503 under monitor fail, and logs nothing", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  monitor-uri /health
  monitor fail if { req.hdr(x-fail) -m found }
  http-request deny if { path_beg /health }
  default_backend b
frontend g
  bind 127.0.0.1:1
  monitor-uri http://h/check
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
`);
  try {
    const [f, g] = q.ports;
    const c = new Client(f!);
    c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nHEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const head200 =
      "HTTP/1.1 200 OK\r\ncontent-length: 63\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n";
    const both = `${head200}<html><body><h1>200 OK</h1>\nThe proxy is alive.\n</body></html>\n${head200}`;
    assert.equal(await c.until((t) => t.length >= both.length), both);
    c.close();
    assert.match(
      await exchange(f!, "GET /health HTTP/1.1\r\nX-Fail: 1\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 503 /,
    );
    // The path and query are compared: this one is not the monitor's, and meets the deny.
    assert.match(
      await exchange(f!, "GET /health?a=1 HTTP/1.1\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 403 /,
    );
    // Without a leading slash, the whole target is compared.
    assert.match(
      await exchange(g!, "GET http://h/check HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 200 OK\r\n.*\r\n\r\n<html>/s,
    );
    assert.match(
      await exchange(g!, "GET /check HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
      /\r\n\r\nb$/,
    );
    // Only the two requests that were not the monitor's are logged.
    await waitFor(() => rx.lines.length >= 2, 2000, "two log lines");
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      rx.lines.map((l) => / (\d{3}) \d+ .*"(.*)"$/.exec(l)!.slice(1).join(" ")),
      ["403 GET /health?a=1 HTTP/1.1", "200 GET /check HTTP/1.1"],
    );
  } finally {
    await q.stop();
    await b.close();
    await rx.close();
  }
});

test("rewrites that outgrow a buffer get haproxy's 500 and the connection goes on; what rules write leaves byte for byte", async () => {
  const b = await httpBackend("b");
  const dir = scratchDir("bytes");
  const bin = join(dir, "bin.dat");
  writeFileSync(bin, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0x01]));
  const tpl = join(dir, "tpl.txt");
  writeFileSync(tpl, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x25, 0x5b, 0x70, 0x61, 0x74, 0x68, 0x5d])); // "caf\xe9 %[path]"
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type image/png file ${bin} if { path /bin }
  http-request return status 200 content-type text/plain lf-file ${tpl} if { path /tpl }
  http-request return status 200 content-type text/plain string "é€" hdr X-U "é" if { path /utf8 }
  http-request return status 200 content-type text/plain string "c\\x00d" hdr X-N "p\\x00q" if { path /nul }
  http-request redirect prefix %[req.hdr(x-p)] if { path_beg /p2 }
  http-request set-header X-Big "%[req.hdr(x-v)]%[req.hdr(x-v)]%[req.hdr(x-v)]%[req.hdr(x-v)]" if { path /big }
  default_backend b
backend b
  server s 127.0.0.1:${b.port}
`);
  try {
    const raw = async (req: string): Promise<Buffer> => {
      const s = net.connect(q.port, "127.0.0.1");
      const chunks: Buffer[] = [];
      s.on("data", (d: Buffer) => chunks.push(d));
      s.end(req);
      await closed(s);
      return Buffer.concat(chunks);
    };
    const body = (r: Buffer) => r.subarray(r.indexOf("\r\n\r\n") + 4);
    assert.deepEqual(
      body(await raw("GET /bin HTTP/1.1\r\nHost: x\r\n\r\n")),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0x01]),
    );
    assert.deepEqual(
      body(await raw("GET /tpl HTTP/1.1\r\nHost: x\r\n\r\n")),
      Buffer.from("caf\xe9 /tpl", "latin1"),
    );
    const utf8 = await raw("GET /utf8 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.deepEqual(body(utf8), Buffer.from("é€", "utf8"));
    assert.ok(utf8.includes(Buffer.from("x-u: é\r\n", "utf8")));
    // A NUL ends its word: haproxy 2.6.12 sends "c" and "p".
    const nul = (await raw("GET /nul HTTP/1.1\r\nHost: x\r\n\r\n")).toString("latin1");
    assert.match(nul, /\r\nx-n: p\r\n/i);
    assert.equal(nul.slice(nul.indexOf("\r\n\r\n") + 4), "c");
    // Only a prefix written as "/" adds nothing: one that comes out so is a prefix like any other.
    assert.match(
      (await raw("GET /p2?x HTTP/1.1\r\nHost: x\r\nX-P: /\r\n\r\n")).toString("latin1"),
      /\r\nlocation: \/\/p2\?x\r\n/,
    );
    // 3249 bytes four times fit (what the head weighs in haproxy's buffer: 16320 of 16384, 16322 at most);
    // one more does not, as with haproxy 2.6.12.
    const big = (n: number) =>
      `GET /big HTTP/1.1\r\nHost: x\r\nX-V: ${"a".repeat(n)}\r\nConnection: close\r\n\r\n`;
    assert.match((await raw(big(3249))).toString("latin1"), /^HTTP\/1\.1 200 /);
    const c = new Client(q.port);
    c.send(big(3255).replace("Connection: close\r\n", "") + "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
    const first = await c.response();
    assert.equal(first.status, 500);
    assert.equal((await c.response()).status, 200);
    c.close();
    assert.deepEqual(
      b.seen.map((r) => r.url),
      ["/big", "/after"],
    );
  } finally {
    await q.stop();
    await b.close();
  }
});

test("a response rewrite that outgrows a buffer is haproxy's 500 too, logged PH-- without Tr", async () => {
  const rx = await syslogReceiver();
  const srv = await headServer((_head, s) =>
    s.write(`HTTP/1.1 200 OK\r\nX-V: ${"a".repeat(3300)}\r\nContent-Length: 2\r\n\r\nok`),
  );
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-response set-header X-Big "%[res.hdr(x-v)]%[res.hdr(x-v)]%[res.hdr(x-v)]%[res.hdr(x-v)]"
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  try {
    const c = new Client(q.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal((await c.response()).status, 500);
    c.close();
    assert.match(await rx.take(/ 500 /), / f b\/s \d+\/\d+\/\d+\/-1\/\d+ 500 \d+ - - PH-- /);
  } finally {
    await q.stop();
    await srv.close();
    await rx.close();
  }
});

test("an ACL whose sample is not there never matches: request headers in http-response rules, as in haproxy 2.6.12", async () => {
  const b = await httpBackend("b");
  cleanup.push(b.close);
  const text = `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  acl mix path /x
  acl mix status 201
  http-response set-header X-Path yes if { path /x }
  http-response set-header X-Mix yes if mix
  http-response set-header X-Meth yes if METH_GET
  http-response set-header X-Status yes if { status 200 }
  http-response set-header X-Http yes if HTTP
  http-response set-header X-Len yes if REQ_CONTENT
  http-request set-header X-Req-Status yes if { status 200 }
  http-request set-header X-Be-Name yes if { be_name f }
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`;
  const warnings = parseConfig([{ name: "t.cfg", text }], {}).diagnostics.map(
    (d) => `${d.where?.line}: ${d.message}`,
  );
  assert.deepEqual(warnings, [
    "12: anonymous acl will never match because it uses keyword 'path' which is incompatible with 'frontend http-response header rule'",
    "13: acl 'mix' involves keywords 'path' which is incompatible with 'frontend http-response header rule'",
    "17: acl 'REQ_CONTENT' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'",
    "18: anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'",
    "19: anonymous acl will never match because it uses keyword 'be_name' which is incompatible with 'frontend http-request header rule'",
    "undefined: Proxy 'f': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:17).",
  ]);
  const q = await startProxy(text);
  cleanup.push(q.stop);
  const r = await get("/x", "", q.port);
  assert.equal(status(r), 200);
  const head = r.slice(0, r.indexOf("\r\n\r\n")).toLowerCase();
  // The method is kept for the response, the path is not (the mix ACL's path line cannot match),
  // HTTP finds no request, and req.len measures the response, whatever the warnings say.
  assert.deepEqual(
    ["x-path", "x-mix", "x-meth", "x-status", "x-http", "x-len"].filter((h) =>
      head.includes(`\r\n${h}: yes`),
    ),
    ["x-meth", "x-status", "x-len"],
  );
  const seen = seenHeaders(b).join(" ").toLowerCase();
  assert.doesNotMatch(seen, /x-req-status/);
  // Before a backend is chosen, be_name gives the frontend's name.
  assert.match(seen, /x-be-name yes/);
});

/** A proxy that logs to `rx`, its frontend with these rules before an HTTP backend `bk`. */
async function loggedRules(rules: string): Promise<{ rx: SyslogReceiver; q: Proxy }> {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const b = await httpBackend("b");
  cleanup.push(b.close);
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
${rules}
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(q.stop);
  return { rx, q };
}

test("a response denied by an http-response rule is logged without Tr, as haproxy 2.6.12 logs it", async () => {
  const { rx, q } = await loggedRules("  http-response deny if { status 200 }");
  assert.equal(status(await get("/", "", q.port)), 502);
  const line = await rx.take(/ "GET \/ HTTP\/1.1"/);
  assert.match(line, / bk\/s \d+\/0\/\d+\/-1\/\d+ 502 .* PH-- /);
});

test("empty conditions, as haproxy 2.6.12 reads them: `if` alone never holds, `unless` alone always does, an empty group or a lone `!` adds nothing", async () => {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 201 if
  http-request return status 202 if || { path /x } ||
  http-request return status 205 if { path /y } || or { path /z }
  http-request return status 206 if ! || { path /a } !
  http-request return status 207 if { path /c } OR ! { path /d } { path_beg /e }
  http-request return status 203 unless ||
  http-request return status 204
`);
  cleanup.push(q.stop);
  const codes: number[] = [];
  for (const path of ["/", "/x", "/y", "/z", "/a", "/c", "/d", "/e"])
    codes.push(status(await get(path, "", q.port)));
  assert.deepEqual(codes, [203, 202, 205, 205, 206, 207, 203, 207]);
});

test("set-uri, set-query, replace-path, replace-pathq and replace-uri rewrite their part of the target as haproxy 2.6.12 does; set-path keeps an absolute target's authority", async () => {
  const b = await httpBackend("b");
  cleanup.push(b.close);
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request replace-path /api/(.*) /v2/\\1 if { path_beg /api/ }
  http-request replace-uri ^/old(.*) /new\\1 if { path_beg /old }
  http-request set-uri /fixed?%[path] if { path /seturi }
  http-request set-query a=%[path] if { path_beg /q }
  http-request set-query %[req.hdr(x-none)] if { path_beg /eq }
  http-request replace-pathq /pq(.*) /PQ\\1 if { path_beg /pq }
  http-request set-path /sp if { path_beg /sp }
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(q.stop);
  // Each target, and the one haproxy sent on (recorded with the same rules).
  const cases: [string, string][] = [
    ["/api/x?y=1", "/v2/x?y=1"],
    ["/old/z?k=v", "/new/z?k=v"],
    ["/seturi?x", "/fixed?/seturi"],
    ["/q", "/q?a=/q"],
    ["/q?b=2", "/q?a=/q"],
    ["/eq?c=3", "/eq?"],
    ["/eq", "/eq"],
    ["/pq/a?b", "/PQ/a?b"],
    ["http://x/api/abs?q", "http://x/v2/abs?q"],
    ["http://x/sp/x?q", "http://x/sp?q"],
  ];
  for (const [target, sent] of cases) {
    assert.equal(status(await get(target, "", q.port)), 200, target);
    assert.equal(b.seen.at(-1)!.url, sent, target);
  }
  const said = (line: string) => alertsFor(`http-request ${line}`);
  assert.deepEqual(said("replace-path /a"), [
    "error detected in frontend 'f' while parsing 'http-request replace-path' rule : expects exactly 2 arguments <match-regex> and <replace-format>.",
  ]);
  assert.deepEqual(said("set-query a b"), [
    "error detected in frontend 'f' while parsing 'http-request set-query' rule : expects exactly 1 argument <format>.",
  ]);
  assert.match(
    said("replace-uri [ x")[0]!,
    /^error detected in frontend 'f' while parsing 'http-request replace-uri' rule : failed to parse the regex : regex '\[' is invalid \(/,
  );
  // replace-header's regex is checked as it is read too, in haproxy's words for that rule.
  assert.match(
    said("replace-header X [ y")[0]!,
    /^error detected in frontend 'f' while parsing 'http-request replace-header' rule : regex '\[' is invalid \(/,
  );
});

test("replace-value rewrites each comma-separated value the regex finds something in, and replace-header the whole value, on both sides, as haproxy 2.6.12 does", async () => {
  // The server answers with a list of values and echoes the request's head as its body.
  const srv = await headServer((head, s) => {
    const body = head.replace(/\r\n/g, "\n");
    s.write(
      `HTTP/1.1 200 OK\r\nCache-Control: no-cache, private,  max-age=0\r\nX-List: a, b,c ,"d,e", f,,g\r\n` +
        `X-Two: 1\r\nX-Two: 2, 3\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  });
  cleanup.push(srv.close);
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request replace-value X-Forwarded-For ^192\\.168\\.(.*)$ 172.16.\\1
  http-request replace-value X-Q ^(.*)$ (\\1)
  http-request replace-header X-H ^b ok-%[req.hdr_cnt(x-h)]
  http-response replace-value X-List ^(.*)$ [\\1] if { res.hdr(x-path) -m found } || TRUE
  http-response replace-value Cache-Control ^private$ public
  http-response replace-value X-Two ^(.)$ <\\1>-%[res.hdr_cnt(x-two)]
  default_backend bk
backend bk
  http-response replace-header X-Two ^2(.*)$ {2\\1}
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(q.stop);
  const res = await exchange(
    q.port,
    "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.168.10.1, 192.168.13.24,10.0.0.37 , 192.168.1.1\r\n" +
      'X-Q: "a,b\\",c" , d,\r\nX-H: a\r\nX-H: b, c\r\nConnection: close\r\n\r\n',
  );
  const [head, body] = res.split("\r\n\r\n");
  // The bytes haproxy 2.6.12 sent with the same rules (its header names in lower case). A replaced value
  // loses the blanks around it, the others keep theirs; the backend's rule runs before the frontend's,
  // and hdr_cnt counts values.
  assert.match(head!, /\r\nCache-Control: no-cache,public, {2}max-age=0\r\n/);
  assert.match(head!, /\r\nX-List: \[a\],\[b\],\[c\],\["d,e"\],\[f\],\[\],\[g\]\r\n/);
  assert.match(head!, /\r\nX-Two: <1>-3\r\nX-Two: \{2, 3\}\r\n/);
  assert.match(body!, /\nX-Forwarded-For: 172\.16\.10\.1,172\.16\.13\.24,10\.0\.0\.37 ,172\.16\.1\.1\n/);
  assert.match(body!, /\nX-Q: \("a,b\\",c"\),\(d\),\(\)\n/);
  assert.match(body!, /\nX-H: a\nX-H: ok-3\n/);
  assert.deepEqual(alertsFor("http-response replace-value X a"), [
    "error detected in frontend 'f' while parsing 'http-response replace-value' rule : expects exactly 3 arguments.",
  ]);
  assert.deepEqual(alertsFor('http-request replace-value X "" b'), [
    "error detected in frontend 'f' while parsing 'http-request replace-value' rule : expects exactly 3 arguments.",
  ]);
  assert.deepEqual(alertsFor("http-request replace-value X a b c"), [
    "'http-request replace-value' expects either 'if' or 'unless' followed by a condition but found 'c'.",
  ]);
  assert.deepEqual(alertsFor("http-response replace-header X a %[req.hdr(x)]"), [
    "error detected in frontend 'f' while parsing 'http-response replace-header' rule : sample fetch <req.hdr(x)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
  ]);
  assert.match(
    alertsFor("http-response replace-value X ( b")[0]!,
    /^error detected in frontend 'f' while parsing 'http-response replace-value' rule : regex '\(' is invalid \(/,
  );
});

test("use_backend with a name made per request: a backend by that name, else the default one; one of the other mode closes as haproxy 2.6.12 does", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  use_backend %[req.hdr(x-be)] if { req.hdr(x-be) -m found }
  use_backend bk_%[req.hdr(x-suffix)] if { req.hdr(x-suffix) -m found }
  default_backend b
backend b
  http-request return status 200 content-type text/plain string "b\\n"
backend bk_one
  http-request return status 200 content-type text/plain string "one\\n"
backend bt
  mode tcp
  server s 127.0.0.1:1
frontend other
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain string "other\\n"
`);
  cleanup.push(q.stop);
  // The header, the body served (none: closed), and the backend haproxy logged.
  const cases: [string, string, string][] = [
    ["X-Be: bk_one", "one\n", "bk_one"],
    ["X-Be: nope", "b\n", "b"],
    ["X-Suffix: one", "one\n", "bk_one"],
    ["X-Suffix: two", "b\n", "b"],
    ["X-Be: other", "b\n", "b"],
    ["X-Be: bt", "", "bt"],
  ];
  for (const [header, body, backend] of cases) {
    const res = await exchange(q.port, `GET / HTTP/1.1\r\nHost: x\r\n${header}\r\nConnection: close\r\n\r\n`);
    assert.equal(res.split("\r\n\r\n")[1] ?? "", body, header);
    const line = await rx.take(/ f [a-z_]+\/<NOSRV> /);
    assert.match(line, new RegExp(` f ${backend}/<NOSRV> `), header);
    if (backend === "bt") assert.match(line, / -1\/-1\/-1\/-1\/\d+ 500 0 - - IR-- /);
  }
  assert.deepEqual(alertsFor("use_backend %[nope]"), [
    "failed to parse use_backend rule '%[nope]' : failed to parse sample expression <nope]> : unknown fetch method 'nope'.",
  ]);
  assert.deepEqual(alertsFor("use_backend %[res.hdr(x)]"), [
    "failed to parse use_backend rule '%[res.hdr(x)]' : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.",
  ]);
  // `%%` after text makes a name per request too (b%x, found or not), so nothing is checked as it is
  // read; a lone leading `%%` leaves the name as written, which must then exist.
  assert.deepEqual(alertsFor("use_backend b%%x"), []);
  assert.deepEqual(alertsFor("use_backend %%x"), ["Proxy 'f': unable to find required use_backend: '%%x'."]);
});

test("a frontend's request rules cannot read the backend nor the server, nor its response rules the request's buffer (haproxy 2.6.12's refusals)", () => {
  const needs = (what: string, rule: string, expr: string) =>
    `error detected in frontend 'f' while parsing '${rule}' rule : sample fetch <${expr}]> may not be reliably used here because it needs '${what}' which is not available here.`;
  const extracts = (what: string, rule: string, name: string) =>
    `error detected in frontend 'f' while parsing '${rule}' rule : fetch method '${name}' extracts information from '${what}', none of which is available here.`;
  const rows: [string, string[]][] = [
    ["http-request set-header x %[be_name]", [needs("backend", "http-request set-header", "be_name")]],
    ["http-request set-header x %[srv_name]", [needs("server", "http-request set-header", "srv_name")]],
    // The server connection's fetches need its address, which haproxy names apart.
    [
      "http-request set-header x %[bc_http_major]",
      [needs("server address", "http-request set-header", "bc_http_major")],
    ],
    ["http-request set-header x %[bc_src]", [needs("server address", "http-request set-header", "bc_src")]],
    [
      "http-request set-var(txn.x) bc_http_major",
      [extracts("server address", "http-request set-var(txn.x)", "set-var(txn.x)")],
    ],
    ["http-request redirect location /%[be_id]", [needs("backend", "http-request redirect", "be_id")]],
    [
      "http-request set-var-fmt(txn.x) %[be_name]",
      [needs("backend", "http-request set-var-fmt(txn.x)", "be_name")],
    ],
    [
      "http-response set-header x %[req.len]",
      [needs("request buffer", "http-response set-header", "req.len")],
    ],
    [
      "http-request set-var(txn.x) be_name,lower",
      [extracts("backend", "http-request set-var(txn.x)", "set-var(txn.x)")],
    ],
    ["http-request capture be_name len 10", [extracts("backend", "http-request capture", "be_name")]],
    [
      "http-request track-sc0 be_name,lower",
      [extracts("backend", "http-request track-sc0", "be_name,lower")],
    ],
    ["http-request sc-set-gpt0(0) be_id", [extracts("backend", "http-request sc-set-gpt0(0)", "be_id")]],
    [
      "use_backend %[srv_name]",
      [
        "failed to parse use_backend rule '%[srv_name]' : sample fetch <srv_name]> may not be reliably used here because it needs 'server' which is not available here.",
      ],
    ],
    [
      "http-request set-header x %[method,ipmask(24)]",
      [
        "error detected in frontend 'f' while parsing 'http-request set-header' rule : failed to parse sample expression <method,ipmask(24)]> : converter 'ipmask' cannot be applied.",
      ],
    ],
    [
      "http-request set-var(txn.x) method,ipmask(24)",
      [
        "error detected in frontend 'f' while parsing 'http-request set-var(txn.x)' rule : converter 'ipmask' cannot be applied.",
      ],
    ],
    // The response's rules have both.
    ["http-response set-header x %[be_name]%[srv_name]", []],
    ["http-after-response set-header x %[srv_id]", []],
  ];
  for (const [line, want] of rows) assert.deepEqual(alertsFor(line), want, line);
  // A listen has a backend side: its request rules read the backend, not yet the server.
  const inListen = (line: string) =>
    parseConfig(
      [{ name: "t.cfg", text: `${DEFAULTS}listen l\n  bind :1\n  ${line}\n  server s 127.0.0.1:1\n` }],
      {},
    )
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => d.message);
  assert.deepEqual(inListen("http-request set-header x %[be_name]"), []);
  assert.deepEqual(inListen("unique-id-format %[be_name]"), []);
  assert.deepEqual(inListen("http-request set-header x %[srv_id]"), [
    "error detected in proxy 'l' while parsing 'http-request set-header' rule : sample fetch <srv_id]> may not be reliably used here because it needs 'server' which is not available here.",
  ]);
});

/**
 * A proxy whose frontend has these rules, before a server that records each request head and
 * answers 200. `sends`: each request gets that 200, and the server the head given (haproxy 2.6.12's,
 * recorded with the same rules; its names in lower case). `fails`: each request is a failed rewrite,
 * a 500 that the server never sees.
 */
async function rewriting(rules: string): Promise<{
  sends(cases: [string, string][]): Promise<void>;
  fails(requests: string[]): Promise<void>;
}> {
  const heads: string[] = [];
  const srv = await headServer((head, s) => {
    heads.push(head);
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  cleanup.push(srv.close);
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
${rules}
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(q.stop);
  const send = async (req: string): Promise<number> =>
    status(await exchange(q.port, req.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")));
  return {
    async sends(cases) {
      for (const [req, sent] of cases) {
        assert.equal(await send(req), 200, req);
        assert.equal(heads.at(-1), sent, req);
      }
    },
    async fails(requests) {
      const before = heads.length;
      for (const req of requests) assert.equal(await send(req), 500, req);
      assert.equal(heads.length, before);
    },
  };
}

test("rules keep Host and a target's authority in step and may give any method any target, as haproxy 2.6.12 does; a head Sluice cannot read back is a failed rewrite", async () => {
  const { sends, fails } = await rewriting(`
  http-request set-uri http://other/x if { path /su }
  http-request replace-uri ^/ru(.*) http://u@z:8/ru\\1 if { path_beg /ru }
  http-request set-uri y:2 if METH_CONNECT { hdr(x-t) cu }
  http-request set-uri http:///nothing if { hdr(x-t) nu }
  http-request set-header Host y if { hdr(x-t) sh }
  http-request add-header Host w if { hdr(x-t) ah }
  http-request replace-header Host (.*) r\\1 if { hdr(x-t) rh }
  http-request set-method GET if METH_CONNECT
  http-request set-header Transfer-Encoding gzip if { path /te }
  http-request set-method "G T" if { path /sp }`);
  await sends([
    ["GET /su HTTP/1.1\r\nHost: x\r\n\r\n", "GET http://other/x HTTP/1.1\r\nHost: other\r\n\r\n"],
    ["GET /ru/a?b HTTP/1.1\r\nHost: x\r\n\r\n", "GET http://u@z:8/ru/a?b HTTP/1.1\r\nHost: z:8\r\n\r\n"],
    // A CONNECT's authority is its whole target; a GET may carry one.
    [
      "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nX-T: cu\r\n\r\n",
      "GET y:2 HTTP/1.1\r\nHost: y:2\r\nX-T: cu\r\n\r\n",
    ],
    ["CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n", "GET x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n"],
    [
      "GET http://u@x/a HTTP/1.1\r\nHost: x\r\nX-T: sh\r\n\r\n",
      "GET http://u@y/a HTTP/1.1\r\nX-T: sh\r\nHost: y\r\n\r\n",
    ],
    ["GET /a HTTP/1.1\r\nHost: x\r\nX-T: sh\r\n\r\n", "GET /a HTTP/1.1\r\nX-T: sh\r\nHost: y\r\n\r\n"],
    // The Host line written last names the authority; the one already there stays.
    [
      "GET http://x/a HTTP/1.1\r\nHost: x\r\nX-T: ah\r\n\r\n",
      "GET http://w/a HTTP/1.1\r\nHost: x\r\nX-T: ah\r\nHost: w\r\n\r\n",
    ],
    [
      "GET http://x:8/a HTTP/1.1\r\nHost: x:8\r\nX-T: rh\r\n\r\n",
      "GET http://rx:8/a HTTP/1.1\r\nHost: rx:8\r\nX-T: rh\r\n\r\n",
    ],
  ]);
  // An absolute target without an authority fails as haproxy's does. A coding other than chunked
  // added next to a Content-Length, and a method with a blank, haproxy sends as they are; Sluice
  // does not send what it cannot read back.
  await fails([
    "GET /a HTTP/1.1\r\nHost: x\r\nX-T: nu\r\n\r\n",
    "POST /te HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
    "GET /sp HTTP/1.1\r\nHost: x\r\n\r\n",
  ]);
});

test("rewrites of targets without a path, of 8-bit bytes, of repeated Host lines, and a CR LF the configuration writes, as haproxy 2.6.12 sends them", async () => {
  const { sends, fails } = await rewriting(`
  http-request set-path %[path,url_dec] if { path_beg /dec }
  http-request set-path /n if { hdr(x-t) sp }
  http-request replace-path .* /rp if { hdr(x-t) rp }
  http-request add-header Host %[req.hdr(host)] if { hdr(x-t) dup }
  http-request set-header X-L "a\\r\\nX-Evil: 1" if { hdr(x-t) lit }
  http-request set-header X-Inj %[req.hdr(x-v),url_dec] if { hdr(x-t) inj }`);
  await sends([
    // The decoded bytes leave as they are, "#" and 8-bit bytes included.
    [
      "GET /dec/caf%C3%A9%23x?q HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /dec/caf\xc3\xa9#x?q HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
    // set-path on a target without a path replaces it up to its first "?"; replace-path has no subject.
    [
      "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\nX-T: sp\r\n\r\n",
      "CONNECT /n HTTP/1.1\r\nHost: x:1\r\nX-T: sp\r\n\r\n",
    ],
    ["GET http://h HTTP/1.1\r\nHost: h\r\nX-T: sp\r\n\r\n", "GET /n HTTP/1.1\r\nHost: h\r\nX-T: sp\r\n\r\n"],
    ["GET * HTTP/1.1\r\nHost: h\r\nX-T: sp\r\n\r\n", "GET /n HTTP/1.1\r\nHost: h\r\nX-T: sp\r\n\r\n"],
    [
      "GET http://h HTTP/1.1\r\nHost: h\r\nX-T: rp\r\n\r\n",
      "GET http://h HTTP/1.1\r\nHost: h\r\nX-T: rp\r\n\r\n",
    ],
    // A rule's Host line leaves even when it repeats one.
    [
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: dup\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: dup\r\nHost: h\r\n\r\n",
    ],
    // The configuration's CR LF makes two lines; a request's control bytes are written %XX.
    [
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: lit\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: lit\r\nX-L: a\r\nX-Evil: 1\r\n\r\n",
    ],
    [
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: inj\r\nX-V: a%0D%0AHost:%20evil\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: h\r\nX-T: inj\r\nX-V: a%0D%0AHost:%20evil\r\nX-Inj: a%0D%0AHost: evil\r\n\r\n",
    ],
  ]);
  // haproxy sends "GET /dec/a b": Sluice does not send a target it cannot read back.
  await fails(["GET /dec/a%20b HTTP/1.1\r\nHost: x\r\n\r\n"]);
});

/** A proxy whose frontend has `rule` before the server on `port`, and a client connected to it. */
async function clientThrough(rule: string, port: number): Promise<Client> {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  ${rule}
  default_backend b
backend b
  server s 127.0.0.1:${port}
`);
  cleanup.push(q.stop);
  const c = new Client(q.port);
  cleanup.push(async () => c.close());
  return c;
}

test("set-method GET on a HEAD: the client still gets no body, framed as haproxy 2.6.12 frames it; the server's body is read and dropped, its connection kept", async () => {
  const conns = new Set<net.Socket>();
  const srv = await headServer((head, s) => {
    conns.add(s);
    s.write(
      head.includes("/chunked")
        ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
  });
  cleanup.push(srv.close);
  const c = await clientThrough("http-request set-method GET if METH_HEAD", srv.port);
  const expected = [
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  ];
  let want = "";
  for (const [i, req] of ["HEAD /x", "HEAD /chunked", "GET /y"].entries()) {
    c.send(`${req} HTTP/1.1\r\nHost: h\r\n\r\n`);
    want += expected[i];
    assert.equal(await c.until((t) => t.length >= want.length), want);
  }
  assert.equal(conns.size, 1);
});

test("an empty word is a missing argument to a rule, as haproxy 2.6.12 reads it", () => {
  const cases: [string, string][] = [
    ['http-request set-header X ""', "'http-request set-header' rule : expects exactly 2 arguments."],
    ['http-response set-header X ""', "'http-response set-header' rule : expects exactly 2 arguments."],
    [
      'http-after-response add-header X ""',
      "'http-after-response add-header' rule : expects exactly 2 arguments.",
    ],
    ['http-request set-path ""', "'http-request set-path' rule : expects exactly 1 argument <format>."],
    ['http-request del-header ""', "'http-request del-header' rule : expects at least 1 argument."],
    [
      'http-request replace-path "" /x',
      "'http-request replace-path' rule : expects exactly 2 arguments <match-regex> and <replace-format>.",
    ],
  ];
  for (const [line, alert] of cases)
    assert.deepEqual(alertsFor(line), [`error detected in frontend 'f' while parsing ${alert}`], line);
});

test("a Connection: close that http-response or http-after-response rules write closes the client's connection, as in haproxy 2.6.12", async () => {
  const paths: string[] = [];
  const srv = await headServer((head, s) => {
    paths.push(head.split(" ")[1]!);
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  cleanup.push(srv.close);
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.p) path
  http-request return status 200 content-type text/plain string hi if { path /ret }
  http-response set-header Connection close if { var(txn.p) -m str /a }
  http-after-response set-header Connection close if { var(txn.p) -m str /ret }
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(q.stop);
  const answers: Record<string, string> = {
    "/a": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    "/ret": "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhi",
  };
  for (const [path, answer] of Object.entries(answers)) {
    const c = new Client(q.port);
    cleanup.push(async () => c.close());
    c.send(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
    assert.equal(await c.until((t) => t.length >= answer.length), answer);
    // The next request on that connection is not served.
    c.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    await waitFor(() => c.closed, 2000, "the connection's close");
  }
  assert.deepEqual(paths, ["/a"]);
});

test("a Connection: close that http-request rules write goes to the server, which is not asked again; the client's connection stays, as in haproxy 2.6.12", async () => {
  // Each server connection's heads.
  const conns: string[][] = [];
  const srv = await rawServer((s) => {
    const heads: string[] = [];
    conns.push(heads);
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        heads.push(buf.slice(0, end + 4));
        buf = buf.slice(end + 4);
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      }
    });
  });
  cleanup.push(srv.close);
  const c = await clientThrough("http-request set-header Connection close if { path /a }", srv.port);
  const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  c.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(await c.until((t) => t.length >= ok.length), ok);
  c.send("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal(await c.until((t) => t.length >= 2 * ok.length), ok + ok);
  assert.deepEqual(conns, [
    ["GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"],
    ["GET /b HTTP/1.1\r\nHost: h\r\n\r\n"],
  ]);
  assert.equal(c.closed, false);
});

test("http-request set-timeout server|tunnel: this stream's timeout, a time or an expression's milliseconds, as haproxy 2.6.12 times it", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  // A server that never answers, but for an upgrade, which it accepts and then leaves idle.
  const srv = await rawServer((s) =>
    s.on("data", (d: Buffer) => {
      if (d.includes("Upgrade: websocket"))
        s.write(
          "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        );
    }),
  );
  cleanup.push(srv.close);
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
  timeout server 1s
  http-request set-timeout server 300ms if { path /t300 }
  http-request set-timeout server req.hdr(x-to) if { path /hdr }
  http-request set-timeout tunnel 400ms if { path /ws }
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(q.stop);
  /** The request's total time in its log line, once it ended as `end` says. */
  const total = async (req: string, end: string): Promise<number> => {
    void exchange(q.port, req, 2500);
    const line = await rx.take(new RegExp(`"GET ${req.split(" ")[1]} `), 2500);
    const m = / \d+\/\d+\/\d+\/-?\d+\/(\d+) (\d+) .* (\S\S)-- /.exec(line)!;
    assert.equal(`${m[2]} ${m[3]}`, end, line);
    return Number(m[1]);
  };
  const t300 = await total("GET /t300 HTTP/1.1\r\nHost: h\r\n\r\n", "504 sH");
  assert.ok(t300 >= 299 && t300 < 900, String(t300));
  const t200 = await total("GET /hdr HTTP/1.1\r\nHost: h\r\nX-To: 200\r\n\r\n", "504 sH");
  assert.ok(t200 >= 199 && t200 < 900, String(t200));
  // An expression that gives no number changes nothing: the backend's timeout.
  const none = await total("GET /hdr HTTP/1.1\r\nHost: h\r\nX-To: abc\r\n\r\n", "504 sH");
  assert.ok(none >= 999, String(none));
  const ws = await total(
    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    "101 cD",
  );
  assert.ok(ws >= 399 && ws < 900, String(ws));
});

test("http-request set-timeout: haproxy 2.6.12's words for what it refuses", () => {
  const at = (line: string): string[] =>
    parseConfig([{ name: "t.cfg", text: `${DEFAULTS}backend b\n  ${line}\n` }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => d.message);
  const rule = "error detected in backend 'b' while parsing 'http-request set-timeout' rule : ";
  assert.deepEqual(at("http-request set-timeout server"), [`${rule}expects exactly 2 arguments.`]);
  assert.deepEqual(at("http-request set-timeout client 5s"), [
    `${rule}'set-timeout' rule supports 'server'/'tunnel' (got 'client').`,
  ]);
  assert.deepEqual(at("http-request set-timeout server 0"), [
    `${rule}null value is not valid for a 'set-timeout server' rule.`,
  ]);
  assert.deepEqual(at("http-request set-timeout server 99999999999"), [
    `${rule}timer overflow in argument '99999999999' to rule 'set-timeout server' (maximum value is 2147483647 ms or ~24.8 days).`,
  ]);
  assert.deepEqual(at("http-request set-timeout server nope("), [
    `${rule}unexpected character 'n' in rule 'set-timeout server'.`,
  ]);
  assert.deepEqual(at("http-request set-timeout server 5s extra"), [
    "'http-request set-timeout' expects either 'if' or 'unless' followed by a condition but found 'extra'.",
  ]);
  assert.deepEqual(at("http-request set-timeout tunnel req.hdr(x)"), []);
  // The capability is checked once the rule has its two words, before they are read.
  for (const line of ["http-request set-timeout server 5s", "http-request set-timeout client 0"])
    assert.deepEqual(alertsFor(line), [
      "error detected in frontend 'f' while parsing 'http-request set-timeout' rule : proxy 'f' has no backend capability.",
    ]);
  assert.deepEqual(alertsFor("http-request set-timeout server"), [
    "error detected in frontend 'f' while parsing 'http-request set-timeout' rule : expects exactly 2 arguments.",
  ]);
});

test("http-request reject closes the connection with nothing said, logged PR-- with no status, as haproxy 2.6.12 does", async () => {
  const { rx, q } = await loggedRules("  http-request reject if { path /rej }");
  const c = new Client(q.port);
  c.send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal((await c.response()).status, 200);
  c.send("POST /rej HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab");
  await waitFor(() => c.closed, 3000, "the close");
  assert.equal(c.take(), "");
  assert.match(await rx.take(/"POST \/rej /), / f\/<NOSRV> -1\/-1\/-1\/-1\/\d+ -1 0 - - PR-- /);
  assert.deepEqual(alertsFor("http-request reject now"), [
    "'http-request reject' expects either 'if' or 'unless' followed by a condition but found 'now'.",
  ]);
});

test("last_rule_file and last_rule_line name the rule that ended its list, as haproxy 2.6.12 gave them", async () => {
  const text = `${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request set-var(txn.a) str(x)
  http-request deny if { path /deny }
  http-request allow if { path /allow }
  redirect location /y if { path /kw }
  http-after-response set-header x-lr "%[last_rule_file]:%[last_rule_line]"
  default_backend b
backend b
  http-request deny if { path /bdeny }
  server s 127.0.0.1:${web.port}
`;
  const q = await startProxy(text);
  cleanup.push(q.stop);
  const line = (rule: string) => `test.cfg:${text.split("\n").findIndex((l) => l.includes(rule)) + 1}`;
  const lr = async (path: string) => /\r\nx-lr: ([^\r]*)/i.exec(await get(path, "", q.port))?.[1];
  // set-var ends nothing, nor the redirect keyword.
  assert.equal(await lr("/deny"), line("path /deny"));
  assert.equal(await lr("/allow"), line("path /allow"));
  assert.equal(await lr("/bdeny"), line("path /bdeny"));
  assert.equal(await lr("/kw"), ":");
  assert.equal(await lr("/plain"), ":");
});
