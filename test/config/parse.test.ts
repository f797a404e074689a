import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import type { Diagnostic } from "../../src/config/model.js";
import { autoIds } from "../../src/config/server.js";
import { formatDiagnostic } from "../../src/config/load.js";

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfig([{ name: "t.cfg", text: text.replace(/^\n/, "") }], env);

const alerts = (ds: Diagnostic[]) => ds.filter((d) => d.level === "alert");
const warnings = (ds: Diagnostic[]) => ds.filter((d) => d.level === "warning");

/** Asserts exactly one alert, on `line`, matching `re`. */
function oneAlert(text: string, line: number, re: RegExp): void {
  const a = alerts(parse(text).diagnostics);
  assert.equal(a.length, 1, JSON.stringify(a));
  assert.equal(a[0]!.where?.line, line, a[0]!.message);
  assert.match(a[0]!.message, re);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const BASE = `
defaults
  mode http
  timeout client 1s
  timeout connect 1s
  timeout server 1s
`;

test("the article's keywords parse into the model, with defaults inherited", () => {
  const { config, diagnostics } = parse(`
global
  maxconn 9000
  log 127.0.0.1:5514 len 2048 format rfc5424 local1 info
defaults
  mode http
  log global
  option httplog
  option http-server-close
  option dontlognull
  option redispatch
  option contstats
  retries 3
  backlog 10000
  timeout client 25s
  timeout connect 5s
  timeout server 25s
  timeout tunnel 3600s
  timeout http-keep-alive 1s
  timeout http-request 15s
  timeout queue 30s
  timeout tarpit 60s
  timeout client-fin 2s
  timeout server-fin 3s
  timeout check 4s
  default-server inter 3s rise 2 fall 3
  option forwardfor except 127.0.0.0/8 header X-Client if-none
frontend ft_web
  bind 127.0.0.1:8080 name http
  bind [::1]:8081,:8082
  maxconn 10000
  acl host_ws hdr_beg(Host) -i ws.
  use_backend bk_ws if host_ws
  default_backend bk_web
backend bk_web
  balance roundrobin
  option httpchk HEAD /
  server websrv1 127.0.0.1:80 maxconn 100 weight 10 cookie websrv1 check
backend bk_ws
  option httpchk GET / HTTP/1.1\\r\\nHost:\\ ws.domain.com
  http-check expect status 101
  http-request deny deny_status 400 if { hdr_cnt(Sec-WebSocket-Key) eq 0 }
  server websrv1 [::1]:8080 maxconn 30000 weight 10 cookie websrv1 check inter 1s backup disabled
`);
  assert.deepEqual(alerts(diagnostics), []);
  assert.equal(config.global.maxconn, 9000);
  const fe = config.frontends[0]!;
  assert.equal(fe.mode, "http");
  assert.equal(fe.httpConnMode, "server-close");
  assert.equal(fe.logFormat, "httplog");
  assert.equal(fe.logs.length, 1, "log global copies the global targets");
  assert.equal(fe.logs[0]!.port, 5514);
  assert.equal(fe.logs[0]!.facility, "local1");
  assert.equal(fe.logs[0]!.level, 6);
  assert.equal(fe.logs[0]!.len, 2048);
  assert.deepEqual(fe.timeouts, {
    client: 25000,
    connect: 5000,
    server: 25000,
    tunnel: 3_600_000,
    httpKeepAlive: 1000,
    httpRequest: 15000,
    queue: 30000,
    tarpit: 60000,
    clientFin: 2000,
    serverFin: 3000,
    check: 4000,
  });
  assert.deepEqual(fe.forwardfor, {
    header: "X-Client",
    except: { address: "127.0.0.0", prefix: 8, family: "ipv4" },
    ifNone: true,
  });
  assert.deepEqual(
    fe.binds.map((b) => [b.host, b.port, b.name]),
    [
      ["127.0.0.1", 8080, "http"],
      ["::1", 8081, undefined],
      ["", 8082, undefined],
    ],
  );
  assert.equal(fe.maxconn, 10000);
  assert.equal(fe.backlog, 10000);
  assert.equal(fe.retries, 3);
  assert.deepEqual(fe.redispatch, { interval: -1 });
  assert.ok(fe.dontlognull && fe.contstats);
  assert.equal(fe.useBackends[0]!.backend, "bk_ws");
  assert.deepEqual(fe.useBackends[0]!.cond!.groups, [[{ negate: false, name: "host_ws" }]]);
  assert.equal(fe.defaultBackend?.name, "bk_web");
  const web = config.backends.get("bk_web")!;
  assert.deepEqual(web.httpchk, { method: "HEAD", uri: "/", version: "HTTP/1.0", headers: [], body: "" });
  const s = web.servers[0]!;
  assert.deepEqual(
    [s.host, s.port, s.maxconn, s.weight, s.cookie, s.check, s.inter, s.rise, s.fall],
    ["127.0.0.1", 80, 100, 10, "websrv1", true, 3000, 2, 3],
  );
  const ws = config.backends.get("bk_ws")!;
  assert.deepEqual(ws.httpchk, {
    method: "GET",
    uri: "/",
    version: "HTTP/1.1",
    headers: ["Host: ws.domain.com"],
    body: "",
  });
  assert.deepEqual(
    ws.httpCheckExpect.map((e) => [e.kind, e.pattern, e.negate]),
    [["status", "101", false]],
  );
  const rule = ws.httpRequest[0]!;
  assert.deepEqual(rule.action, { kind: "deny", status: 400, contentType: undefined, body: undefined });
  assert.equal(rule.cond!.groups[0]![0]!.anon!.fetch, "hdr_cnt(Sec-WebSocket-Key)");
  const s2 = ws.servers[0]!;
  assert.deepEqual([s2.host, s2.inter, s2.backup, s2.disabled], ["::1", 1000, true, true]);
  // haproxy 2.6 warns about headers hidden in the httpchk version string.
  assert.ok(warnings(diagnostics).some((d) => /deprecated/.test(d.message) && d.where?.line === 39));
});

test("each defaults section applies to the proxies that follow it; named ones with 'from'", () => {
  const { config } = parse(`
defaults base
  mode http
  timeout client 5s
defaults
  mode tcp
  timeout client 7s
frontend a
  bind :1
  default_backend b
frontend c from base
  bind :2
  default_backend b
defaults
  timeout server 1s
backend b
`);
  const [a, c] = config.frontends;
  assert.equal(a!.mode, "tcp");
  assert.equal(a!.timeouts.client, 7000);
  assert.equal(c!.mode, "http");
  assert.equal(c!.timeouts.client, 5000);
  // A new anonymous defaults section starts from haproxy's built-in defaults, not the previous one.
  const b = config.backends.get("b")!;
  assert.equal(b.mode, "tcp");
  assert.equal(b.timeouts.client, undefined);
  assert.equal(b.timeouts.server, 1000);
});

test("no option and option overrides", () => {
  const { config } = parse(`${BASE}
  option forwardfor
  option http-server-close
backend b
  no option http-server-close
  option httpclose
frontend f
  bind :1
  no option forwardfor
  default_backend b
`);
  assert.equal(config.backends.get("b")!.httpConnMode, "close");
  const f = config.frontends[0]!;
  assert.equal(f.httpConnMode, "server-close");
});

test("several global sections, setenv, and .if blocks", () => {
  const { config, diagnostics } = parse(
    `
global
  tune.http.maxhdr 50
global
  setenv PORT 9000
.if defined(NOPE)
  maxconn 1
.elif streq(a,a)
  tune.bufsize 32768
.else
  maxconn 2
.endif
.if version_atleast(2.6)
  .if defined(HOME)
  maxconn 300
  .endif
.endif
${BASE}
frontend f
  bind ":\${PORT}"
  default_backend b
backend b
`,
    { HOME: "/root" },
  );
  assert.deepEqual(alerts(diagnostics), []);
  assert.equal(config.global.bufsize, 32768);
  assert.equal(config.global.maxconn, 300);
  assert.equal(config.global.maxhdr, 50);
  assert.equal(config.frontends[0]!.binds[0]!.port, 9000);
});

test("addresses expand $NAME and ${NAME} unquoted, as haproxy expands every address", () => {
  const { config, diagnostics } = parse(
    `${BASE}
frontend f
  bind \${LO}:$PORT,'$LO:\${PORT}1'
  log $LO:\${PORT}2 local0
  default_backend b
backend b
  source $LO
  server s $LO:\${PORT}3 addr \${LO} source $LO:0
  server u \${NOPE}127.0.0.2:$PORT$NOPE
`,
    { LO: "127.0.0.1", PORT: "9" },
  );
  assert.deepEqual(alerts(diagnostics), []);
  const f = config.frontends[0]!;
  assert.deepEqual(
    f.binds.map((b) => `${b.host}:${b.port}`),
    ["127.0.0.1:9", "127.0.0.1:91"],
  );
  assert.equal(f.logs[0]!.host, "127.0.0.1");
  assert.equal(f.logs[0]!.port, 92);
  const [s, u] = config.backends.get("b")!.servers;
  assert.deepEqual(
    [s!.host, s!.port, s!.checkAddr, s!.source?.host],
    ["127.0.0.1", 93, "127.0.0.1", "127.0.0.1"],
  );
  assert.deepEqual([u!.host, u!.port], ["127.0.0.2", 9]);
});

test("bind fd@N and a port range", () => {
  const { config, diagnostics } = parse(
    `${BASE}
frontend f
  bind fd@3
  bind "fd@\${FD}"
  bind 127.0.0.1:9000-9002
  default_backend b
backend b
`,
    { FD: "4" },
  );
  assert.deepEqual(alerts(diagnostics), []);
  assert.deepEqual(
    config.frontends[0]!.binds.map((b) => b.fd ?? b.port),
    [3, 4, 9000, 9001, 9002],
  );
});

test("errors name the line and the keyword", () => {
  oneAlert(`${BASE}frontend f\n  bind :1\n  foo bar\n`, 8, /unknown keyword 'foo' in 'frontend' section/);
  oneAlert(`global\n  nosuch 1\n`, 2, /unknown keyword 'nosuch' in 'global' section/);
  oneAlert(`${BASE}  frob\n`, 6, /unknown keyword 'frob' in 'defaults' section/);
  oneAlert(
    `${BASE}frontend f\n  bind :1\n  use_backend nope\n`,
    8,
    /unable to find required use_backend: 'nope'/,
  );
  oneAlert(
    `${BASE}frontend f\n  bind :1\n  default_backend nope\n`,
    8,
    /unable to find required default_backend: 'nope'/,
  );
  // An http frontend cannot hand its requests to a tcp backend (haproxy 2.6.12's message).
  const mixed = parseConfig(
    [{ name: "t.cfg", text: `${BASE}frontend f\n  bind :1\n  default_backend b\nbackend b\n  mode tcp\n` }],
    {},
  ).diagnostics.filter((d) => d.level === "alert");
  assert.deepEqual(
    mixed.map((d) => d.message),
    [
      "http frontend 'f' (t.cfg:7) tries to use incompatible tcp backend 'b' (t.cfg:10) as its default backend (see 'mode').",
    ],
  );
  // The other way round haproxy upgrades the connection to HTTP; sluice says it does not.
  oneAlert(
    `${BASE}frontend f\n  mode tcp\n  bind :1\n  default_backend b\nbackend b\n`,
    9,
    /^tcp frontend 'f' \(t\.cfg:6\) uses http backend 'b' \(t\.cfg:10\) as its default backend: .* not supported by sluice yet\.$/,
  );
  // A deny_status without a body needs one of haproxy's pages; a content-type without a body is dropped.
  oneAlert(
    `${BASE}frontend f\n  bind :1\n  http-request deny deny_status 302\n`,
    8,
    /^error detected in frontend 'f' while parsing 'http-request deny' rule : status code '302' not handled by default with 'default-errorfiles' argument\.\.$/,
  );
  assert.deepEqual(
    parse(
      `${BASE}frontend f\n  bind :1\n  http-request return status 200 content-type text/plain\n`,
    ).diagnostics.map((d) => `${d.level} ${d.where?.line}: ${d.message}`),
    [
      "warning 8: content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined.",
    ],
  );
  oneAlert(`${BASE}backend b\nbackend b\n`, 7, /same name as backend 'b'/);
  oneAlert(`${BASE}backend b\n  server s 127.0.0.1:1\n  server s 127.0.0.1:2\n`, 8, /already defined/);
  oneAlert(`${BASE}backend b\n  server s 127.0.0.1:70000\n`, 7, /invalid port '70000'/);
  oneAlert(
    `${BASE}backend b\n  server s 127.0.0.1:80 weight 300\n`,
    7,
    /^'server b\/s' : weight of server s is not within 0 and 256 \(300\)\.\.$/,
  );
  oneAlert(
    `${BASE}backend b\n  server s 127.0.0.1:80 inter 0\n`,
    7,
    /^'server b\/s' : invalid value 0 for argument 'inter' of server s\.\.$/,
  );
  oneAlert(`${BASE}backend b\n  default-server port\n`, 7, /^'port' expects a port number as argument\.\.$/);
  oneAlert(`${BASE}frontend f\n  bind :0\n  bind :1\n`, 7, /invalid port '0'/);
  oneAlert(`${BASE}  timeout client 5x\n`, 6, /unexpected character 'x'/);
  oneAlert(`${BASE}  timeout nap 5s\n`, 6, /'timeout' supports/);
  oneAlert(`${BASE}  option nosuch\n`, 6, /unknown option 'nosuch'/);
  oneAlert(`${BASE}backend b\n  balance rdp-cookie\n`, 7, /'balance rdp-cookie' is not supported/);
  oneAlert(`${BASE}  acl a path /\n`, 6, /'acl' not allowed in anonymous 'defaults' section/);
  // A named defaults section keeps its ACLs for its own rules (test/proxy/defaults-rules.test.ts).
  assert.deepEqual(alerts(parse(`defaults d\n  acl a path /\n`).diagnostics), []);
  oneAlert(
    `defaults d\n  server-state-file-name x\n`,
    2,
    /^'server-state-file-name' is a haproxy keyword that sluice does not support yet\.$/,
  );
  oneAlert(
    `defaults d\n  block if TRUE\n`,
    2,
    /^The 'block' directive is not supported anymore since HAProxy 2\.1\. Use 'http-request deny'/,
  );
  oneAlert(
    `global\n  server-state-file f\n`,
    2,
    /^'server-state-file' is a haproxy keyword that sluice does not support yet\.$/,
  );
  oneAlert(`global\n  hostname h\n`, 2, /^unknown keyword 'hostname' in 'global' section$/);
  oneAlert(`${BASE}frontend f\n  bind :1\n  http-request cache-use c\n`, 8, /not supported by sluice yet/);
  oneAlert(`${BASE}peers p\n`, 6, /'peers' sections are not supported/);
  oneAlert(
    `frontend f\n  bind "unterminated\n`,
    2,
    /^unmatched quote at position 8:\n {2}bind "unterminated\n {7}\^$/,
  );
  oneAlert(`.if defined(X)\n`, 1, /^non-terminated '.if' block\.$/);
  oneAlert(`.endif\n`, 1, /^lone '.endif' with no matching '.if'\.$/);
  oneAlert(`.if nosuch(x)\n.endif\n`, 1, /failed to parse '.if'/);
  oneAlert(`.alert stop here\n`, 1, /stop here/);
  oneAlert(`bind :80\n`, 1, /unknown keyword 'bind' out of section/);
  oneAlert(
    `${BASE}  option forwardfor except nonsense\n`,
    6,
    /^'option forwardfor except' expects <address>\[\/mask\] as argument\.$/,
  );
  oneAlert(
    `${BASE}frontend f\n  bind :1\n  http-request deny content-type text/html file /nonexistent/page.html\n`,
    8,
    /^error detected in frontend 'f' while parsing 'http-request deny' rule : error opening file '\/nonexistent\/page\.html'\.$/,
  );
  oneAlert(
    `${BASE}  option forwardfor except 10.0.0.0/255.0.255.0\n`,
    6,
    /^'option forwardfor' : invalid network mask/,
  );
  oneAlert(
    `${BASE}  option httplog\n  no option httplog\n`,
    7,
    /negation\/default is not supported for option 'httplog'/,
  );
});

test("a frontend keyword in a backend is ignored with haproxy's warning", () => {
  const { diagnostics } = parse(
    `${BASE}backend b\n  bind 127.0.0.1:1\n  default_backend x\n  option dontlognull\nbackend x\n`,
  );
  assert.deepEqual(alerts(diagnostics), []);
  const w = warnings(diagnostics).map((d) => [d.where?.line, d.message]);
  // haproxy 2.6.12 names an option without "option".
  assert.deepEqual(w, [
    [7, "'bind' ignored because backend 'b' has no frontend capability."],
    [8, "'default_backend' ignored because backend 'b' has no frontend capability."],
    [9, "'dontlognull' ignored because backend 'b' has no frontend capability."],
  ]);
});

const BALANCE_ONLY =
  "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.";

test("past that warning, haproxy still reads the line: its mistakes are refused (checked against haproxy 2.6.12)", () => {
  const fe = (line: string) => `${BASE}frontend f\n  bind :1\n  ${line}\n  default_backend b\nbackend b\n`;
  const be = (line: string) => `${BASE}frontend f\n  bind :1\n  default_backend b\nbackend b\n  ${line}\n`;
  const cases: [string, string[]][] = [
    [be("maxconn 10 5"), ["'maxconn' cannot handle unexpected argument '5'."]],
    [be("capture request header Host"), ["'capture request' expects 'header' <header_name> 'len' <len>."]],
    [fe("http-reuse bogus"), ["'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'."]],
    [fe("retries"), ["'retries' expects an integer argument (dispatch counts for one)."]],
    [be("default_backend b extra"), ["'default_backend' cannot handle unexpected argument 'extra'."]],
    // A backend's use_backend never runs; its name is checked all the same.
    [be("use_backend b"), ["Proxy 'b': loop detected for use_backend: 'b'."]],
    [be("use_backend nope"), ["Proxy 'b': unable to find required use_backend: 'nope'."]],
    // And so is a backend's default_backend.
    [be("default_backend b"), ["Proxy 'b': loop detected for default_backend: 'b'."]],
    [be("default_backend nope"), ["Proxy 'b': unable to find required default_backend: 'nope'."]],
    [fe("balance foo"), [BALANCE_ONLY]],
    // What Sluice lacks is no refusal on a line without effect: haproxy accepts these.
    [fe("balance rdp-cookie(mstshash)"), []],
    [fe("balance url_param userid check_post"), []],
    [fe("balance hdr(host) use_domain_only"), []],
    [fe("http-check disable-on-404"), []],
    [fe("http-check expect hdr name x"), []],
    // But what haproxy itself refuses stays refused.
    [
      fe("http-check bogus"),
      [
        "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'bogus'",
      ],
    ],
    [
      fe("http-check expect bogus 200"),
      [
        "'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'bogus' as argument..",
      ],
    ],
    [fe("http-check expect"), ["'http-check expect' : expects at least a matching pattern as arguments."]],
    [
      fe("http-check send meth GET bogus x"),
      [
        "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got 'bogus' as argument..",
      ],
    ],
    [fe("http-check send-state extra"), ["'http-check' cannot handle unexpected argument 'extra'."]],
    [be("bind 127.0.0.1:1 maxconn 10"), []],
    // haproxy reads no further for these.
    [fe("stick on src extra"), []],
    [fe("stick store-request src extra"), []],
    // These two are alerts where a section lacks the side.
    [
      fe("default-server inter 3s"),
      [
        "[t.cfg:8] : parsing [t.cfg:8] : 'default-server' not allowed because frontend 'f' has no backend capability.",
      ],
    ],
    [be("declare capture request len 5"), ["'declare' only available in frontend or listen section"]],
  ];
  for (const [text, expected] of cases)
    assert.deepEqual(
      alerts(parse(text).diagnostics).map((d) => d.message),
      expected,
      text,
    );
  // A defaults section's default_backend goes to frontends and listens only, as haproxy copies it.
  const inherited = parse(
    `defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n  default_backend b\nfrontend f\n  bind :1\nbackend b\n  server s 127.0.0.1:1\n`,
  );
  assert.deepEqual(inherited.diagnostics, []);
  assert.deepEqual(
    [inherited.config.frontends[0]!.defaultBackend?.name, inherited.config.backends.get("b")!.defaultBackend],
    ["b", undefined],
  );
  // `balance` alone is roundrobin.
  assert.equal(parse(`${BASE}backend b\n  balance\n`).config.backends.get("b")!.balance, "roundrobin");
  // A listen section's default_backend always wins over its servers.
  assert.deepEqual(
    warnings(
      parse(`${BASE}listen l\n  bind :1\n  default_backend b\n  server s 127.0.0.1:1\nbackend b\n`)
        .diagnostics,
    ).map((d) => d.message),
    [
      "In proxy 'l', the 'default_backend' rule always has precedence over the servers, which will never be used.",
    ],
  );
  assert.deepEqual(
    warnings(parse(be("maxconn 10")).diagnostics).map((d) => d.message),
    ["'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?"],
  );
});

test("words past what a keyword takes are refused in haproxy's words (checked against haproxy 2.6.12)", () => {
  const cases: [string, string][] = [
    ["mode http extra", "'mode' cannot handle unexpected argument 'extra'."],
    [
      "mode health",
      "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.",
    ],
    ["maxconn 10 20", "'maxconn' cannot handle unexpected argument '20'."],
    ["backlog 10 20", "'backlog' cannot handle unexpected argument '20'."],
    [
      "option http-server-close extra",
      "'option http-server-close' cannot handle unexpected argument 'extra'.",
    ],
    ["option dontlognull extra", "'option dontlognull' cannot handle unexpected argument 'extra'."],
    ["option dontlog-normal extra", "'option dontlog-normal' cannot handle unexpected argument 'extra'."],
    ["option tcplog extra", "'option tcplog' cannot handle unexpected argument 'extra'."],
    ["option httplog clf extra", "'option httplog' cannot handle unexpected argument 'extra'."],
    ["option tcpka x", "'option tcpka' cannot handle unexpected argument 'x'."],
    ["option splice-auto x", "'option splice-auto' cannot handle unexpected argument 'x'."],
    [
      "capture request header Host len 10 extra",
      "'capture request' cannot handle unexpected argument 'extra'.",
    ],
    ["capture bogus header X len 3", "'capture' expects 'cookie' or 'request header' or 'response header'."],
    ["no option tcplog", "negation/default is not supported for option 'tcplog'."],
    ["no option tcpka", "negation/default is not supported for option 'tcpka'."],
    ["description", "'description' expects a string argument."],
  ];
  for (const [line, message] of cases)
    oneAlert(`${BASE}frontend f\n  bind :1\n  ${line}\n`, 8, new RegExp(`^${escape(message)}$`));
  const backend = (line: string) => `${BASE}backend b\n  ${line}\n`;
  oneAlert(backend("retries 3 4"), 7, /^'retries' cannot handle unexpected argument '4'\.$/);
  oneAlert(
    backend("http-reuse never extra"),
    7,
    /^'http-reuse never' cannot handle unexpected argument 'extra'\.$/,
  );
  oneAlert(
    backend("option httpchk GET /a HTTP/1.1 extra"),
    7,
    /^'option httpchk' cannot handle unexpected argument 'extra'\.$/,
  );
  // Its section first, as haproxy: a frontend's redispatch is warned about whatever follows.
  const r = parse(
    `${BASE}frontend f\n  bind :1\n  option redispatch abc\n  no option redispatch\n`,
  ).diagnostics;
  assert.deepEqual(alerts(r), []);
  assert.equal(
    warnings(r).filter((d) => d.message.startsWith("'redispatch' ignored because frontend")).length,
    2,
  );
  assert.deepEqual(parse(backend("option redispatch abc")).config.backends.get("b")!.redispatch, {
    interval: 0,
  });
});

test("no option <connection mode> goes back to the default only when that mode was in force", () => {
  const mode = (lines: string) => parse(`${BASE}backend b\n${lines}`).config.backends.get("b")!.httpConnMode;
  assert.equal(mode("  option httpclose\n  no option http-server-close\n"), "close");
  assert.equal(mode("  option http-server-close\n  no option http-server-close\n"), "keep-alive");
  assert.equal(mode("  option http-server-close\n  no option http-keep-alive\n"), "server-close");
  assert.equal(mode("  no option http-keep-alive\n"), "keep-alive");
});

test("a timeout of the other side is ignored with haproxy's warning (checked against haproxy 2.6.12)", () => {
  const { config, diagnostics } = parse(
    `${BASE}frontend f\n  bind :1\n  timeout tunnel 1s\n  timeout server-fin 1s\n  timeout http-request 1s\n  default_backend b\n` +
      `backend b\n  timeout client 1s\n  timeout client-fin 1s\n  timeout tarpit 1s\n`,
  );
  assert.deepEqual(alerts(diagnostics), []);
  assert.deepEqual(
    warnings(diagnostics).map((d) => [d.where?.line, d.message]),
    [
      [8, "'timeout tunnel' will be ignored because frontend 'f' has no backend capability"],
      [9, "'timeout server-fin' will be ignored because frontend 'f' has no backend capability"],
      [13, "'timeout client' will be ignored because backend 'b' has no frontend capability"],
      [14, "'timeout client-fin' will be ignored because backend 'b' has no frontend capability"],
    ],
  );
  const [f, b] = [config.frontends[0]!, config.proxies.find((x) => x.name === "b")!];
  assert.deepEqual(
    [f.timeouts.tunnel, f.timeouts.serverFin, f.timeouts.httpRequest],
    [undefined, undefined, 1000],
  );
  assert.deepEqual([b.timeouts.clientFin, b.timeouts.tarpit], [undefined, 1000]);
});

test("HTTP directives of a proxy not in mode http are dropped with haproxy's warnings, in its order", () => {
  const { config, diagnostics } = parse(
    "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n  option httplog\n" +
      "listen li\n  bind :1\n  option forwardfor\n  option http-buffer-request\n  option http-ignore-probes\n" +
      "  http-request deny\n" +
      "  http-response del-header x\n  server s 127.0.0.1:2\n",
  );
  assert.deepEqual(alerts(diagnostics), []);
  assert.deepEqual(
    warnings(diagnostics).map((d) => [d.where?.line, d.message]),
    [
      [
        6,
        "'option httplog' not usable with proxy 'li' (needs 'mode http'). Falling back to 'option tcplog'.",
      ],
      [undefined, "log format ignored for proxy 'li' since it has no log address."],
      [undefined, "'http-request' rules ignored for proxy 'li' as they require HTTP mode."],
      [undefined, "'http-response' rules ignored for proxy 'li' as they require HTTP mode."],
      [undefined, "'option forwardfor' ignored for proxy 'li' as it requires HTTP mode."],
      [undefined, "'option http-buffer-request' ignored for proxy 'li' as it requires HTTP mode."],
      [undefined, "'option http-ignore-probes' ignored for proxy 'li' as it requires HTTP mode."],
    ],
  );
  const li = config.proxies[0]!;
  assert.deepEqual(
    [
      li.logFormat,
      li.httpRequest.length,
      li.httpResponse.length,
      li.forwardfor,
      li.httpBufferRequest,
      li.httpIgnoreProbes,
    ],
    ["tcplog", 0, 0, undefined, false, false],
  );
  // In mode http, the option stands, and its negation clears it.
  const http = parse(
    `${BASE}defaults\n  mode http\n  option http-buffer-request\nbackend b\n  no option http-buffer-request\nbackend c\n`,
  );
  assert.deepEqual(alerts(http.diagnostics), []);
  assert.deepEqual(
    http.config.proxies.map((p) => p.httpBufferRequest),
    [false, true],
  );
});

test("the global keywords Sluice ignores still have their arguments checked, in haproxy's words", () => {
  const cases: [string, string][] = [
    ["nbthread abc", "'nbthread' passed a missing or unparsable integer value in 'abc'"],
    ["nbthread 0", "'nbthread' value must be between 1 and 64 (was 0)"],
    ["nbthread 2 3", "'nbthread' cannot handle unexpected argument '3'."],
    ["noepoll x", "'noepoll' cannot handle unexpected argument 'x'."],
    ["daemon x", "'daemon' cannot handle unexpected argument 'x'."],
    ["spread-checks -1", "'spread-checks' needs a positive value in range 0..50."],
    ["tune.idletimer 2x", "unexpected character 'x' in argument to <tune.idletimer>."],
    ["tune.idletimer 70000", "'tune.idletimer' expects a timer value between 0 and 65535 ms."],
    ["master-worker yes", "'master-worker' only supports 'no-exit-on-failure' option."],
    ["ulimit-n", "'ulimit-n' expects an integer argument."],
    ["ca-base", "global statement 'ca-base' expects a directory path as an argument."],
    ["uid", "'uid' expects an integer argument."],
    ["chroot /var/empty", "'chroot' is not supported by sluice: Node.js cannot change its root directory."],
    ["max-spread-checks 2x", "unsupported character 'x' in 'max-spread-checks' (wants an integer delay)."],
    ["cpu-map 1 0 extra", "cpu-map : 'extra' is not a CPU range."],
    ["cpu-map 1 1024", "cpu-map : supports CPU numbers from 0 to 1023."],
    ["cpu-map 0 0", "cpu-map : '0' is not a valid number/range. It supports numbers from 1 to 64."],
    ["cpu-map 1/x 0", "cpu-map : 'x' is not a valid number/range."],
    [
      "cpu-map auto:all 0",
      "cpu-map : PROC/THREAD range and CPU sets must have the same size to be automatically bound",
    ],
  ];
  for (const [line, message] of cases)
    assert.deepEqual(
      alerts(parse(`global\n  ${line}\n`).diagnostics).map((d) => d.message),
      [message],
      line,
    );
  const ok = parse(
    `global\n  nbthread 4\n  cpu-map 1 0\n  cpu-map auto:1/1-4 0-2 3x\n  cpu-map 1/1- 0 1 5-2\n  description a b c\n  uid 65534\n  gid 65534\n  spread-checks 5\n  max-spread-checks 2s\n`,
  );
  assert.deepEqual(alerts(ok.diagnostics), []);
  const g = ok.config.global;
  assert.deepEqual([g.uid, g.gid, g.spreadChecks, g.maxSpreadChecks], [65534, 65534, 5, 2000]);
  // haproxy warns, and keeps root's.
  const named = parse(`global\n  uid nobody\n`);
  assert.match(warnings(named.diagnostics)[0]!.message, /^ uid: string 'nobody' is not a number\./);
  assert.equal(named.config.global.uid, 0);
});

test("maxconn, tune.bufsize, tune.http.maxhdr, pidfile, log-tag: haproxy's argument checks and readings", () => {
  const cases: [string, string][] = [
    ["maxconn 100 extra", "'maxconn' cannot handle unexpected argument 'extra'."],
    ["maxconn", "'maxconn' expects an integer argument."],
    ["tune.bufsize 16384 extra", "'tune.bufsize' cannot handle unexpected argument 'extra'."],
    ["tune.bufsize abc", "'tune.bufsize' expects a positive integer argument."],
    ["tune.http.maxhdr 100 extra", "'tune.http.maxhdr' cannot handle unexpected argument 'extra'."],
    ["tune.http.maxhdr 40000", "'tune.http.maxhdr' expects a numeric value between 1 and 32767"],
    ["tune.http.maxhdr abc", "'tune.http.maxhdr' expects a numeric value between 1 and 32767"],
    [
      "tune.http.maxhdr 4",
      "'tune.http.maxhdr' 4 leaves no room for the headers of haproxy's own responses: haproxy 2.6 fails to start below 5.",
    ],
    ["pidfile x extra", "'pidfile' cannot handle unexpected argument 'extra'."],
    ["log-tag foo extra", "'log-tag' cannot handle unexpected argument 'extra'."],
  ];
  for (const [line, message] of cases)
    assert.deepEqual(
      alerts(parse(`global\n  ${line}\n`).diagnostics).map((d) => d.message),
      [message],
      line,
    );
  // Zero or no number leaves maxconn derived; the first of two stands; a size rounds up to 16.
  const g = (text: string) => parse(`global\n${text}`).config.global;
  assert.equal(g("  maxconn 0\n").maxconn, undefined);
  assert.equal(g("  maxconn abc\n  maxconn 7\n").maxconn, 7);
  const twice = parse(`global\n  maxconn 5\n  maxconn 7\n  pidfile /a\n  pidfile /b\n`);
  assert.deepEqual(
    twice.diagnostics.map((d) => `${d.level} ${d.where?.line}: ${d.message}`),
    [
      "alert 3: 'maxconn' already specified. Continuing.",
      "alert 5: 'pidfile' already specified. Continuing.",
    ],
  );
  assert.deepEqual([twice.config.global.maxconn, twice.config.global.pidfile], [5, "/a"]);
  assert.equal(g("  tune.bufsize 16385\n").bufsize, 16400);
  // -p is read first: the configuration's pidfile is then the second.
  const preset = parseConfig([{ name: "t.cfg", text: "global\n  pidfile /b\n" }], {}, { pidfile: "/p" });
  assert.equal(preset.config.global.pidfile, "/p");
  assert.equal(preset.diagnostics[0]?.message, "'pidfile' already specified. Continuing.");
});

test("missing timeouts and a log format without a target are warnings", () => {
  const { diagnostics } = parse(
    `defaults\n  mode http\n  option httplog\nfrontend f\n  bind :1\n  default_backend b\nbackend b\n`,
  );
  assert.deepEqual(alerts(diagnostics), []);
  const msgs = warnings(diagnostics).map((d) => d.message);
  assert.ok(msgs.some((m) => m.startsWith("missing timeouts for frontend 'f'")));
  assert.ok(msgs.some((m) => m.startsWith("missing timeouts for backend 'b'")));
  assert.ok(msgs.includes("log format ignored for frontend 'f' since it has no log address."));
  // haproxy 2.6: a frontend without bind is a warning (and `-c` then exits 2: nothing would listen).
  const nobind = parse(`${BASE}frontend f\n`).diagnostics;
  assert.deepEqual(alerts(nobind), []);
  assert.ok(
    warnings(nobind).some(
      (d) =>
        d.message ===
        "frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended.",
    ),
  );
});

test("keywords that only tune haproxy internals are accepted with a warning", () => {
  const { diagnostics } = parse(`global\n  nbthread 4\n  tune.maxaccept 10\n${BASE}  option splice-auto\n`);
  assert.deepEqual(alerts(diagnostics), []);
  assert.equal(warnings(diagnostics).filter((d) => /has no effect/.test(d.message)).length, 3);
  // Their arguments are checked as haproxy 2.6.12 checks them.
  const tuning = [
    "nokqueue",
    "no-memory-trimming",
    "fd-hard-limit 1000",
    "maxpipes 8",
    "tune.pipesize 65536",
    "tune.buffers.reserve 2",
    "tune.idle-pool.shared on",
    "tune.sched.low-latency off",
    "tune.fail-alloc",
    "profiling.tasks auto",
    "tune.pattern.cache-size 0",
  ];
  const ok = parse(`global\n${tuning.map((t) => `  ${t}\n`).join("")}${BASE}`).diagnostics;
  assert.deepEqual(alerts(ok), []);
  assert.equal(warnings(ok).filter((d) => /has no effect/.test(d.message)).length, tuning.length);
  const refused: [string, string][] = [
    ["noevports x", "'noevports' cannot handle unexpected argument 'x'."],
    ["maxpipes", "'maxpipes' expects an integer argument."],
    [
      "tune.pool-high-fd-ratio 101",
      "'tune.pool-high-fd-ratio' expects an integer argument between 0 and 100.",
    ],
    ["tune.fail-alloc -1", "'tune.fail-alloc' expects a numeric value between 0 and 100."],
    ["tune.idle-pool.shared yes", "'tune.idle-pool.shared' expects either 'on' or 'off' but got 'yes'."],
    ["profiling.tasks", "'profiling.tasks' expects either 'on', 'auto', or 'off' but got ''."],
    ["tune.pattern.cache-size -1", "'tune.pattern.cache-size' expects a positive numeric value"],
  ];
  for (const [line, message] of refused)
    assert.deepEqual(
      alerts(parse(`global\n  ${line}\n${BASE}`).diagnostics).map((d) => d.message),
      [message],
      line,
    );
  // The descriptor settings Sluice honours (test/proxy/descriptors.test.ts) are taken without a word.
  const fds = parse(
    `global\n  strict-limits\n  ulimit-n 4000\n  tune.pool-low-fd-ratio 10\n  tune.pool-high-fd-ratio 30\n${BASE}`,
  );
  assert.deepEqual(fds.diagnostics, []);
  assert.deepEqual(
    [fds.config.global.ulimitN, fds.config.global.poolLowFdRatio, fds.config.global.poolHighFdRatio],
    [4000, 10, 30],
  );
  // mworker-max-reloads: haproxy 2.6 says so of an extra word, then loads the configuration anyway.
  const extra = parse(`global\n  mworker-max-reloads 5 6\n${BASE}`);
  assert.deepEqual(
    alerts(extra.diagnostics).map((d) => d.message),
    ["'mworker-max-reloads' cannot handle unexpected argument '6'."],
  );
});

test("http-check rules without option httpchk are ignored with haproxy's warning", () => {
  const { config, diagnostics } = parse(
    `${BASE}backend b\n  http-check send meth GET uri /h\n  http-check expect status 200\n  server s 127.0.0.1:1 check\n`,
  );
  assert.deepEqual(alerts(diagnostics), []);
  assert.ok(
    warnings(diagnostics).some(
      (d) =>
        d.message === "backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored.",
    ),
  );
  const b = config.backends.get("b")!;
  assert.equal(b.httpchk, undefined);
  assert.deepEqual(b.httpCheckExpect, []);
  // haproxy 2.6.12 names a listen section a proxy, and the warning no line.
  const listen = parse(
    `${BASE}listen l\n  bind :1\n  http-check expect status 200\n  server s 127.0.0.1:1 check\n`,
  );
  assert.deepEqual(
    warnings(listen.diagnostics).map((d) => [d.where, d.message]),
    [[undefined, "proxy 'l' uses http-check rules without 'option httpchk', so the rules are ignored."]],
  );
});

test("no log: a proxy leaves the targets it inherited", () => {
  const { config, diagnostics } = parse(`global
  log 127.0.0.1:514 local0
${BASE}  log global
frontend quiet
  bind :1
  no log
  default_backend b
frontend loud
  bind :2
  default_backend b
backend b
`);
  assert.deepEqual(alerts(diagnostics), []);
  const [quiet, loud] = config.frontends;
  assert.deepEqual(quiet!.logs, []);
  assert.equal(loud!.logs.length, 1);
});

test("http-check rules as haproxy 2.6 takes them: one send before any expect, a section's rules replacing inherited ones", () => {
  oneAlert(
    `${BASE}backend b\n  option httpchk\n  http-check send uri /a\n  http-check send uri /b\n`,
    9,
    /'http-check send' : unable to add http-check send rule at step 2/,
  );
  oneAlert(
    `${BASE}backend b\n  option httpchk\n  http-check expect status 200\n  http-check send uri /b\n`,
    9,
    /unable to add http-check send rule/,
  );
  oneAlert(
    `${BASE}backend b\n  option httpchk\n  http-check send hdr X-Empty ''\n`,
    8,
    /'hdr' expects <name> and <value>/,
  );
  const { config, diagnostics } = parse(`${BASE}  option httpchk GET /d HTTP/1.1
  http-check send hdr host d
  http-check expect status 200
backend own
  http-check send uri /own
  http-check expect status 101
backend inherits
`);
  assert.deepEqual(alerts(diagnostics), []);
  const own = config.backends.get("own")!;
  assert.deepEqual(
    [own.httpchk!.method, own.httpchk!.uri, own.httpchk!.version, own.httpchk!.headers],
    ["OPTIONS", "/own", "HTTP/1.0", []],
  );
  assert.deepEqual(
    own.httpCheckExpect.map((e) => e.pattern),
    ["101"],
  );
  const inherits = config.backends.get("inherits")!;
  assert.deepEqual([inherits.httpchk!.uri, inherits.httpchk!.headers], ["/d", ["host: d"]]);
  assert.deepEqual(
    inherits.httpCheckExpect.map((e) => e.pattern),
    ["200"],
  );
});

test("haproxy keywords sluice lacks are named as such, not as unknown", () => {
  oneAlert(
    `${BASE}backend b\n  persist rdp-cookie\n`,
    7,
    /^'persist' is a haproxy keyword that sluice does not support yet/,
  );
  oneAlert(
    `global\n  stats socket /run/x.sock\n`,
    2,
    /^'stats' is a haproxy keyword that sluice does not support/,
  );
  oneAlert(`global\n  tune.ssl.lifetime 1m\n`, 2, /^'tune\.ssl\.lifetime' is a haproxy keyword/);
  oneAlert(`${BASE}backend b\n  frobnicate\n`, 7, /^unknown keyword 'frobnicate' in 'backend' section/);
});

test("options that change behaviour are implemented or refused, never ignored", () => {
  oneAlert(`${BASE}  option checkcache\n`, 6, /'option checkcache' is not supported by sluice/);
  const prefer = parse(
    `${BASE}  option prefer-last-server\nbackend b\n  server s 127.0.0.1:80\nbackend c\n  no option prefer-last-server\n  server s 127.0.0.1:80\n`,
  );
  assert.deepEqual(alerts(prefer.diagnostics), []);
  assert.deepEqual(
    prefer.config.proxies.map((p) => p.preferLastServer),
    [true, false],
  );
  const { config, diagnostics } = parse(`${BASE}  option abortonclose
frontend f
  bind :1
  option tcpka
  default_backend b
backend b
  option srvtcpka
  no option abortonclose
listen l
  bind :2
  option tcpka
`);
  assert.deepEqual(alerts(diagnostics), []);
  const [f, l] = config.frontends;
  const b = config.backends.get("b");
  assert.deepEqual([f!.cliTcpKa, b!.srvTcpKa, b!.abortOnClose, b!.cliTcpKa], [true, true, false, false]);
  assert.deepEqual([l!.cliTcpKa, l!.srvTcpKa, l!.abortOnClose], [true, true, true]);
});

test("conditions: AND terms, OR groups, negation, anonymous ACLs", () => {
  const { config, diagnostics } = parse(`${BASE}
frontend f
  bind :1
  acl a path /a
  acl b path /b
  acl c path /c
  use_backend x if a !b || c or { path /d } ! a
  use_backend x unless a
  default_backend x
backend x
`);
  assert.deepEqual(alerts(diagnostics), []);
  const [r1, r2] = config.frontends[0]!.useBackends;
  assert.deepEqual(r1!.cond!.groups, [
    [
      { negate: false, name: "a" },
      { negate: true, name: "b" },
    ],
    [{ negate: false, name: "c" }],
    [
      { negate: false, anon: { fetch: "path", words: ["/d"], where: { file: "t.cfg", line: 12 } } },
      { negate: true, name: "a" },
    ],
  ]);
  assert.equal(r2!.cond!.unless, true);
});

test("a WebSocket health check with an invalid Sec-WebSocket-Key gets a warning, not an error", () => {
  const check = (key: string) =>
    parse(
      `${BASE}backend b\n  option httpchk GET / HTTP/1.1\\r\\nUpgrade:\\ websocket\\r\\nConnection:\\ Upgrade\\r\\nSec-WebSocket-Key:\\ ${key}\n`,
    ).diagnostics;
  const bad = check("haproxy");
  assert.deepEqual(alerts(bad), []);
  assert.ok(
    warnings(bad).some((d) => /Sec-WebSocket-Key 'haproxy' is not a valid WebSocket key/.test(d.message)),
  );
  assert.ok(!warnings(check("dGhlIHNhbXBsZSBub25jZQ==")).some((d) => /Sec-WebSocket-Key/.test(d.message)));
});

test("server ids: a server's `id`, the others numbered as haproxy does from their places", () => {
  const { config, diagnostics } = parse(
    `${BASE}backend b\n  default-server id 9\n  server a 127.0.0.1:1 id 2\n  server b 127.0.0.1:2\n  server c 127.0.0.1:3\n  server d 127.0.0.1:4 id 1\n`,
  );
  assert.deepEqual(autoIds(config.backends.get("b")!.servers), [2, 3, 4, 1]);
  // haproxy says the default-server's id is not accepted there, and goes on.
  assert.deepEqual(
    diagnostics.map((d) => `${d.level} ${d.where?.line}: ${d.message}`),
    ["warning 7: 'id' option is not accepted in default-server sections"],
  );
});

test("rule replies: haproxy 2.6.12's words and messages", () => {
  const rule = (r: string) => `error detected in frontend 'f' while parsing '${r}' rule : `;
  for (const [line, message] of [
    ["http-request deny status", `${rule("http-request deny")}'status' expects <status_code> as argument.`],
    [
      "http-request deny deny_status",
      `${rule("http-request deny")}'status' expects <status_code> as argument.`,
    ],
    [
      "http-request deny content-type",
      `${rule("http-request deny")}'content-type' expects <ctype> as argument.`,
    ],
    ["http-request return string", `${rule("http-request return")}'string' expects <str> as argument.`],
    ["http-request deny status abc", `${rule("http-request deny")}Unexpected status code '0'.`],
    ["http-request deny status 100", `${rule("http-request deny")}Unexpected status code '100'.`],
    [
      "http-request return string x",
      `${rule("http-request return")}a content type must be defined when non-empty payload is configured.`,
    ],
    [
      "http-request return content-type text/plain string x file /etc/hostname",
      `${rule("http-request return")}unexpected 'file' argument, 'string' already defined.`,
    ],
    [
      "http-request deny foo",
      "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
    ],
    [
      "http-request deny status 404 deny_status 403",
      "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'deny_status'.",
    ],
    [
      "http-request return status 200 hdr X-A",
      `${rule("http-request return")}'hdr' expects <name> and <value> as arguments.`,
    ],
  ] as const)
    oneAlert(
      `${BASE}frontend f\n  bind :1\n  ${line}\n`,
      8,
      new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`),
    );
  // Taken as haproxy takes them: a status read as atol reads it, deny_status then status.
  for (const line of ["http-request return status 200x", "http-request deny deny_status 403 status 404"])
    assert.deepEqual(
      parse(`${BASE}frontend f\n  bind :1\n  ${line}\n`).diagnostics.filter((d) => d.level === "alert"),
      [],
      line,
    );
});

test("places written as haproxy writes them: `parsing [f:l]:` for the messages haproxy writes so", () => {
  const lines = (text: string) =>
    parse(text).diagnostics.map((d) => formatDiagnostic(d, 1).replace(/^.* : config : /, ""));
  assert.deepEqual(lines(`${BASE}backend b\n  cookie SRV insert domain foo\n  cookie\n`), [
    "parsing [t.cfg:7]: domain 'foo' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).",
    "parsing [t.cfg:8] : 'cookie' expects <cookie_name> as argument.",
  ]);
  assert.deepEqual(lines(`${BASE}frontend f\n  bind :1\n  http-request deny foo\n`), [
    "parsing [t.cfg:8]: 'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
  ]);
});

test("use-server: haproxy 2.6.12's messages", () => {
  for (const [line, at, message] of [
    ["use-server", 7, /^'use-server' expects a server name\.$/],
    ["use-server a foo", 7, /^'use-server' requires either 'if' or 'unless' followed by a condition\.$/],
    [
      "use-server a if nosuchacl",
      7,
      /^error detected while parsing switching rule : no such ACL : 'nosuchacl'\.$/,
    ],
    [
      "use-server nope if TRUE",
      7,
      /^backend 'b' : unable to find server 'nope' referenced in a 'use-server' rule\.$/,
    ],
  ] as const)
    oneAlert(`${BASE}backend b\n  ${line}\n  server a 127.0.0.1:80\n`, at, message);
  oneAlert(`${BASE}  use-server a if TRUE\n`, 6, /^'use-server' not allowed in 'defaults' section\.$/);
  // In a frontend: haproxy's warning, then the rule's server is looked for there, and is not found.
  const text = `${BASE}frontend f\n  bind :1\n  use-server a if TRUE\n  default_backend b\nbackend b\n  server a 127.0.0.1:80\n`;
  oneAlert(text, 8, /^frontend 'f' : unable to find server 'a' referenced in a 'use-server' rule\.$/);
  assert.deepEqual(
    parse(text)
      .diagnostics.filter((d) => d.level === "warning")
      .map((d) => d.message),
    ["'use-server' ignored because frontend 'f' has no backend capability."],
  );
});

test("force-persist and ignore-persist: haproxy 2.6.12's messages", () => {
  oneAlert(
    `${BASE}backend b\n  force-persist\n`,
    7,
    /^'force-persist' requires either 'if' or 'unless' followed by a condition\.$/,
  );
  oneAlert(
    `${BASE}backend b\n  ignore-persist if nosuchacl\n`,
    7,
    /^error detected while parsing a 'ignore-persist' rule : no such ACL : 'nosuchacl'\.$/,
  );
  oneAlert(`${BASE}  force-persist if TRUE\n`, 6, /^'force-persist' not allowed in 'defaults' section\.$/);
});

test("haproxy's words and places for its messages, as haproxy 2.6 prints them", () => {
  const first = (text: string) => {
    const d = parse(text).diagnostics[0];
    return d && formatDiagnostic(d, 1).replace(/^.* : config : /, "");
  };
  // Each expected line is haproxy 2.6's own output for the same configuration.
  const cases: [string, string][] = [
    [".elif 1\n", "parsing [t.cfg:1]: lone '.elif' with no matching '.if'."],
    [".foo\n", "parsing [t.cfg:1]: unknown directive '.foo'."],
    [".if 1\nglobal\n\n", "parsing [t.cfg:3]: non-terminated '.if' block."],
    ['global\n  log "foo\n', 'parsing [t.cfg:2]: unmatched quote at position 7:\n  log "foo\n      ^'],
    [
      'global\n\tlog 127.0.0.1 "${X\n',
      'parsing [t.cfg:2]: unmatched brace in environment variable name at position 18:\n  log 127.0.0.1 "${X\n                  ^',
    ],
    ["foo\n", "parsing [t.cfg:1]: unknown keyword 'foo' out of section."],
    [BASE + "backend b\n  option\n", "parsing [t.cfg:7]: 'option' expects an option name."],
    [
      BASE + "backend b\n  no option forwardfor\n",
      "parsing [t.cfg:7]: negation/default is not supported for option 'forwardfor'.",
    ],
    ["global\n  setenv A\n", "parsing [t.cfg:2]: 'setenv' expects a name and a value."],
    [BASE + "  id 3\n", "parsing [t.cfg:6]: 'id' not allowed in 'defaults' section."],
    [
      BASE + "frontend f\n  bind :1\n  http-response allow x\n",
      "parsing [t.cfg:8]: 'http-response allow' expects either 'if' or 'unless' followed by a condition but found 'x'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request del-header x y\n",
      "parsing [t.cfg:8]: 'http-request del-header' expects either 'if' or 'unless' followed by a condition but found 'y'.",
    ],
    ["global foo\n", "parsing [t.cfg:1] : 'global' cannot handle unexpected argument 'foo'."],
    [BASE + "backend b from zz\n", "parsing [t.cfg:6] : defaults section 'zz' not found for backend 'b'."],
    [BASE + "  acl a path /\n", "parsing [t.cfg:6] : 'acl' not allowed in anonymous 'defaults' section."],
    [
      BASE + "  capture request header x len 3\n",
      "parsing [t.cfg:6] : 'capture request' not allowed in 'defaults' section.",
    ],
    [
      BASE + "  capture cookie x len 3\n",
      "parsing [t.cfg:6] : 'capture cookie' not allowed in 'defaults' section.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  capture cookie x len\n",
      "parsing [t.cfg:8] : 'capture' expects 'cookie' <cookie_name> 'len' <len>.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  capture cookie x len 10 a b\n",
      "parsing [t.cfg:8] : 'capture cookie' cannot handle unexpected argument 'b'.",
    ],
    [
      BASE + "backend b\n  timeout server 1x\n",
      "parsing [t.cfg:7] : unexpected character 'x' in 'timeout server'",
    ],
    [
      BASE + "backend b\n  timeout server 30d\n",
      "parsing [t.cfg:7] : timer overflow in argument '30d' to 'timeout server' (maximum value is 2147483647 ms or ~24.8 days)",
    ],
    [
      BASE + "backend b\n  timeout server 1s 2s\n",
      "parsing [t.cfg:7] : 'timeout server' : unexpected extra argument '2s' after value '1s'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  option httplog foo\n",
      "parsing [t.cfg:8] : keyword 'httplog' only supports option 'clf'.",
    ],
    [
      BASE + "backend b\n  option forwardfor header\n",
      "parsing [t.cfg:7] : 'option forwardfor header' expects <header_name> as argument.",
    ],
    [
      BASE + "backend b\n  option forwardfor except 1.2.3.4/99\n",
      "parsing [t.cfg:7] : 'option forwardfor except' expects <address>[/mask] as argument.",
    ],
    [
      BASE + "backend b\n  option forwardfor foo\n",
      "parsing [t.cfg:7] : 'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'.",
    ],
    [
      BASE + "backend b\n  balance uri len x\n",
      "parsing [t.cfg:7] : balance uri : 'len' expects a positive integer (got 'x').",
    ],
    [
      BASE + "backend b\n  balance hdr(Host) foo\n",
      "parsing [t.cfg:7] : balance hdr(Host) only accepts 'use_domain_only' modifier (got 'foo').",
    ],
    [
      BASE + "backend b\n  log 127.0.0.1:514\n",
      "parsing [t.cfg:7] : log : expects <address> and <facility> or global as arguments",
    ],
    ["global\n  log\n", "parsing [t.cfg:2] : log : expects <address> and <facility>  as arguments"],
    [
      BASE + "backend b\n  log 127.0.0.1 len 10 local0\n",
      "parsing [t.cfg:7] : log : invalid log length '10', must be between 80 and 65535",
    ],
    [
      BASE + "backend b\n  log 127.0.0.1 local0 info info foo\n",
      "parsing [t.cfg:7] : log : cannot handle unexpected argument 'foo'",
    ],
    [
      BASE + "backend b\n  option httpchk\n  http-check expect status\n",
      "parsing [t.cfg:8] : 'http-check expect' : 'status' expects a <pattern> as argument.",
    ],
    [
      BASE + "backend b\n  option httpchk\n  http-check send meth GET\n  http-check send meth GET\n",
      "parsing [t.cfg:9] : 'http-check send' : unable to add http-check send rule at step 2 (missing connect rule)..",
    ],
    [
      BASE + "backend b\n  option httpchk\n  http-check send uri\n",
      "parsing [t.cfg:8] : 'http-check send' : 'uri' expects a string as argument..",
    ],
    [
      BASE + "backend b\n  option httpchk\n  http-check send hdr\n",
      "parsing [t.cfg:8] : 'http-check send' : 'hdr' expects <name> and <value> as arguments.",
    ],
    [
      BASE + "frontend f\n  bind 127.0.0.1:1 name\n",
      "parsing [t.cfg:7] : 'bind 127.0.0.1:1' in section 'frontend' : 'name' : missing name",
    ],
    [
      BASE + "frontend f\n  bind 127.0.0.1\n",
      "parsing [t.cfg:7] : 'bind' : missing port specification in '127.0.0.1'",
    ],
    [
      BASE + "frontend f\n  bind :1\n  acl a/b path /\n",
      "parsing [t.cfg:8] : character '/' is not permitted in acl name 'a/b'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  acl a\n",
      "parsing [t.cfg:8] : error detected while parsing ACL 'a' : missing fetch method in ACL expression ''.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  acl a req.hdr(x)y /\n",
      "parsing [t.cfg:8] : error detected while parsing ACL 'a' : missing comma after fetch keyword 'req.hdr' in ACL expression 'req.hdr(x)y'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  acl a req.hdr(x),foo /\n",
      "parsing [t.cfg:8] : error detected while parsing ACL 'a' : unknown converter 'foo' in ACL expression 'req.hdr(x),foo'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  use_backend b if { path /\nbackend b\n",
      "parsing [t.cfg:8] : error detected while parsing switching rule : missing closing '}' in condition.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request deny if { }\n",
      "parsing [t.cfg:8] : error detected while parsing an 'http-request deny' condition : missing fetch method in ACL expression ''.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request redirect location\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request redirect' rule : missing argument for 'location'.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request redirect location /x code 305\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request redirect' rule : 'code': unsupported HTTP code '305' (must be one of 301, 302, 303, 307 or 308).",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-response set-header x\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-response set-header' rule : expects exactly 2 arguments.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request del-header\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request del-header' rule : expects at least 1 argument.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request replace-header x\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request replace-header' rule : expects exactly 3 arguments.",
    ],
    [
      BASE + "frontend f\n  bind :1\n  http-request set-path\n",
      "parsing [t.cfg:8] : error detected in frontend 'f' while parsing 'http-request set-path' rule : expects exactly 1 argument <format>.",
    ],
    ["global\n  pidfile\n", "parsing [t.cfg:2] : 'pidfile' expects a file name as an argument."],
    ["global\n  log-tag\n", "parsing [t.cfg:2] : 'log-tag' expects a tag for use in syslog."],
    [
      "global\n  hard-stop-after 1x\n",
      "parsing [t.cfg:2] : unexpected character 'x' in argument to <hard-stop-after>.\n",
    ],
  ];
  for (const [text, expected] of cases) assert.equal(first(text), expected, text);
});

test("redirect, monitor-uri and monitor fail: haproxy 2.6.12's messages, and its warnings for rules written after those that run after them", () => {
  const said = (lines: string) =>
    parse(`${BASE}frontend f\n  bind :1\n${lines}  default_backend b\nbackend b\n`).diagnostics.map(
      (d) => `${d.level} ${d.where?.line}: ${d.message}`,
    );
  const redirect = (m: string) =>
    `alert 8: error detected in frontend 'f' while parsing redirect rule : ${m}.`;
  const cases: [string, string[]][] = [
    ["  redirect\n", [redirect("redirection type expected ('prefix', 'location', or 'scheme')")]],
    ["  redirect location\n", [redirect("missing argument for 'location'")]],
    [
      "  redirect foo /x\n",
      [
        redirect(
          "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo')",
        ),
      ],
    ],
    [
      "  redirect location /x code 305\n",
      [redirect("'code': unsupported HTTP code '305' (must be one of 301, 302, 303, 307 or 308)")],
    ],
    ["  redirect location /x if nope\n", [redirect("error in condition: no such ACL : 'nope'")]],
    ["  monitor-uri\n", ["alert 8: 'monitor-uri' expects an URI."]],
    ["  monitor-uri /a /b\n", ["alert 8: 'monitor-uri' cannot handle unexpected argument '/b'."]],
    ["  monitor\n", ["alert 8: 'monitor' only supports 'fail'."]],
    [
      "  monitor fail\n",
      ["alert 8: 'monitor fail' requires either 'if' or 'unless' followed by a condition."],
    ],
    [
      "  monitor fail if nope\n",
      ["alert 8: error detected while parsing a 'monitor fail' condition : no such ACL : 'nope'."],
    ],
    [
      "  http-request deny if { path /a }\n  monitor fail if { path /b }\n",
      [
        "warning 9: a 'monitor fail' rule placed after an 'http-request' rule will still be processed before.",
      ],
    ],
    [
      "  use_backend b if { path /x }\n  redirect location /y if { path /z }\n",
      ["warning 9: a 'redirect' rule placed after a 'use_backend' rule will still be processed before."],
    ],
    [
      "  redirect location /y\n  http-request deny\n",
      ["warning 9: a 'http-request' rule placed after a 'redirect' rule will still be processed before."],
    ],
    [
      "  use_backend b if { path /x }\n  http-request deny\n",
      ["warning 9: a 'http-request' rule placed after a 'use_backend' rule will still be processed before."],
    ],
    [
      "  redirect location /y if { res.hdr(x) -m found }\n",
      [
        "warning 8: anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend http-request header rule'",
      ],
    ],
  ];
  for (const [lines, messages] of cases) assert.deepEqual(said(lines), messages, lines);
  const { config } = parse(
    `${BASE}frontend f\n  bind :1\n  monitor-uri /health\n  redirect scheme https drop-query if { path /x }\n`,
  );
  assert.equal(config.proxies[0]!.monitorUri, "/health");
  assert.deepEqual(config.proxies[0]!.redirects[0]!.action, {
    kind: "redirect",
    type: "scheme",
    value: "https",
    code: 302,
    dropQuery: true,
    appendSlash: false,
    ignoreEmpty: false,
  });
});

test("option originalto: haproxy 2.6.12's messages", () => {
  const said = (line: string) =>
    parse(`${BASE}frontend f\n  bind :1\n  ${line}\n`).diagnostics.map(
      (d) => `${d.where?.line}: ${d.message}`,
    );
  assert.deepEqual(said("option originalto header"), [
    "8: 'option originalto header' expects <header_name> as argument.",
  ]);
  assert.deepEqual(said("option originalto except"), [
    "8: 'option originalto except' expects <address>[/mask] as argument.",
  ]);
  assert.deepEqual(said("option originalto if-none"), [
    "8: 'option originalto' only supports optional values: 'except' and 'header'.",
  ]);
  assert.deepEqual(said("no option originalto"), [
    "8: negation/default is not supported for option 'originalto'.",
  ]);
  assert.deepEqual(said("option originalto except 10.0.0.0/8 header X-Dst"), []);
  assert.deepEqual(
    parse(`${BASE}frontend f\n  mode tcp\n  bind :1\n  option originalto\n`).diagnostics.map(
      (d) => d.message,
    ),
    ["'option originalto' ignored for frontend 'f' as it requires HTTP mode."],
  );
});

test("disabled, enabled, bind-process and grace: haproxy 2.6.12's messages", () => {
  const said = (lines: string) =>
    parse(`${BASE}frontend f\n  bind :1\n${lines}`).diagnostics.map((d) =>
      formatDiagnostic(d).replace(/^\[(\w+)\] +\(\d+\) : /, "$1 "),
    );
  assert.deepEqual(said("  disabled 1\n"), [
    "ALERT config : parsing [t.cfg:8] : 'disabled' cannot handle unexpected argument '1'.",
  ]);
  assert.deepEqual(said("  enabled x\n"), [
    "ALERT config : parsing [t.cfg:8] : 'enabled' cannot handle unexpected argument 'x'.",
  ]);
  assert.deepEqual(said("  bind-process 1\n"), [
    "WARNING config : parsing [t.cfg:8]: 'bind-process' has no effect, is deprecated, and will be removed in version 2.7.",
  ]);
  assert.deepEqual(said("  grace 100\n"), [
    "ALERT config : parsing [t.cfg:8]: the 'grace' keyword is not supported any more since HAProxy version 2.5.",
  ]);
  const { config } = parse(`${BASE}  disabled\nfrontend f\n  bind :1\n  enabled\nbackend b\n`);
  assert.deepEqual(
    config.proxies.map((p) => p.disabled),
    [false, true],
  );
});

test("server settings Sluice ignores still have their values checked, as haproxy checks them", () => {
  const cases: [string, string][] = [
    [
      "init-addr libc,bogus",
      "'init-addr' : unknown init-addr method 'bogus', supported methods are 'libc', 'last', 'none'..",
    ],
    ["pool-max-conn -2", "'pool-max-conn' must be >= -1."],
    ["pool-purge-delay 5x", "unexpected character 'x' in argument to <pool-purge-delay>.."],
    ["error-limit 0", "error-limit has to be > 0.."],
  ];
  for (const [opts, message] of cases)
    oneAlert(
      `${BASE}backend b\n  server s 127.0.0.1:80 ${opts}\n`,
      7,
      new RegExp(`^'server b/s' : ${escape(message)}$`),
    );
  // haproxy writes a server line's place without "parsing".
  assert.equal(
    formatDiagnostic(alerts(parse(`${BASE}backend b\n  server s 127.0.0.1:80 rise 0\n`).diagnostics)[0]!, 1),
    "[ALERT]    (1) : config : [t.cfg:7] : 'server b/s' : 'rise' has to be > 0..",
  );
  const { config } = parse(`${BASE}backend b\n  server s 127.0.0.1:80 init-addr last,10.0.0.1,none\n`);
  assert.deepEqual(config.backends.get("b")!.servers[0]!.initAddr, ["last", "10.0.0.1", "none"]);
  // As haproxy 2.6.12: empty methods skipped, and none at all leaves the default ones.
  const methods = (line: string) =>
    parse(
      `${BASE}backend b\n  default-server init-addr none\n  server s 127.0.0.1:80 ${line}\n`,
    ).config.backends.get("b")!.servers[0]!.initAddr;
  assert.equal(methods("init-addr"), undefined);
  assert.deepEqual(methods("init-addr ,"), ["0.0.0.0"]);
  assert.deepEqual(methods("init-addr libc,,none,"), ["libc", "0.0.0.0", "none"]);
});

test("a frontend's tcp-request content track-sc: haproxy's two warnings (checked against haproxy 2.6.12)", () => {
  const warned = (rule: string, extra = "") =>
    warnings(
      parse(
        `${BASE}frontend f\n  bind :1\n  stick-table type string size 10\n${extra}  tcp-request content ${rule}\n`,
      ).diagnostics,
    ).map((d) => d.message.replace(/ : a 'tcp-request content track-sc\*' rule (\w+ \w+).*/, ": $1"));
  assert.deepEqual(warned("track-sc0 src"), ["frontend 'f': not depending"]);
  assert.deepEqual(warned("track-sc0 src if { src 10.0.0.1 }"), ["frontend 'f': not depending"]);
  assert.deepEqual(warned("track-sc0 src if { path /x }"), []);
  assert.deepEqual(warned("track-sc0 hdr(host)"), ["frontend 'f': explicitly depending"]);
  assert.deepEqual(warned("track-sc0 hdr(host)", "  tcp-request inspect-delay 1s\n"), []);
});
