// Variables: set-var, set-var-fmt, unset-var and the var() fetch, in haproxy's scopes. The expected
// values are what haproxy 2.6.12 sent and logged with the same configuration.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  startProxy,
  headServer,
  Client,
  exchange,
  syslogReceiver,
  loggedDefaults,
  type Proxy,
  type SyslogReceiver,
  alertsFor,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/**
 * A proxy logging to a syslog receiver, its frontend `f` made of `lines`, its default backend a
 * server that answers every request with an empty 200; `more` sections follow.
 */
async function proxyWith(lines: string, more = ""): Promise<{ q: Proxy; rx: SyslogReceiver }> {
  const srv = await headServer((_head, s) => {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  cleanup.push(srv.close);
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
${lines}
  default_backend b
backend b
  server s 127.0.0.1:${srv.port}
${more}`);
  cleanup.push(q.stop);
  return { q, rx };
}

/** The headers of a response head whose names start with x-, as "name: value" in lower case names. */
const xHeaders = (head: string): string[] =>
  head
    .split("\r\n")
    .filter((l) => /^x-/i.test(l))
    .map((l) => l.replace(/^[^:]*/, (n) => n.toLowerCase()));

test("variables live in their scopes as in haproxy 2.6.12: sess across a connection's requests, txn for one, req until the response, proc for the process", async () => {
  const { q, rx } = await proxyWith(`
  log-format "L host=%[var(txn.host)] req=%[var(req.path)] res=%[var(res.s)] sess=%[var(sess.n)] def=%[var(req.path,d)]"
  http-request set-var(sess.n) int(2) if { var(sess.n) -m int 1 }
  http-request set-var(sess.n) int(1) if !{ var(sess.n) -m found }
  http-request set-var(txn.host) req.hdr(host)
  http-request set-var(txn.only) str(one) if { path /p1 }
  http-request set-var(req.path) path
  http-request set-var(txn.seen) var(sess.n)
  http-request set-var-fmt(txn.fmt) "%[path]-%[var(req.path)]"
  http-request set-var(proc.last) path if { path_beg /p }
  http-request set-var(txn.c1,ifnotexists) str(first)
  http-request set-var(txn.c1,ifnotexists) str(second)
  http-request set-var(txn.e,ifnotempty) req.hdr(x-empty)
  http-request set-var(txn.g) int(5)
  http-request set-var(txn.g,ifgt) int(3)
  http-request set-var(txn.g,ifgt) int(7)
  http-request set-var(txn.m) method
  http-request set-var(txn.u,ifexists) str(u)
  http-request unset-var(txn.host) if { path /unset }
  http-response set-var(res.s) status
  http-response set-header X-Host %[var(txn.host)]
  http-response set-header X-Req %[var(req.path)]
  http-response set-header X-Def %[var(req.path,dflt)]
  http-response set-header X-Def2 %[var(txn.none,dflt)]
  http-response set-header X-Res %[var(res.s)]
  http-response set-header X-Fmt %[var(txn.fmt)]
  http-response set-header X-C1 %[var(txn.c1)]
  http-response set-header X-E %[var(txn.e,unset)]
  http-response set-header X-G %[var(txn.g)]
  http-response set-header X-Sess %[var(sess.n)]
  http-response set-header X-Seen %[var(txn.seen)]
  http-response set-header X-Proc %[var(proc.last)]
  http-response set-header X-M %[var(txn.m)]
  http-response set-header X-U %[var(txn.u,none)]
  http-response set-header X-Only %[var(txn.only)]
  http-response set-header X-Acl yes if { var(txn.host) -m str x }
  http-response set-header X-Int yes if { var(txn.g) -m int 3 }`);
  const c = new Client(q.port);
  c.send(
    "GET /p1 HTTP/1.1\r\nHost: x\r\nX-Empty: \r\n\r\nGET /unset HTTP/1.1\r\nHost: x\r\n\r\nGET /q HTTP/1.1\r\nHost: y\r\n\r\n",
  );
  const heads: string[][] = [];
  for (let i = 0; i < 3; i++) heads.push(xHeaders((await c.response()).head));
  c.close();
  // The same headers in each response but those listed after it.
  const common = (host: string, fmt: string, sess: string) => [
    `x-host: ${host}`,
    "x-req: ",
    "x-def: ",
    "x-def2: dflt",
    "x-res: 200",
    `x-fmt: ${fmt}`,
    "x-c1: first",
    "x-e: unset",
    "x-g: 3",
    `x-sess: ${sess}`,
    `x-seen: ${sess}`,
    "x-proc: /p1",
    "x-m: GET",
    "x-u: none",
    // Set by the first request only.
    `x-only: ${host === "x" && fmt === "/p1-/p1" ? "one" : ""}`,
  ];
  assert.deepEqual(heads[0], [...common("x", "/p1-/p1", "1"), "x-acl: yes", "x-int: yes"]);
  assert.deepEqual(heads[1], [...common("", "/unset-/unset", "2"), "x-int: yes"]);
  assert.deepEqual(heads[2], [...common("y", "/q-/q", "2"), "x-int: yes"]);
  // A new connection has its own session variables; the process's stay.
  const other = await exchange(q.port, "GET /z HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.deepEqual(
    xHeaders(other.split("\r\n\r\n")[0]!).filter((h) => /^x-(sess|proc)/.test(h)),
    ["x-sess: 1", "x-proc: /p1"],
  );
  // Logged with the response's scope: the request's variables are gone.
  for (const line of [
    "L host=x req=- res=200 sess=1 def=-",
    "L host=- req=- res=200 sess=2 def=-",
    "L host=y req=- res=200 sess=2 def=-",
    "L host=x req=- res=200 sess=1 def=-",
  ])
    assert.equal(await rx.take(/^L /), line);
});

test("an answer from the proxy ends the request's variables too: a deny, a return, a redirect, a 503 log without them", async () => {
  const { q, rx } = await proxyWith(
    `
  log-format "L %ST req=%[var(req.path)] txn=%[var(txn.p)]"
  http-request set-var(req.path) path
  http-request set-var(txn.p) path
  http-request deny if { path /deny }
  http-request return status 200 if { path /ret }
  http-request redirect location /x if { path /redir }
  use_backend none if { path /none }`,
    "backend none",
  );
  for (const [path, status] of [
    ["/deny", 403],
    ["/ret", 200],
    ["/redir", 302],
    ["/none", 503],
    ["/ok", 200],
  ] as const) {
    await exchange(q.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(await rx.take(/^L /), `L ${status} req=- txn=${path}`);
  }
});

test("a request that cannot be read is logged without a stream: none of the last request's variables, no default", async () => {
  const { q, rx } = await proxyWith(`
  log-format "L %ST %tsc only=%[var(txn.only)] req=%[var(req.p)] d=%[var(req.p,dflt)]"
  http-request set-var(txn.only) str(one) if { path /p1 }
  http-request set-var(req.p) path`);
  await exchange(q.port, "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\n");
  // As haproxy 2.6.12 logged the two.
  assert.equal(await rx.take(/^L 200/), "L 200 ---- only=one req=- d=-");
  assert.equal(await rx.take(/^L 400/), "L 400 PR-- only=- req=- d=-");
});

test("variable rules and fetches are refused in haproxy 2.6.12's words", () => {
  const rule = (r: string, m: string) => `error detected in frontend 'f' while parsing '${r}' rule : ${m}.`;
  const scopes =
    "A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'";
  const actions = "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";
  const cases: [string, string][] = [
    [
      "http-request set-var(foo) str(a)",
      rule("http-request set-var(foo)", `invalid variable name 'foo'. ${scopes}`),
    ],
    [
      "http-request set-var(txn.a-b,ifset) str(a)",
      rule("http-request set-var(txn.a-b,ifset)", "invalid syntax at char '-b,ifset)'"),
    ],
    [
      "http-request set-var(txn.x,ifbad) str(a)",
      rule("http-request set-var(txn.x,ifbad)", 'unknown condition "ifbad"'),
    ],
    [
      "http-request unset-var(txn.x,ifset)",
      rule(
        "http-request unset-var(txn.x,ifset)",
        'unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" manage conditions',
      ),
    ],
    ["http-request set-var(txn.x)", rule("http-request set-var(txn.x)", "missing fetch method")],
    [
      "http-request set-varx(txn.x) str(a)",
      rule("http-request set-varx(txn.x)", `invalid or incomplete action 'set-varx(txn.x)'. ${actions}`),
    ],
    [
      "http-request set-var(txn.x str(a)",
      rule("http-request set-var(txn.x", `incomplete argument after action 'set-var(txn.x'. ${actions}`),
    ],
    ["http-request set-var()", rule("http-request set-var()", "Empty variable name cannot be accepted")],
    [
      "http-request set-var(txn.) str(a)",
      rule("http-request set-var(txn.)", `invalid variable name 'txn.'. ${scopes}`),
    ],
    [
      "http-response set-var(txn.x) req.hdr(host)",
      rule(
        "http-response set-var(txn.x)",
        "fetch method 'set-var(txn.x)' extracts information from 'HTTP request headers', none of which is available here",
      ),
    ],
    [
      "http-request set-var-fmt(txn.x) %[res.hdr(x)]",
      rule(
        "http-request set-var-fmt(txn.x)",
        "sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here",
      ),
    ],
    [
      "http-request set-var(txn.x) str(a),lower,bogus",
      rule("http-request set-var(txn.x)", "unknown converter 'bogus'"),
    ],
    [
      "http-request set-var(txn.x) int()",
      rule(
        "http-request set-var(txn.x)",
        "fetch method 'int' : expected type 'integer' at position 1, but got nothing",
      ),
    ],
    [
      "http-request set-var(txn.x) str(a) str(b)",
      "'http-request set-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'str(b)'.",
    ],
    [
      "http-request set-header X %[var(txn.a-b)]",
      rule(
        "http-request set-header",
        "failed to parse sample expression <var(txn.a-b)]> : invalid args in fetch method 'var' : invalid syntax at char '-b'",
      ),
    ],
    [
      "acl a var(txn.x) foo",
      "error detected while parsing ACL 'a' : matching method must be specified first (using '-m') when using a sample fetch of this type ('var').",
    ],
    [
      "acl a var() -m str foo",
      "error detected while parsing ACL 'a' : invalid args in fetch method 'var' : Empty variable name cannot be accepted in ACL expression 'var()'.",
    ],
  ];
  for (const [line, message] of cases) assert.deepEqual(alertsFor(line), [message], line);
  for (const line of [
    "http-request set-var(txn.x,ifexists,ifgt) str(a) if TRUE",
    "http-request set-var(check.x) str(a)",
    "http-request set-var(txn.x) str()",
    "http-request set-var(txn.x) str",
    "http-response set-var(txn.x) hdr(x)",
    "http-request set-var(txn.x,,bogus) str(a)",
    "http-request set-header X %[var(txn.x,def)]",
  ])
    assert.deepEqual(alertsFor(line), [], line);
});
