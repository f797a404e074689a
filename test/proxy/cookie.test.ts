// Cookie persistence (a backend's `cookie` line, `option persist`): what the client gets, what the
// server sees and the log's two cookie letters, as haproxy 2.6.12 does them with the same requests.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  startProxy,
  httpBackend,
  Client,
  closedPort,
  syslogReceiver,
  loggedDefaults,
  waitFor,
  DEFAULTS,
  FRONTEND,
  type Backend,
  type SyslogReceiver,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";
import { b64ToDate, dateToB64 } from "../../src/proxy/persistence.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Backends a and b; each answers its name, with the extra headers its handler is given per path. */
async function backends(
  headers: (path: string) => Record<string, string | string[]> = () => ({}),
): Promise<Backend[]> {
  const list = await Promise.all(
    ["a", "b"].map((n) =>
      httpBackend(n, (req, res) => {
        for (const [k, v] of Object.entries(headers(req.url ?? ""))) res.setHeader(k, v);
        res.end(n);
      }),
    ),
  );
  for (const b of list) cleanup.push(b.close);
  return list;
}

let rx: SyslogReceiver;

async function proxy(a: Backend, b: Backend, lines: string, serverExtra = ""): Promise<number> {
  rx ??= await syslogReceiver().then((r) => (cleanup.push(r.close), r));
  const p = await startProxy(`${loggedDefaults(rx)}${FRONTEND}  ${lines}
  server a 127.0.0.1:${a.port} cookie a ${serverExtra}
  server b 127.0.0.1:${b.port} cookie b
`);
  cleanup.push(p.stop);
  last = p;
  return p.port;
}

/** The proxy proxy() started last, to look at its queues. */
let last: Awaited<ReturnType<typeof startProxy>>;

