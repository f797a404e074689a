// http-request normalize-uri and set-pathq, and strict-mode in the three rulesets, end to end, with
// what haproxy 2.6.12 did for the same configurations (docs/haproxy-behaviour.md §75).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import {
  Client,
  DEFAULTS,
  exchange,
  headServer,
  loggedDefaults,
  startProxy,
  syslogReceiver,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";

const EXPERIMENTAL = "global\n  expose-experimental-directives\n";

/**
 * For test `t`: a server that records each request head and answers 200 with the lines the request's X-Res
 * header lists (a JSON array; `{c*n}` is the character c n times), a proxy before it with
 * `frontend` and `backend` as the sections' rules, and a log receiver.
 */
async function setup(
  t: TestContext,
  frontend: string,
  backend = "",
  feDefaults = "",
): Promise<{ q: Proxy; heads: string[]; rx: SyslogReceiver }> {
  const heads: string[] = [];
  const srv = await headServer((h, s) => {
    heads.push(h);
    const m = /\r\nx-res: (.*)\r\n/i.exec(h);
    const lines = m ? (JSON.parse(m[1]!) as string[]).map((l) => `${expand(l)}\r\n`).join("") : "";
    s.write(`HTTP/1.1 200 OK\r\n${lines}Content-Length: 2\r\n\r\nok`);
  });
  const rx = await syslogReceiver();
  const q = await startProxy(`${EXPERIMENTAL}${loggedDefaults(rx)}${feDefaults}
frontend f
  bind 127.0.0.1:1
${frontend}
  default_backend b
${feDefaults && DEFAULTS}
backend b
${backend}
  server s 127.0.0.1:${srv.port}
`);
  t.after(async () => {
    await q.stop();
    await srv.close();
    await rx.close();
  });
  return { q, heads, rx };
}

const expand = (text: string): string =>
  text.replace(/\{(.)\*(\d+)\}/g, (_, c: string, n: string) => c.repeat(+n));

/** Sends one request (Connection: close added), returns the response. */
const send = (q: Proxy, req: string): Promise<string> =>
  exchange(q.port, expand(req).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));

const status = (t: string): number => Number(t.slice(9, 12));

