// log-format lines, compared with what haproxy 2.6.12 printed for the same requests and formats
// (`log stdout format raw`, TZ=UTC): the records carry the values haproxy reported.
process.env.TZ = "UTC";

import { test } from "node:test";
import assert from "node:assert/strict";
import { newLogRecord, type LogRecord } from "../../src/log/index.js";
import { compileLogLine, type LogLine } from "../../src/log/log-format.js";
import { formatHttplog } from "../../src/log/format.js";

const env = { pid: 4621, hostname: "vm" };

function rec(over: Partial<LogRecord>): LogRecord {
  const r = newLogRecord();
  Object.assign(r, {
    clientIp: "127.0.0.1",
    clientPort: 57490,
    frontendIp: "127.0.0.1",
    frontendPort: 19901,
    frontend: "f",
    acceptTime: Date.parse("2026-11-27T13:46:23.865Z"),
    actconn: 1,
    feconn: 1,
    empty: false,
  });
  Object.assign(r, over);
  if (over.requestTime === undefined) r.requestTime = r.acceptTime;
  return r;
}

const HTTP = { http: true, logasap: false };

const line = (fmt: string, o = HTTP): LogLine => {
  const l = compileLogLine(fmt, o);
  assert.equal(typeof l, "function", JSON.stringify(l));
  return l as LogLine;
};

const served = rec({
  backend: "b",
  server: "s",
  TR: 0,
  Tw: 0,
  Tc: 0,
  Tr: 0,
  Ta: 0,
  Tt: 0,
  status: 200,
  bytesOut: 78,
  bytesIn: 43,
  requestLine: "GET /p?q=1 HTTP/1.1",
});

test("variables, text and separators as haproxy writes them", () => {
  assert.equal(
    line(
      "a  b %ci  %cp|%s|%b|%CC|%hr|%r|%{+Q}r|%ST|%B|%U|%ts|%tsc|%HM|%HU|%HP|%HQ|%HV|%{+Q}HU|%ID|%f|%ft|%fi:%fp|%{-Q}r|%T|%Ts|%pid|%H",
    )(served, env),
    'a b 127.0.0.1 57490|s|b|-||GET /p?q=1 HTTP/1.1|"GET /p?q=1 HTTP/1.1"|200|78|43|--|----|GET|/p?q=1|/p|?q=1|HTTP/1.1|"/p?q=1"|-|f|f|127.0.0.1:19901|GET /p?q=1 HTTP/1.1|27/Nov/2026:13:46:23 +0000|1795787183|4621|vm',
  );
});

test("timers, dates, counters, captures and quoting", () => {
  const fmt = line(
    "%HM|%HU|%HP|%HQ|%HV|%r|%{+Q}b|%{+Q}Tw|%{+Q}ci|%Tq|%Th|%Ti|%TR|%Ta|%Tt|%t|%tr|%trg|%trl|%Tl|%ms|%ac|%fc|%bc|%sc|%rc|%sq|%bq|%hrl|%CS|%{+Q}CC|%{+Q}s|%{+Q}r",
  );
  const at = Date.parse("2026-11-27T13:46:45.865Z");
  assert.equal(
    fmt(
      {
        ...served,
        frontend: "g",
        acceptTime: at,
        requestTime: at,
        requestLine: "GET /p HTTP/1.1",
        capturedRequest: ["hh"],
      },
      env,
    ),
    'GET|/p|/p||HTTP/1.1|GET /p HTTP/1.1|"b"|0|"127.0.0.1"|0|0|0|0|0|0|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|865|1|1|0|0|0|0|0|hh|-|""|"s"|"GET /p HTTP/1.1"',
  );
  // Denied by a rule: no backend, no server; an HTTP/1.0 request without the captured header.
  const denied = rec({
    frontend: "g",
    acceptTime: at,
    TR: 0,
    Ta: 0,
    Tt: 0,
    status: 403,
    requestLine: "GET /deny?x=1 HTTP/1.0",
    capturedRequest: [""],
  });
  assert.equal(
    fmt(denied, env),
    'GET|/deny?x=1|/deny|?x=1|HTTP/1.0|GET /deny?x=1 HTTP/1.0|"g"|-1|"127.0.0.1"|0|0|0|0|0|0|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|865|1|1|0|0|0|0|0|-|-|""|"<NOSRV>"|"GET /deny?x=1 HTTP/1.0"',
  );
  // A request that could not be read: every part of its line is <BADREQ>, no captures, no TR.
  const bad = rec({
    frontend: "g",
    acceptTime: at,
    TR: -1,
    Ta: 502,
    Tt: 502,
    status: 408,
    requestLine: "<BADREQ>",
  });
  assert.equal(
    fmt(bad, env),
    '<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|"g"|-1|"127.0.0.1"|-1|0|0|-1|502|502|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45.865|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|27/Nov/2026:13:46:45 +0000|865|1|1|0|0|0|0|0||-|""|"<NOSRV>"|"<BADREQ>"',
  );
});

test("haproxy's httplog written as a log-format is httplog", () => {
  const httplog = line(
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r",
  );
  const r = { ...served, Tr: 51, Ta: 51, redispatched: true, retries: 1 };
  assert.equal(httplog(r, env), formatHttplog(r, false));
});