/** One request on a new connection: the response head and body, and the server's log line. */
async function ask(port: number, path: string, cookie?: string, method = "GET") {
  const c = new Client(port);
  const hdr = cookie === undefined ? "" : `Cookie: ${cookie}\r\n`;
  c.send(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${hdr}Content-Length: 0\r\n\r\n`);
  const r = await c.response();
  c.close();
  const log = await rx.take(new RegExp(` "${method} ${path.replace(/[?]/g, "\\?")} HTTP/1.1"`));
  // The termination state's last two letters: the cookie's.
  const letters = / ([-A-Za-z]{4}) \d+\/\d+\/\d+\/\d+\/\d+ /.exec(log)?.[1];
  return { ...r, log, letters };
}

/** The Cookie header the server saw last, or undefined. */
function seenCookie(b: Backend): string | undefined {
  const h = b.seen.at(-1)!.headers;
  const i = h.findIndex((x, n) => n % 2 === 0 && x.toLowerCase() === "cookie");
  return i < 0 ? undefined : h[i + 1];
}

const setCookies = (head: string): string[] =>
  head
    .split("\r\n")
    .filter((l) => /^set-cookie:/i.test(l))
    .map((l) => l.slice(l.indexOf(":") + 2));

test("insert indirect nocache: the first answer names its server, the cookie then leads to it and never reaches it", async () => {
  const [a, b] = await backends((p): Record<string, string> => (p === "/etag" ? { ETag: '"1"' } : {}));
  const port = await proxy(a!, b!, "cookie SRV insert indirect nocache");
  const first = await ask(port, "/");
  assert.equal(first.body, "a");
  assert.deepEqual(setCookies(first.head), ["SRV=a; path=/"]);
  // Nothing says a cache could keep it (no expiry, no validator): no Cache-control, as haproxy.
  assert.doesNotMatch(first.head, /cache-control/i);
  assert.equal(first.letters, "--NI");
  assert.equal(seenCookie(a!), undefined);

  for (const [cookie, left] of [
    ["SRV=b", undefined],
    ["x=1; SRV=b; y=2", "x=1; y=2"],
    ["x=1; SRV=b", "x=1"],
    ["SRV=b; y=2", "y=2"],
  ] as const) {
    const r = await ask(port, "/", cookie);
    assert.equal(r.body, "b", cookie);
    assert.deepEqual(setCookies(r.head), [], cookie);
    assert.equal(r.letters, "--VN", cookie);
    assert.equal(seenCookie(b!), left, cookie);
  }
  // A cookie that names no server: balanced, and a new one given.
  const invalid = await ask(port, "/", "SRV=zz");
  assert.equal(invalid.letters, "--II");
  assert.deepEqual(setCookies(invalid.head), [`SRV=${invalid.body}; path=/`]);
  // A response a cache could keep (a validator) gets Cache-control: private after our Set-Cookie.
  const cacheable = await ask(port, "/etag");
  assert.match(cacheable.head, /\r\nSet-Cookie: SRV=[ab]; path=\/\r\nCache-control: private(\r\n|$)/);
  // Not when the client came straight to its server: nothing is inserted.
  const direct = await ask(port, "/etag", "SRV=a");
  assert.doesNotMatch(direct.head, /cache-control|set-cookie/i);
});

test("insert: the server's own cookie of that name is replaced by ours, or kept with preserve", async () => {
  const [a, b] = await backends(() => ({ "Set-Cookie": ["SRV=app; path=/x", "other=1"] }));
  const plain = await proxy(a!, b!, "cookie SRV insert");
  const r = await ask(plain, "/");
  assert.deepEqual(setCookies(r.head), ["other=1", `SRV=${r.body}; path=/`]);
  assert.equal(r.letters, "--NI");
  // Straight to its server: the server's cookie is deleted and none is inserted.
  const direct = await ask(plain, "/", "SRV=b");
  assert.deepEqual(setCookies(direct.head), ["other=1"]);
  assert.equal(direct.letters, "--VD");
  const [c, d] = await backends(() => ({ "Set-Cookie": "SRV=app; path=/x" }));
  const kept = await proxy(c!, d!, "cookie SRV insert preserve");
  const k = await ask(kept, "/");
  assert.deepEqual(setCookies(k.head), ["SRV=app; path=/x"]);
  assert.equal(k.letters, "--NP");
});

test("insert: attributes in haproxy's order; postonly inserts in answers to POST only", async () => {
  const [a, b] = await backends();
  const port = await proxy(
    a!,
    b!,
    "cookie SRV insert postonly httponly secure domain .a.com domain .b.com attr SameSite=Lax attr Partitioned",
  );
  assert.deepEqual(setCookies((await ask(port, "/")).head), []);
  const post = await ask(port, "/", undefined, "POST");
  assert.deepEqual(setCookies(post.head), [
    `SRV=${post.body}; path=/; domain=.a.com; domain=.b.com; HttpOnly; Secure; SameSite=Lax; Partitioned`,
  ]);
});

test("rewrite: the server's cookie takes the server's name; prefix: the name goes before its value and is taken off", async () => {
  const [a, b] = await backends(() => ({ "Set-Cookie": "SRV=app123; path=/" }));
  const rw = await proxy(a!, b!, "cookie SRV rewrite");
  const r = await ask(rw, "/");
  assert.deepEqual(setCookies(r.head), [`SRV=${r.body}; path=/`]);
  assert.equal(r.letters, "--NR");
  const back = await ask(rw, "/", "SRV=b");
  assert.equal(back.body, "b");
  assert.equal(seenCookie(b!), "SRV=b");
  assert.equal(back.letters, "--VR");

  const [c, d] = await backends(() => ({ "Set-Cookie": "SRV=app123; path=/" }));
  const px = await proxy(c!, d!, "cookie SRV prefix");
  const p = await ask(px, "/");
  assert.deepEqual(setCookies(p.head), [`SRV=${p.body}~app123; path=/`]);
  const again = await ask(px, "/", "k=v; SRV=b~app123");
  assert.equal(again.body, "b");
  assert.equal(seenCookie(d!), "k=v; SRV=app123");
  assert.equal(again.letters, "--VR");
});

test("a cookie naming a DOWN server: balanced and replaced, unless option persist; weight 0 still gets its clients", async () => {
  const [a, b] = await backends();
  const dead = await closedPort();
  // a's health check goes to a port where nothing listens: a is DOWN, yet serves traffic.
  const port = await proxy(
    a!,
    b!,
    "cookie SRV insert indirect",
    `check port ${dead} inter 100 fall 1 rise 1`,
  );
  await waitFor(() => rx.lines.some((l) => /Server bk\/a is DOWN/.test(l)), 3000, "a DOWN");
  const r = await ask(port, "/", "SRV=a");
  assert.equal(r.body, "b");
  assert.equal(r.letters, "--DI");
  assert.deepEqual(setCookies(r.head), ["SRV=b; path=/"]);

  const [c, d] = await backends();
  const persist = await proxy(
    c!,
    d!,
    "cookie SRV insert indirect\n  option persist",
    `check port ${dead} inter 100 fall 1 rise 1`,
  );
  await waitFor(() => rx.lines.filter((l) => /Server bk\/a is DOWN/.test(l)).length >= 2, 3000, "a DOWN");
  const p = await ask(persist, "/", "SRV=a");
  assert.equal(p.body, "a");
  assert.equal(p.letters, "--DN");

  const [e, f] = await backends();
  const drain = await proxy(e!, f!, "cookie SRV insert indirect", "weight 0");
  assert.equal((await ask(drain, "/")).body, "b");
  const w = await ask(drain, "/", "SRV=a");
  assert.equal(w.body, "a");
  assert.equal(w.letters, "--VN");
});

test("the cookie's server is full: the request waits for it in its queue, not for another server", async () => {
  let release: (() => void) | undefined;
  const a = await httpBackend("a", (req, res) => {
    if (req.url === "/slow") release = () => res.end("a");
    else res.end("a");
  });
  const b = await httpBackend("b");
  cleanup.push(a.close, b.close);
  const port = await proxy(a, b, "cookie SRV insert indirect", "maxconn 1");
  const slow = new Client(port);
  cleanup.push(async () => slow.close());
  slow.send("GET /slow HTTP/1.1\r\nHost: x\r\nCookie: SRV=a\r\n\r\n");
  await waitFor(() => release !== undefined, 3000, "the slow request at a");
  const waiting = ask(port, "/", "SRV=a");
  // A request without the cookie goes to b meanwhile.
  assert.equal((await ask(port, "/x")).body, "b");
  release!();
  const w = await waiting;
  assert.equal(w.body, "a");
  assert.equal(w.letters, "--VN");
  // It waited in a's own queue (srv_queue 1), not in the backend's.
  assert.match(w.log, / 1\/0 "GET \/ HTTP/);
});

test("the cookie's server at maxqueue, option redispatch: a new choice that hashes back to it is a 503, the cookie still valid", async () => {
  const held: (() => void)[] = [];
  const slow = (n: string) =>
    httpBackend(n, (req, res) => {
      if (req.url === "/slow") held.push(() => res.end(n));
      else res.end(n);
    });
  const [a, b] = await Promise.all([slow("a"), slow("b")]);
  cleanup.push(a.close, b.close);
  const port = await proxy(
    a,
    b,
    "balance source\n  cookie SRV insert indirect\n  option redispatch\n  default-server maxconn 1 maxqueue 1",
  );
  // Every request from 127.0.0.1 hashes to the same server: hold its slot, then fill its queue.
  const h = (await ask(port, "/")).body;
  const c1 = new Client(port);
  const c2 = new Client(port);
  cleanup.push(async () => (c1.close(), c2.close()));
  c1.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  await waitFor(() => held.length === 1, 3000, "the held request");
  c2.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  const queue = last.rt.backends.get("bk")!.servers.find((s) => s.name === h)!.queue;
  await waitFor(() => queue.length === 1, 3000, "the queued request");
  const r = await ask(port, "/", `SRV=${h}`);
  assert.equal(r.status, 503);
  // haproxy leaves the cookie for another choice, which hashes back to the same server: no move.
  assert.match(r.log, new RegExp(` bk/${h} .* 503 .* SQVN .* 0/0 `));
  for (const release of held.splice(0)) release();
});

test("maxidle and maxlife: dates in the cookie, refreshed, and a stale one ignored", async () => {
  const [a, b] = await backends();
  const port = await proxy(a!, b!, "cookie SRV insert indirect maxidle 30m maxlife 2h");
  const r = await ask(port, "/");
  const [value] = setCookies(r.head);
  const m = /^SRV=a\|([A-Za-z0-9+/]{5})\|([A-Za-z0-9+/]{5}); path=\/$/.exec(value!);
  assert.ok(m, value);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(b64ToDate(m[1]!, 0) * 4 - now) <= 4);
  assert.equal(m[1], m[2]);
  // Dates ahead of now (as a just-given cookie's may be, by up to 4 s): straight to a, nothing new.
  const ahead = dateToB64(Math.floor(now / 4) + 2);
  const fresh = await ask(port, "/", `SRV=a|${ahead}|${ahead}`);
  assert.equal(fresh.body, "a");
  assert.equal(fresh.letters, "--VN");
  // Last seen an hour ago (past maxidle): expired, balanced again.
  const hourAgo = dateToB64(Math.floor((now - 3600) / 4));
  const idle = await ask(port, "/", `SRV=a|${hourAgo}|${hourAgo}`);
  assert.equal(idle.letters, "--EI");
  // First given three hours ago (past maxlife): too old.
  const old = dateToB64(Math.floor((now - 3 * 3600) / 4));
  assert.equal((await ask(port, "/", `SRV=a|${m[1]}|${old}`)).letters, "--OI");
  // No date at all while maxidle is set: the dates are added (an update of the same server).
  const bare = await ask(port, "/", "SRV=b");
  assert.equal(bare.body, "b");
  assert.equal(bare.letters, "--VU");
});

test("a denied or tarpitted request's cookie is read for its log line: its letters and server", async () => {
  const [a, b] = await backends();
  const port = await proxy(
    a!,
    b!,
    "cookie SRV insert indirect\n  http-request deny if { path /deny }\n  http-request tarpit if { path /tarpit }\n  timeout tarpit 50ms",
  );
  const valid = await ask(port, "/deny", "SRV=b");
  assert.equal(valid.status, 403);
  assert.match(valid.log, / bk\/b .* 403 .* PRVN /);
  const invalid = await ask(port, "/deny", "SRV=zz");
  assert.match(invalid.log, / bk\/<NOSRV> .* PRIN /);
  const tarpit = await ask(port, "/tarpit", "SRV=a");
  assert.match(tarpit.log, / bk\/a .* 500 .* PTVN /);
  assert.equal(a!.seen.length + b!.seen.length, 0);
});

test("cookie lines: haproxy's checks and messages; outside mode http, the warnings", () => {
  const alerts = (lines: string) =>
    parseConfig([{ name: "t.cfg", text: `${DEFAULTS}backend b\n  ${lines}\n` }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line}: ${d.message}`);
  assert.deepEqual(alerts("cookie SRV insert"), []);
  assert.deepEqual(alerts("cookie"), ["8: 'cookie' expects <cookie_name> as argument."]);
  assert.deepEqual(alerts("cookie SRV rewrite indirect"), [
    "8: cookie 'rewrite' and 'indirect' modes are incompatible.",
  ]);
  assert.deepEqual(alerts("cookie SRV insert prefix"), [
    "8: cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
  ]);
  assert.deepEqual(alerts("cookie SRV preserve"), [
    "8: cookie 'preserve' requires at least 'insert' or 'indirect'.",
  ]);
  assert.deepEqual(alerts("cookie SRV insert domain a/b.com"), [
    "8: character '/' is not permitted in domain name 'a/b.com'.",
  ]);
  assert.deepEqual(alerts("cookie SRV insert attr a;b"), [
    "8: character '%x3B' is not permitted in attribute value.",
  ]);
  assert.deepEqual(alerts("cookie SRV insert maxidle 10x"), [
    "8: unexpected character 'x' in argument to <maxidle>.",
  ]);
  assert.match(alerts("cookie SRV insert frob")[0]!, /^8: 'cookie' supports 'rewrite', 'insert', 'prefix'/);
  // An empty word is a missing one, as haproxy reads them.
  assert.deepEqual(alerts('cookie ""'), ["8: 'cookie' expects <cookie_name> as argument."]);
  assert.deepEqual(alerts('cookie SRV insert domain ""'), ["8: 'domain' expects <domain> as argument."]);
  assert.deepEqual(alerts('cookie SRV insert attr ""'), ["8: 'attr' expects <value> as argument."]);
  assert.deepEqual(alerts('cookie SRV insert maxidle ""'), [
    "8: 'maxidle' expects <idletime> in seconds as argument.",
  ]);
  // The options end at the first empty word: this is a passive cookie.
  assert.deepEqual(alerts('cookie SRV "" insert'), []);
  assert.deepEqual(alerts('server s 127.0.0.1:1 cookie ""'), [
    "8: 'server b/s' : 'cookie' expects <value> as argument..",
  ]);
  const parsed = (text: string) => parseConfig([{ name: "t.cfg", text }], {});
  // What follows a time unit is warned about and ignored; a later cookie line keeps earlier attrs.
  const later = parsed(`${DEFAULTS}  cookie D insert attr X=1 domain .d.com httponly
backend b
  cookie SRV insert maxidle 10sx attr Y=2
frontend f
  bind :8080
  default_backend b
`);
  assert.deepEqual(
    later.diagnostics.map((d) => d.message),
    [
      "unexpected character 'x' after the timer value '10sx', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions.",
    ],
  );
  const ck = later.config.backends.get("b")!.cookie!;
  assert.deepEqual(
    [ck.name, ck.maxidle, ck.attrs, ck.domains, ck.httponly],
    ["SRV", 10, ["X=1", "Y=2"], [], false],
  );
  // The defaults' cookie goes to proxies with a backend only.
  assert.equal(later.config.frontends[0]!.cookie, undefined);
  assert.match(alerts("cookie SRV insert dynamic")[0]!, /not supported by sluice yet/);

  const { diagnostics } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `${DEFAULTS}frontend f\n  bind :8080\n  cookie SRV insert\nbackend t\n  mode tcp\n  cookie SRV insert\n  server s 127.0.0.1:1 cookie s\n`,
      },
    ],
    {},
  );
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    [
      "'cookie' ignored because frontend 'f' has no backend capability.",
      "cookie will be ignored for backend 't' (needs 'mode http').",
      "backend 't' : ignoring cookie for server 's' as HTTP mode is disabled.",
    ],
  );
});