test("normalize-uri, set-path and set-pathq change what the server gets and what path, url and pathq read after them; the log keeps the request as received", async (t) => {
  const { q, heads, rx } = await setup(
    t,
    `  log-format "%ST %tsc %HM %HU %HP %HQ %{+Q}r"
  http-request normalize-uri path-strip-dot if { req.hdr(x-n) dot }
  http-request normalize-uri path-strip-dotdot full if { req.hdr(x-n) dotdot }
  http-request normalize-uri query-sort-by-name if { req.hdr(x-n) sort }
  http-request set-pathq /n%[query] if { req.hdr(x-n) pathq }
  http-request set-path /n%[query] if { req.hdr(x-n) path }
  http-request set-header X-Path "%[path]"
  http-request set-header X-Url "%[url]"
  http-request set-header X-Pathq "%[pathq]"`,
  );
  // What haproxy 2.6.12 sent the server for each (its lines' names in lower case).
  const cases: [string, string, string, string][] = [
    [
      "dot",
      "/a/.?x=/./",
      "GET /a/?x=/./ HTTP/1.1",
      '200 ---- GET /a/.?x=/./ /a/. ?x=/./ "GET /a/.?x=/./ HTTP/1.1"',
    ],
    ["dot", "http://h/./a?q", "GET http://h/a?q HTTP/1.1", "200 ---- GET http://h/./a?q http://h/./a ?q"],
    ["dot", "*", "GET * HTTP/1.1", '200 ---- GET * *  "GET * HTTP/1.1"'],
    ["dotdot", "/a/../../b/../c?d", "GET /c?d HTTP/1.1", "200 ---- GET /a/../../b/../c?d"],
    ["sort", "/?c=3&a=1&b=2&a", "GET /?a=1&a&b=2&c=3 HTTP/1.1", "200 ---- GET /?c=3&a=1&b=2&a"],
    ["pathq", "/a?b=1", "GET /nb=1 HTTP/1.1", "200 ---- GET /a?b=1"],
    ["path", "/a?b=1", "GET /nb=1?b=1 HTTP/1.1", "200 ---- GET /a?b=1"],
    ["pathq", "http://h/a?b", "GET http://h/nb HTTP/1.1", "200 ---- GET http://h/a?b"],
    ["pathq", "*", "GET /n HTTP/1.1", "200 ---- GET *"],
  ];
  for (const [n, target, line, logged] of cases) {
    assert.equal(
      status(await send(q, `GET ${target} HTTP/1.1\r\nHost: h\r\nX-N: ${n}\r\n\r\n`)),
      200,
      target,
    );
    const got = heads.at(-1)!;
    assert.equal(got.slice(0, got.indexOf("\r\n")), line, target);
    const uri = line.split(" ")[1]!;
    const path = uri === "*" ? "" : uri.replace(/^\w+:\/\/[^/]*/, "").split("?")[0]!;
    assert.match(got, new RegExp(`\r\nX-Path: ${escape(path)}\r\nX-Url: ${escape(uri)}\r\n`), target);
    const l = await rx.take(/^\d{3} /);
    assert.ok(l.startsWith(logged), l);
  }
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("a malformed percent-encoding under `strict` is haproxy's 400 before any server, logged PR-- without TR; a query of more than tune.bufsize / 16 parameters is a 500, logged RR--", async (t) => {
  const { q, heads, rx } = await setup(
    t,
    `  http-request strict-mode off
  http-request normalize-uri percent-to-uppercase strict
  http-request normalize-uri percent-decode-unreserved
  http-request normalize-uri query-sort-by-name`,
  );
  const c = new Client(q.port);
  t.after(() => c.close());
  c.send("GET /%6f/%zz?a HTTP/1.1\r\nHost: h\r\n\r\n");
  const bad = await c.response();
  assert.equal(bad.status, 400);
  assert.match(bad.head, /\r\nconnection: close(\r\n|$)/);
  await c.until(() => c.closed);
  assert.match(
    await rx.take(/ 400 /),
    / f f\/<NOSRV> -1\/-1\/-1\/-1\/\d+ 400 \d+ - - PR-- .* "GET \/%6f\/%zz\?a HTTP\/1\.1"$/,
  );
  assert.equal(heads.length, 0);
  assert.equal(q.rt.counters.badRequests, 1);
  // Upper case, then decoded; the query too.
  assert.equal(status(await send(q, "GET /%6f/%2f?%7e=%3a HTTP/1.1\r\nHost: h\r\n\r\n")), 200);
  assert.match(heads.at(-1)!, /^GET \/o\/%2F\?~=%3A HTTP\/1\.1\r\n/);
  const query = (n: number): string => Array.from({ length: n }, (_, i) => `k${i % 7}=${i}`).join("&");
  assert.equal(status(await send(q, `GET /p?${query(1024)} HTTP/1.1\r\nHost: h\r\n\r\n`)), 200);
  assert.match(heads.at(-1)!, /^GET \/p\?k0=0&k0=7&k0=14&/);
  await rx.take(/ 200 /);
  // Whatever the strict mode: no rewrite failed, the buffer had no room.
  assert.equal(status(await send(q, `GET /p?${query(1025)} HTTP/1.1\r\nHost: h\r\n\r\n`)), 500);
  assert.match(await rx.take(/ 500 /), / f f\/<NOSRV> -1\/-1\/-1\/-1\/\d+ 500 \d+ - - RR-- /);
  assert.equal(heads.length, 2);
  assert.equal(q.rt.counters.failedRewrites, 0);
});

test("strict-mode off skips a rewrite that fails (set-header's old lines still go, set-uri's target stays) where on, the default, answers 500; on each side, counted either way", async (t) => {
  const big = (side: string, name: string): string =>
    `"%[${side}.hdr(${name})]%[${side}.hdr(${name})]%[${side}.hdr(${name})]%[${side}.hdr(${name})]"`;
  const { q, heads, rx } = await setup(
    t,
    `  http-request strict-mode off if { req.hdr(x-soft) -m found }
  http-request set-header X-A replaced if { path_beg /big }
  http-request set-header X-A ${big("req", "x-v")} if { path_beg /big }
  http-request set-header X-After yes
  http-request set-uri http:///nothing if { path_beg /nouri }
  http-response strict-mode off if { res.hdr(x-soft) -m found }
  http-response set-header X-R ${big("res", "x-v")} if { res.hdr(x-v) -m found }
  http-response set-header X-RAfter yes
  http-after-response strict-mode OFF if { res.hdr(x-asoft) -m found }
  http-after-response set-header X-AR ${big("res", "x-av")} if { res.hdr(x-av) -m found }
  http-after-response set-header X-ARAfter yes`,
  );
  const a = "GET /big HTTP/1.1\r\nHost: h\r\nX-A: orig\r\nX-V: {a*3255}\r\n";
  const res = (lines: string) =>
    `GET /r HTTP/1.1\r\nHost: h\r\nX-Res: ${JSON.stringify(lines.split("|"))}\r\n`;
  // Each request, its soft twin, and what haproxy 2.6.12 logged for the strict one.
  const pairs: [string, string, string][] = [
    [`${a}\r\n`, `${a}X-Soft: 1\r\n\r\n`, "-1/-1/-1/-1/\\d+ 500 \\d+ - - PR-- "],
    [
      "GET /nouri HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /nouri HTTP/1.1\r\nHost: h\r\nX-Soft: 1\r\n\r\n",
      "PR-- ",
    ],
    [
      `${res("X-V: {b*3300}")}\r\n`,
      `${res("X-V: {b*3300}|X-Soft: 1")}\r\n`,
      "\\d+/\\d+/\\d+/-1/\\d+ 500 \\d+ - - PH-- ",
    ],
    [
      `${res("X-AV: {b*3300}")}\r\n`,
      `${res("X-AV: {b*3300}|X-ASoft: 1")}\r\n`,
      "/-1/\\d+ 500 \\d+ - - PH-- ",
    ],
  ];
  for (const [strict, soft, logged] of pairs) {
    const r = await send(q, strict);
    assert.equal(status(r), 500, strict.slice(0, 20));
    // The proxy's 500 went through the http-after-response rules, which added their line.
    assert.match(r, /\r\nX-ARAfter: yes\r\n/);
    assert.match(await rx.take(/ 500 /), new RegExp(logged));
    const ok = await send(q, soft);
    assert.equal(status(ok), 200, soft.slice(0, 20));
    assert.match(ok, /\r\nX-RAfter: yes\r\nX-ARAfter: yes\r\n/);
    assert.doesNotMatch(ok, /\r\nX-A?R: /);
    assert.match(await rx.take(/ 200 /), / 200 \d+ - - ---- /);
  }
  const sent = heads.map((h) => h.replace(/(.)\1{40,}/g, (m, c: string) => `${c}*${m.length}`));
  assert.equal(sent[0], "GET /big HTTP/1.1\r\nHost: h\r\nX-V: a*3255\r\nX-Soft: 1\r\nX-After: yes\r\n\r\n");
  assert.equal(sent[1], "GET http:///nothing HTTP/1.1\r\nHost: h\r\nX-Soft: 1\r\nX-After: yes\r\n\r\n");
  assert.equal(sent.length, 6);
  assert.equal(q.rt.counters.failedRewrites, 8);
  assert.equal(q.rt.counters.internalErrors, 4);
});

test("strict mode starts again with each ruleset (a named defaults section's, the backend's) and lasts across a wait for the body", async (t) => {
  const big = `"%[req.hdr(x-v)]%[req.hdr(x-v)]%[req.hdr(x-v)]%[req.hdr(x-v)]"`;
  const { q } = await setup(
    t,
    `  http-request strict-mode off if { path_beg /wait }
  http-request wait-for-body time 2s if { path_beg /wait }
  http-request set-header X-A ${big} if { req.hdr(x-v) -m found } !{ path_beg /be }
  http-request strict-mode off if { path_beg /be }`,
    `  http-request set-header X-B ${big} if { path_beg /be }`,
    `${DEFAULTS.replace("defaults", "defaults d")}  http-request strict-mode off if { path_beg /def }\n`,
  );
  const v = "X-V: {a*3300}\r\n";
  assert.equal(status(await send(q, `GET /def HTTP/1.1\r\nHost: h\r\n${v}\r\n`)), 500);
  assert.equal(status(await send(q, `GET /be HTTP/1.1\r\nHost: h\r\n${v}\r\n`)), 500);
  // The body comes after the head: the rules wait for it, then go on with strict mode off.
  const c = new Client(q.port);
  t.after(() => c.close());
  c.send(expand(`POST /wait HTTP/1.1\r\nHost: h\r\n${v}Content-Length: 3\r\n\r\n`));
  setTimeout(() => c.send("abc"), 200);
  assert.equal((await c.response()).status, 200);
});

test("normalize-uri, set-pathq and strict-mode are read as haproxy 2.6.12 reads them", () => {
  const alerts = (line: string, global = EXPERIMENTAL): string[] =>
    parseConfig([{ name: "t.cfg", text: `${global}${DEFAULTS}frontend f\n  bind :1\n  ${line}\n` }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => d.message);
  const rule = (kw: string, m: string): string =>
    `error detected in frontend 'f' while parsing '${kw}' rule : ${m}.`;
  const cases: [string, string[]][] = [
    ["http-request normalize-uri path-strip-dotdot full if TRUE", []],
    ["http-request normalize-uri percent-to-uppercase strict", []],
    ["http-request normalize-uri fragment-encode unless TRUE", []],
    ["http-request normalize-uri", [rule("http-request normalize-uri", "missing argument <normalizer>")]],
    ["http-request normalize-uri foo", [rule("http-request normalize-uri", "unknown normalizer 'foo'")]],
    [
      "http-request normalize-uri path-strip-dotdot strict",
      [rule("http-request normalize-uri", "unknown argument 'strict' for 'path-strip-dotdot' normalizer")],
    ],
    [
      "http-request normalize-uri path-merge-slashes full",
      [
        "'http-request normalize-uri' expects either 'if' or 'unless' followed by a condition but found 'full'.",
      ],
    ],
    ["http-request set-pathq /x if TRUE", []],
    ["http-request set-pathq", [rule("http-request set-pathq", "expects exactly 1 argument <format>")]],
    ["http-request strict-mode oFF", []],
    ["http-request strict-mode", [rule("http-request strict-mode", "expects exactly 1 arguments")]],
    [
      "http-response strict-mode maybe",
      [rule("http-response strict-mode", "Unexpected value 'maybe'. Only 'on' and 'off' are supported")],
    ],
    [
      "http-after-response strict-mode on off",
      [
        "'http-after-response strict-mode' expects either 'if' or 'unless' followed by a condition but found 'off'.",
      ],
    ],
  ];
  for (const [line, want] of cases) assert.deepEqual(alerts(line), want, line);
  assert.deepEqual(alerts("http-request normalize-uri foo", ""), [
    "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'",
  ]);
});