test("what haproxy refuses, in its words, and what sluice does not write yet", () => {
  const why = (fmt: string, o = HTTP) => {
    const l = compileLogLine(fmt, o);
    return typeof l === "function" ? "compiled" : `${l.error}${l.partial ? " (partial)" : ""}`;
  };
  assert.equal(
    why("%xyz"),
    "no such format variable 'xyz'. If you wanted to emit the '%' character verbatim, you need to use '%%'",
  );
  // Names go on with digits; a modifier may be followed by one.
  assert.match(why("%ci1"), /^no such format variable 'ci1'/);
  assert.match(why("%{+Q}1"), /^no such format variable '1'/);
  assert.equal(why("%ci %"), "truncated line after '%' (partial)");
  assert.equal(why("%{+Q"), "truncated line after '+Q'");
  assert.equal(why("%{+Q}"), "parse argument modifier without variable name near '%{+Q}'");
  assert.equal(
    why("% x"),
    "unexpected variable name near ' ' at position 1 line : '% x'. Maybe you want to write a single '%', use the syntax '%%'",
  );
  assert.match(why("a%1"), /^unexpected variable name near '1' at position 2 line : 'a%1'/);
  assert.equal(
    why("x %r", { http: false, logasap: false }),
    "format variable 'r' is reserved for HTTP mode (partial)",
  );
  assert.equal(why("%sslc"), "log-format variable '%sslc' is not supported by sluice yet");
  assert.match(why("%{+E}ST"), /flag '\+E' is not supported by sluice yet/);
  // Flags haproxy does not know, or without a sign, are ignored; a '%' before another character goes.
  assert.equal(
    line("%{}ci %{+Z}ci %{Q}ci %-x %.y 100%% %ci")(served, env),
    "127.0.0.1 127.0.0.1 127.0.0.1 -x .y 100% 127.0.0.1",
  );
});

test("quoting, separators and option logasap as haproxy 2.6.12 writes them", () => {
  // States and dates are never quoted; captures the proxy does not make write nothing, quoted or not.
  assert.equal(
    line("%{+Q}tsc %{+Q}Tl c %{+Q}hr d %HQ e")({ ...served, requestLine: "GET /a HTTP/1.1" }, env),
    "---- 27/Nov/2026:13:46:23 +0000 c d  e",
  );
  assert.equal(
    line("%{+Q}hr %{+Q}hs")({ ...served, capturedRequest: ["hh"], capturedResponse: [""] }, env),
    '"{hh}" "{}"',
  );
  assert.equal(
    line("%Ta %Tt %B %U", { http: true, logasap: true })({ ...served, Ta: 1, Tt: 1, bytesOut: 115 }, env),
    "+1 +1 +115 43",
  );
  // Without a transaction (mode tcp) there is no status: 0.
  assert.equal(line("%ST %B", { http: false, logasap: false })(rec({ bytesOut: 19 }), env), "0 19");
});

test("a proxy's log-format line, end to end; haproxy's warnings when a defaults section replaces one format by another", async () => {
  const { startProxy, httpBackend, syslogReceiver, exchange, DEFAULTS } =
    await import("../helpers/harness.js");
  const { parseConfig } = await import("../../src/config/parse.js");
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}  log global
frontend f
  bind 127.0.0.1:1
  log-format "%ci %b/%s %ST %{+Q}r  %hr   %HP"
  default_backend bk
backend bk
  server s1 127.0.0.1:${b.port}
`);
  try {
    await exchange(p.port, "GET /x?y=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert.equal(await rx.take(/bk\/s1/), '127.0.0.1 bk/s1 200 "GET /x?y=1 HTTP/1.1" /x');
  } finally {
    await p.stop();
    await b.close();
    await rx.close();
  }
  const said = (text: string) =>
    parseConfig([{ name: "t.cfg", text }]).diagnostics.map((d) => `${d.where?.line ?? "-"}: ${d.message}`);
  assert.deepEqual(
    said(
      'defaults\n  mode http\n  log-format "%ci"\n  log-format "%cp"\n  option tcplog\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nbackend b\n  log-format "%ci"\n',
    ),
    [
      "4: 'log-format' overrides previous 'log-format' in 'defaults' section.",
      "5: 'option tcplog' overrides previous 'log-format' in 'defaults' section.",
      "10: backend 'b' : 'log-format' directive is ignored in backends.",
    ],
  );
  assert.deepEqual(said("frontend f\n  log-format\n  log-format a b\n").slice(0, 2), [
    "2: log-format expects an argument.",
    "3: log-format expects only one argument, don't forget to escape spaces!",
  ]);
});

test("option dontlog-normal: only what haproxy deems an error is logged", async () => {
  const { startProxy, httpBackend, syslogReceiver, exchange, loggedDefaults, closedPort } =
    await import("../helpers/harness.js");
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  const dead = await closedPort();
  const p = await startProxy(`${loggedDefaults(rx, "  option dontlog-normal\n  retries 0")}
frontend f
  bind 127.0.0.1:1
  use_backend down if { path /down }
  default_backend up
backend up
  server s1 127.0.0.1:${b.port}
backend down
  server s2 127.0.0.1:${dead}
`);
  try {
    await exchange(p.port, "GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    await exchange(p.port, "GET /down HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const line = await rx.take(/"GET \/down/);
    assert.match(line, / 503 /);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(rx.lines, []);
  } finally {
    await p.stop();
    await b.close();
    await rx.close();
  }
});