test("cookie dates: haproxy's 5-character form, both ways", () => {
  for (const n of [0, 1, 63, 64, 451_000_000, 2 ** 30 - 1]) assert.equal(b64ToDate(dateToB64(n), 0), n);
  assert.equal(dateToB64(1), "AAAAB");
  assert.equal(b64ToDate("AA=AA", 0), -1);
  assert.equal(b64ToDate("AAA", 0), -1);
});

test("use-server comes before the cookie: the cookie is then unused (U) and no cookie is inserted", async () => {
  const [a, b] = await backends();
  const port = await proxy(a!, b!, "cookie SRV insert indirect nocache\n  use-server a if { path_beg /a }");
  // As haproxy 2.6.12 logged the same requests (a rule's path, a cookie, both, neither).
  for (const [path, cookie, body, letters, inserted] of [
    ["/a1", "SRV=b", "a", "UN", []],
    ["/x", "SRV=b", "b", "VN", []],
    ["/a2", undefined, "a", "NN", []],
    ["/y", undefined, "a", "NI", ["SRV=a; path=/"]],
    ["/a3", "SRV=zz", "a", "UN", []],
    ["/a4", "SRV=", "a", "UN", []],
  ] as const) {
    const r = await ask(port, path, cookie);
    assert.deepEqual([r.body, r.letters?.slice(2), setCookies(r.head)], [body, letters, inserted], path);
  }
});

