// set-log-level, set-src, set-src-port, set-dst and set-dst-port, in each rule set haproxy 2.6 takes
// them in, compared with haproxy 2.6.12 (docs/haproxy-behaviour.md §72).
import { test, after, afterEach, before } from "node:test";
import assert from "node:assert/strict";
import {
  alertsFor,
  Client,
  DEFAULTS,
  exchange,
  headServer,
  rawServer,
  startProxy,
  syslogReceiver,
  type Proxy,
  type SyslogReceiver,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

let rx: SyslogReceiver;
/** The server: answers each request with its head as the body. */
let echo: { port: number };

before(async () => {
  rx = await syslogReceiver();
  const srv = await headServer((head, s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${head.length}\r\n\r\n${head}`);
  });
  echo = srv;
  cleanup.push(rx.close, srv.close);
});

/** A proxy logging to rx at every level on local0 (rfc3164, with its priority), and at notice and above on local1. */
const logged = (rest: string): string => `
global
  log 127.0.0.1:${rx.port} local0
  log 127.0.0.1:${rx.port} local1 notice
${DEFAULTS}  log global
${rest}
backend b
  server s 127.0.0.1:${echo.port}
`;

/** A proxy on `logged(rest)`, stopped after the tests. */
async function start(rest: string): Promise<Proxy> {
  const p = await startProxy(logged(rest));
  cleanup.push(p.stop);
  return p;
}

// A test's lines are its own.
afterEach(() => {});

/** GET `path` on `port` over a new connection, with extra header lines; the response's body. */
async function get(port: number, path: string, headers = ""): Promise<string> {
  const text = await exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

/** The value of a header line the server saw, from the echoed head. */
const seen = (body: string, name: string): string | undefined =>
  new RegExp(`^${name}: (.*)$`, "im").exec(body)?.[1];

test("set-log-level changes the priority each target sends the line at, silent sends none and counts none, per request", async () => {
  const p = await start(`frontend f
  bind 127.0.0.1:1
  log-format "lv %HU lc=%lc"
  http-request set-log-level err if { path /err }
  http-request set-log-level silent if { path /silent }
  http-request set-log-level debug if { path /debug }
  http-request set-var(txn.path) path
  http-response set-log-level alert if { var(txn.path) -m str /resp /err }
  default_backend b`);
  const line = (re: RegExp) => rx.take(re);
  await get(p.port, "/plain");
  assert.match(await line(/lv \/plain /), /^<134>.* lc=0$/);
  // Each target filters at its own level, then prints its facility with the new level.
  await get(p.port, "/err");
  const err = [await line(/lv \/err /), await line(/lv \/err /)].sort();
  // The response's rule comes last and wins.
  assert.deepEqual(
    err.map((l) => l.slice(0, 5)),
    ["<129>", "<137>"],
  );
  await get(p.port, "/silent");
  await get(p.port, "/debug");
  // /silent made no line and took no number; /debug went to local0 only.
  assert.match(await line(/lv \/debug /), /^<135>.* lc=2$/);
  await get(p.port, "/resp");
  assert.deepEqual([await line(/lv \/resp /), await line(/lv \/resp /)].map((l) => l.slice(0, 5)).sort(), [
    "<129>",
    "<137>",
  ]);
  assert.equal(rx.lines.filter((l) => / \/silent | \/debug /.test(l)).length, 0, rx.lines.join("\n"));
  // The next request on a connection starts at the proxy's level again.
  const c = new Client(p.port);
  c.send("GET /err HTTP/1.1\r\nHost: x\r\n\r\n");
  await c.response();
  c.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  await c.response();
  c.close();
  assert.match(await line(/lv \/after /), /^<134>/);
});

test("option dontlog-normal still drops a normal line whatever its level; log-separate-errors yields to set-log-level", async () => {
  const dead = await rawServer((s) => s.destroy());
  cleanup.push(dead.close);
  const p = await start(`frontend quiet
  bind 127.0.0.1:1
  log-format "dn %HU %ST"
  option dontlog-normal
  http-request set-log-level err
  default_backend b
frontend split
  bind 127.0.0.1:1
  log-format "se %HU %ST"
  option log-separate-errors
  http-request set-log-level info if { path /info }
  default_backend dead
backend dead
  server s 127.0.0.1:${dead.port}`);
  await get(p.ports[0]!, "/normal");
  await get(p.ports[1]!, "/info");
  await get(p.ports[1]!, "/error");
  // An error's line is at err, unless a rule said otherwise.
  assert.match(await rx.take(/se \/error /), /^<131>/);
  assert.match(await rx.take(/se \/info 50\d/), /^<134>/);
  assert.equal(rx.lines.filter((l) => /dn \/normal/.test(l)).length, 0);
});

test("http-request set-src and its kin: later rules, ACLs, option forwardfor, the log line see the new ends; the next request the connection's", async () => {
  const p = await start(`frontend f
  bind 127.0.0.1:1
  log-format "ends %HU %ci:%cp %fi:%fp"
  option forwardfor
  http-request set-src hdr(x-ip) if { req.hdr(x-ip) -m found }
  http-request set-src-port hdr(x-port) if { req.hdr(x-port) -m found }
  http-request set-dst hdr(x-dst) if { req.hdr(x-dst) -m found }
  http-request set-dst-port hdr(x-dport) if { req.hdr(x-dport) -m found }
  http-request set-header x-ends %[src]:%[src_port]/%[dst]:%[dst_port]/%[fc_src]
  http-request set-header x-ten yes if { src 10.0.0.0/8 }
  default_backend b`);
  const ask = async (path: string, headers: string) => {
    const body = await get(p.port, path, headers);
    const log = await rx.take(new RegExp(`ends ${path} `));
    return { ends: seen(body, "x-ends"), xff: seen(body, "x-forwarded-for"), ten: seen(body, "x-ten"), log };
  };
  const v4 = await ask("/v4", "X-IP: 10.1.2.3\r\n");
  assert.match(v4.ends!, /^10\.1\.2\.3:\d+\/127\.0\.0\.1:\d+\/127\.0\.0\.1$/);
  assert.equal(v4.xff, "10.1.2.3");
  assert.equal(v4.ten, "yes");
  assert.match(v4.log, /ends \/v4 10\.1\.2\.3:\d+ 127\.0\.0\.1:\d+$/);
  // A leading IPv4 address is taken (haproxy's cast); text that is no address changes nothing.
  assert.equal((await ask("/lead", "X-IP: 1.2.3.4:80\r\n")).xff, "1.2.3.4");
  const bad = await ask("/bad", "X-IP: 1.2.3\r\n");
  assert.equal(bad.xff, "127.0.0.1");
  assert.equal(bad.ten, undefined);
  // IPv6 in inet_ntop's form; the port stays.
  const v6 = await ask("/v6", "X-IP: 2001:DB8:0::1\r\nX-Port: 5\r\n");
  assert.match(v6.ends!, /^2001:db8::1:5\//);
  assert.equal(v6.xff, "2001:db8::1");
  assert.match(v6.log, /ends \/v6 2001:db8::1:5 /);
  // A port keeps its low 16 bits; one that reads as 0 is no port for src_port, 0 in the log.
  assert.match((await ask("/big", "X-Port: 70000\r\n")).ends!, /^127\.0\.0\.1:4464\//);
  const zero = await ask("/zero", "X-Port: abc\r\n");
  assert.match(zero.ends!, /^127\.0\.0\.1:\//);
  assert.match(zero.log, /ends \/zero 127\.0\.0\.1:0 /);
  const dst = await ask("/dst", "X-Dst: 192.168.1.1\r\nX-Dport: 81\r\n");
  assert.match(dst.ends!, /\/192\.168\.1\.1:81\/127\.0\.0\.1$/);
  assert.match(dst.log, /ends \/dst 127\.0\.0\.1:\d+ 192\.168\.1\.1:81$/);
  // The stream's ends only: the connection's next request has its own again.
  const c = new Client(p.port);
  c.send("GET /ka1 HTTP/1.1\r\nHost: x\r\nX-IP: 9.9.9.9\r\n\r\n");
  assert.equal(seen((await c.response()).body, "x-forwarded-for"), "9.9.9.9");
  c.send("GET /ka2 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal(seen((await c.response()).body, "x-forwarded-for"), "127.0.0.1");
  c.close();
  assert.match(await rx.take(/ends \/ka2 /), /ends \/ka2 127\.0\.0\.1:/);
});

test("a backend's set-src reaches its forwardfor and the log; stick tables track the new address", async () => {
  const p = await start(`frontend f
  bind 127.0.0.1:1
  log-format "bk %HU %ci"
  default_backend bs
backend bs
  stick-table type ip size 1k store http_req_cnt
  option forwardfor
  http-request set-src hdr(x-ip)
  http-request track-sc0 src
  http-request set-header x-count %[sc0_http_req_cnt]
  server s 127.0.0.1:${echo.port}`);
  const body = await get(p.port, "/a", "X-IP: 6.6.6.6\r\n");
  assert.equal(seen(body, "x-forwarded-for"), "6.6.6.6");
  assert.match(await rx.take(/bk \/a /), / 6\.6\.6\.6$/);
  assert.equal(seen(await get(p.port, "/b", "X-IP: 6.6.6.6\r\n"), "x-count"), "2");
  assert.equal(seen(await get(p.port, "/c", "X-IP: 7.7.7.7\r\n"), "x-count"), "1");
});

test("tcp-request connection set-src moves fc_src too, session set-src lasts the connection, content set-src the request", async () => {
  const p = await start(`frontend conn
  bind 127.0.0.1:1
  log-format "cn %HU %ci:%cp %fi:%fp"
  tcp-request connection set-src str(7.7.7.7)
  tcp-request connection set-dst-port int(8080)
  tcp-request connection set-dst hdr(x-dst)
  http-request set-header x-ends %[src]/%[fc_src]/%[dst_port]/%[fc_dst_port]
  default_backend b
frontend sess
  bind 127.0.0.1:1
  tcp-request session set-src int(16909060)
  http-request set-header x-ends %[src]/%[fc_src]
  default_backend b
frontend content
  bind 127.0.0.1:1
  tcp-request content set-src hdr(x-ip) if { req.hdr(x-ip) -m found }
  http-request set-header x-ends %[src]/%[fc_src]
  default_backend b`);
  // A connection's rule reads no request: hdr() finds nothing there.
  assert.equal(
    seen(await get(p.ports[0]!, "/c", "X-Dst: 1.1.1.1\r\n"), "x-ends"),
    "7.7.7.7/7.7.7.7/8080/8080",
  );
  assert.match(await rx.take(/cn \/c /), / 7\.7\.7\.7:\d+ 127\.0\.0\.1:8080$/);
  const c = new Client(p.ports[1]!);
  for (const path of ["/s1", "/s2"]) {
    c.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(seen((await c.response()).body, "x-ends"), "1.2.3.4/127.0.0.1", path);
  }
  c.close();
  const d = new Client(p.ports[2]!);
  d.send("GET /t1 HTTP/1.1\r\nHost: x\r\nX-IP: 8.8.8.8\r\n\r\n");
  assert.equal(seen((await d.response()).body, "x-ends"), "8.8.8.8/127.0.0.1");
  d.send("GET /t2 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal(seen((await d.response()).body, "x-ends"), "127.0.0.1/127.0.0.1");
  d.close();
});

test("mode tcp: tcp-request content set-src, set-dst-port and set-log-level, for the rules after them and the line", async () => {
  const srv = await rawServer((s) => s.end("hi"));
  cleanup.push(srv.close);
  const p = await startProxy(`
global
  log 127.0.0.1:${rx.port} local0
defaults
  mode tcp
  log global
  timeout client 5s
  timeout connect 2s
  timeout server 5s
frontend t
  bind 127.0.0.1:1
  log-format "tcp %ci:%cp %fi:%fp"
  tcp-request content set-src str(5.6.7.8)
  tcp-request content set-dst-port int(99)
  tcp-request content set-log-level err
  tcp-request content reject unless { src 5.6.7.8 } { dst_port 99 }
  default_backend bt
backend bt
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  assert.equal(await exchange(p.port, ""), "hi");
  assert.match(await rx.take(/tcp /), /^<131>.*tcp 5\.6\.7\.8:\d+ 127\.0\.0\.1:99$/);
});

test("the rules' words as haproxy 2.6.12 refuses them", () => {
  const rule = (r: string, m: string) => `error detected in frontend 'f' while parsing '${r}' rule : ${m}.`;
  const usage = "expects exactly 1 argument (log level name or 'silent')";
  assert.deepEqual(alertsFor("http-request set-log-level"), [rule("http-request set-log-level", usage)]);
  assert.deepEqual(alertsFor("http-request set-log-level ERR"), [rule("http-request set-log-level", usage)]);
  assert.deepEqual(alertsFor("http-response set-log-level warn"), [
    rule("http-response set-log-level", usage),
  ]);
  assert.deepEqual(alertsFor("http-request set-log-level err extra"), [
    "'http-request set-log-level' expects either 'if' or 'unless' followed by a condition but found 'extra'.",
  ]);
  assert.deepEqual(alertsFor("http-request set-src"), [rule("http-request set-src", "missing fetch method")]);
  assert.deepEqual(alertsFor("http-request set-src-port foo(1)"), [
    rule("http-request set-src-port", "unknown fetch method 'foo'"),
  ]);
  assert.deepEqual(alertsFor("http-request set-dst res.hdr(x)"), [
    rule(
      "http-request set-dst",
      "fetch method 'res.hdr(x)' extracts information from 'HTTP response headers', none of which is available here",
    ),
  ]);
  assert.deepEqual(alertsFor("http-request set-src src extra"), [
    "'http-request set-src' expects either 'if' or 'unless' followed by a condition but found 'extra'.",
  ]);
  // The tcp-request rules' own words, bare; set-log-level is a content rule's only.
  assert.deepEqual(alertsFor("tcp-request content set-log-level foo"), [usage]);
  assert.deepEqual(alertsFor("tcp-request content set-log-level info junk"), [
    "'tcp-request content set-log-level' only accepts 'if' or 'unless', in frontend 'f' (got 'junk')",
  ]);
  assert.deepEqual(alertsFor("tcp-request session set-dst"), ["missing fetch method"]);
  assert.deepEqual(alertsFor("tcp-request connection set-src res.hdr(x)"), [
    "fetch method 'res.hdr(x)' extracts information from 'HTTP response headers', none of which is available here",
  ]);
  assert.match(
    alertsFor("tcp-request session set-log-level info")[0]!,
    /^'tcp-request session' expects 'accept'.*\(got 'set-log-level'\)/,
  );
  // Read as haproxy reads them: an expression of any type, a request's header in a connection rule.
  assert.deepEqual(alertsFor("tcp-request connection set-src hdr(x)"), []);
  assert.deepEqual(alertsFor("http-request set-src req.body"), []);
  assert.deepEqual(alertsFor("http-request set-log-level silent"), []);
});