test("force-persist sends a cookie to its server even in maintenance; ignore-persist leaves the cookie unused", async () => {
  const [a, b] = await backends();
  const port = await proxy(
    a!,
    b!,
    "cookie SRV insert indirect nocache\n  ignore-persist if { path_beg /static }\n  force-persist if { path_beg /force }",
    "disabled",
  );
  // As haproxy 2.6.12 logged the same requests.
  for (const [path, cookie, body, letters, inserted] of [
    ["/force1", "SRV=a", "a", "DN", []],
    ["/2", "SRV=a", "b", "DI", ["SRV=b; path=/"]],
    ["/static3", "SRV=b", "b", "UN", []],
    ["/static4", undefined, "b", "NN", []],
  ] as const) {
    const r = await ask(port, path, cookie);
    assert.deepEqual([r.body, r.letters?.slice(2), setCookies(r.head)], [body, letters, inserted], path);
  }
});

test("persistence rules are weighed when the backend is known, before its http-request rules", async () => {
  const [a, b] = await backends();
  // The backend's rule takes the header away; haproxy's ignore-persist saw it already (--UN).
  const port = await proxy(
    a!,
    b!,
    "cookie SRV insert indirect nocache\n  http-request del-header x-ign\n  ignore-persist if { req.hdr(x-ign) -m found }",
  );
  const c = new Client(port);
  c.send("GET /ign HTTP/1.1\r\nHost: x\r\nx-ign: 1\r\nCookie: SRV=b\r\nContent-Length: 0\r\n\r\n");
  const r = await c.response();
  c.close();
  const log = await rx.take(/ "GET \/ign HTTP\/1.1"/);
  assert.equal(r.body, "a");
  assert.match(log, / --UN /);
});

test("capture cookie: the first cookie named so, each side, cut to its length, in httplog, clf and %CC/%CS", async () => {
  const log = await syslogReceiver();
  cleanup.push(log.close);
  const srv = await httpBackend("s", (req, res) => {
    const sc = req.headers["x-sc"];
    if (typeof sc === "string") res.setHeader("Set-Cookie", sc.split("||"));
    res.end(`cookie=${req.headers.cookie ?? ""}`);
  });
  cleanup.push(srv.close);
  const { config, diagnostics } = parseConfig([
    { name: "c.cfg", text: `${DEFAULTS}frontend g\n  bind :1\n  capture cookie SID= len 100\n` },
  ]);
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    ["truncating capture length to 63 bytes for frontend 'g'."],
  );
  assert.equal(config.frontends[0]!.captureCookie?.len, 63);
  // tune.http.cookielen sets that limit (haproxy 2.6.12 said the same for 10).
  const tuned = parseConfig([
    {
      name: "c.cfg",
      text: `global\n  tune.http.cookielen 10\n${DEFAULTS}frontend g\n  bind :1\n  capture cookie SID= len 30\n`,
    },
  ]);
  assert.deepEqual(
    tuned.diagnostics.map((d) => d.message),
    ["truncating capture length to 10 bytes for frontend 'g'."],
  );
  assert.equal(tuned.config.frontends[0]!.captureCookie?.len, 10);
  const p = await startProxy(`${loggedDefaults(log)}
frontend f
  bind 127.0.0.1:1
  capture cookie SESS len 12
  default_backend b
frontend g
  bind 127.0.0.1:1
  capture cookie SID= len 30
  log-format "CC=%CC CS=%CS Q=%{+Q}CC %{-M}CS."
  http-request deny if { path /deny }
  default_backend b
frontend h
  bind 127.0.0.1:1
  capture cookie X len 10
  option httplog clf
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(() => p.stop());
  const [f, g, h] = p.ports;
  const ask = async (port: number, path: string, headers: string): Promise<string> => {
    const c = new Client(port);
    c.send(`GET ${path} HTTP/1.1\r\nHost: h\r\n${headers}\r\n`);
    const r = await c.response();
    c.close();
    return r.body;
  };
  // As haproxy 2.6.12 logged the same requests; the blanks around an `=` leave every cookie read.
  await ask(
    f!,
    "/1",
    "Cookie: a=1; SESSIONID=abcdefghijklmnop; SESSX=2\r\nX-SC: SESSNEW=xyz; Path=/||SESS2=zz\r\n",
  );
  assert.match(await log.take(/"GET \/1 /), / 200 \d+ SESSIONID=ab SESSNEW=xyz ---- /);
  await ask(f!, "/2", "Cookie: $Version=1; SES=1, SESS=comma\r\n");
  assert.match(await log.take(/"GET \/2 /), / 200 \d+ SESS=comma - ---- /);
  assert.equal(await ask(f!, "/3", "Cookie: a=1;  SESS  =  v1 ; b=2\r\n"), "cookie=a=1;  SESS=v1 ; b=2");
  assert.match(await log.take(/"GET \/3 /), / 200 \d+ SESS=v1 - ---- /);
  await ask(f!, "/4", "");
  assert.match(await log.take(/"GET \/4 /), / 200 \d+ - - ---- /);
  await ask(g!, "/", "Cookie: SIDX=1; SID=ok\r\nX-SC: SID=\r\n");
  assert.equal(await log.take(/^CC=SID=ok/), 'CC=SID=ok CS=SID= Q="SID=ok" SID=.');
  await ask(g!, "/deny", "Cookie: SID=denied\r\n");
  assert.equal(await log.take(/^CC=SID=denied/), 'CC=SID=denied CS=- Q="SID=denied" .');
  await ask(g!, "/", "Cookie: SID\r\n");
  assert.equal(await log.take(/^CC=-/), 'CC=- CS=- Q="" .');
  await ask(h!, "/", "Cookie: X=1\r\nX-SC: XY=2\r\n");
  assert.match(await log.take(/"h" "b" "s"/), / "X=1" "XY=2"$/);
});
