// Stick tables: the rate arithmetic, the table's room-making, the keyword's refusals, and counters
// through a running proxy. Each expected line was recorded from haproxy 2.6.12 with the same
// configuration and the same requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FreqCtr } from "../../src/stick/freq-ctr.js";
import { D, StickTable, type StickTableSpec } from "../../src/stick/table.js";
import { Sample, T } from "../../src/acl/sample.js";
import { parseConfig } from "../../src/config/parse.js";
import { DEFAULTS, exchange, httpBackend, startProxy, waitFor } from "../helpers/harness.js";

// A clock far from 0, as haproxy's: a counter that never counted reads as long past.
const T0 = 1_000_000;

test("a rate fades the last period out over the current one, and reads 1 for a lone event", () => {
  const c = new FreqCtr();
  for (let i = 0; i < 8; i++) c.add(T0 + 30, 4000, 1);
  const at = (t: number) => c.read(T0 + t, 4000);
  assert.deepEqual([1100, 3100, 4580, 5080, 6080, 7580].map(at), [8, 8, 6, 5, 3, 0]);
  const lone = new FreqCtr();
  lone.add(T0 + 30, 4000, 1);
  assert.deepEqual(
    [0, 4029, 8029, 8031].map((t) => lone.read(T0 + 30 + t - 30, 4000)),
    [1, 1, 1, 0],
  );
  // Periods stay on the first event's grid: 4 at 0 s, 2 at 5 s, read at 8.59 s.
  const grid = new FreqCtr();
  for (let i = 0; i < 4; i++) grid.add(T0, 4000, 1);
  grid.add(T0 + 5000, 4000, 1);
  grid.add(T0 + 5000, 4000, 1);
  assert.equal(grid.read(T0 + 8590, 4000), 1);
});

const spec = (over: Partial<StickTableSpec>): StickTableSpec => ({
  name: "t",
  type: "integer",
  keyLen: 0,
  size: 4,
  expire: 10_000,
  nopurge: false,
  store: [],
  gpt: 0,
  gpc: 0,
  gpcRate: 0,
  gpcPeriod: 0,
  ...over,
});

test("a full table drops its oldest untouched entry, and may refuse one when the oldest were touched", () => {
  const t = new StickTable(spec({}));
  for (const k of ["1", "2", "3", "4"]) assert.ok(t.get(k, T0));
  t.touch(t.lookup("1", T0 + 10)!, T0 + 10);
  t.touch(t.lookup("2", T0 + 10)!, T0 + 10);
  // Both probes go to requeueing 1 and 2: no room this time.
  assert.equal(t.get("5", T0 + 20), undefined);
  assert.ok(t.get("6", T0 + 30));
  assert.equal(t.lookup("3", T0 + 30), undefined);
  assert.equal(t.used, 4);
  const full = new StickTable(spec({ nopurge: true }));
  for (const k of ["1", "2", "3", "4"]) full.get(k, T0);
  assert.equal(full.get("5", T0), undefined);
});

test("an entry nothing tracks goes when its time is up; a tracked one stays", () => {
  const t = new StickTable(spec({ expire: 1000 }));
  const held = t.get("1", T0)!;
  held.ref++;
  t.get("2", T0);
  t.purge(T0 + 1000);
  assert.equal(t.used, 1);
  assert.equal(t.lookup("1", T0 + 5000), held);
  t.release(held, T0 + 5000);
  assert.equal(t.used, 0);
});

test("keys are cast to the table's type as haproxy casts them", () => {
  const smp = new Sample();
  const key = (type: StickTableSpec["type"], set: (s: Sample) => void, keyLen = 4) => {
    set(smp);
    return new StickTable(spec({ type, keyLen })).keyOf(smp);
  };
  assert.equal(
    key("integer", (s) => s.setStr("127.0.0.1", T.Ip)),
    "2130706433",
  );
  assert.equal(
    key("integer", (s) => s.setStr("-1")),
    "4294967295",
  );
  assert.equal(
    key("integer", (s) => s.setStr("")),
    undefined,
  );
  assert.equal(
    key("ip", (s) => s.setStr("::ffff:10.0.0.1", T.Ip)),
    "10.0.0.1",
  );
  assert.equal(
    key("ip", (s) => s.setStr("::1", T.Ip)),
    undefined,
  );
  assert.equal(
    key("ipv6", (s) => s.setStr("10.0.0.1", T.Ip)),
    key("ipv6", (s) => s.setStr("::ffff:10.0.0.1")),
  );
  assert.equal(
    key("string", (s) => s.setStr("abcdef")),
    "abcd",
  );
  assert.equal(
    key("binary", (s) => s.setStr("ab")),
    "ab\0\0",
  );
});

const said = (lines: string) =>
  parseConfig([{ name: "t.cfg", text: `${DEFAULTS}frontend f\n  bind :1\n${lines}` }], {}).diagnostics.map(
    (d) => `${d.level} ${d.where?.line ?? "-"}: ${d.message}`,
  );

test("stick-table and track-sc: haproxy 2.6.12's refusals", () => {
  const line = DEFAULTS.split("\n").length + 2;
  const cases: [string, string][] = [
    ["stick-table type ip", "stick-table: missing size."],
    ["stick-table size 10", "stick-table: missing type."],
    ["stick-table type foo size 1", "stick-table: unknown type 'foo'."],
    ["stick-table type string len 0 size 1", "stick-table: unknown type '0'."],
    ["stick-table type ip size 10x", "stick-table: unexpected character 'x' in argument of 'size'."],
    ["stick-table type ip size 1 store foo", "stick-table: unknown store option 'foo'."],
    [
      "stick-table type ip size 1 store http_req_rate",
      "stick-table: missing argument to store option 'http_req_rate'.",
    ],
    ["stick-table type ip size 1 store gpc0(3)", "stick-table: unexpected argument to store option 'gpc0'."],
    [
      "stick-table type ip size 1 store http_req_rate(10x)",
      "stick-table: error when processing store option 'http_req_rate'.",
    ],
    ["stick-table type ip size 1 bar", "stick-table: unknown argument 'bar'."],
    [
      "http-request track-sc3 src",
      "error detected in frontend 'f' while parsing 'http-request track-sc3' rule : 3 track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value.",
    ],
    [
      "http-request track-scx src",
      "error detected in frontend 'f' while parsing 'http-request track-scx' rule : Wrong track-sc number 'x'.",
    ],
    [
      "http-request sc-inc-gpc0(5)",
      "error detected in frontend 'f' while parsing 'http-request sc-inc-gpc0(5)' rule : invalid stick table track ID. The max allowed ID is 2.",
    ],
  ];
  for (const [l, m] of cases) assert.deepEqual(said(`  ${l}\n`), [`alert ${line}: ${m}`], l);
  assert.deepEqual(said("  stick-table type ip size 1 store gpc0,gpc0\n"), [
    `warning ${line}: stick-table: store option 'gpc0' already enabled, ignored.`,
  ]);
  assert.deepEqual(said("  http-request track-sc0 src table nope\n"), [
    "alert -: Proxy 'f': unable to find table 'nope' referenced by track-sc0.",
  ]);
});

test("a fetch naming no table is refused as the configuration is compiled, in a log-format too", async () => {
  await assert.rejects(
    startProxy(
      `${DEFAULTS}frontend f\n  bind 127.0.0.1:1\n  http-request deny if { src_conn_cnt(nope) gt 1 }\n`,
    ),
    /unable to find table 'nope' referenced in arg 1 of ACL keyword 'src_conn_cnt' in proxy 'f'\./,
  );
  // A log-format's line is compiled with the rules, not with the first line logged.
  await assert.rejects(
    startProxy(
      `global\n  log stdout local0\n${DEFAULTS}  log global\nfrontend f\n  bind 127.0.0.1:1\n  log-format "%[src_conn_cnt(nope)]"\n`,
    ),
    /unable to find table 'nope'/,
  );
});

const get = (path: string, close = true) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? "Connection: close\r\n" : ""}\r\n`;
const bodies = (raw: string) =>
  raw
    .split(/HTTP\/1\.1 /)
    .slice(1)
    .map((r) => `${r.slice(0, 3)} ${r.split("\r\n\r\n")[1]}`);

test("http-request track-sc0 src limits a client's request rate", async () => {
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  stick-table type ip size 100 expire 30s store http_req_rate(10s),http_req_cnt,conn_cnt,conn_cur,gpc0,http_err_cnt
  http-request track-sc0 src
  http-request sc-inc-gpc0(0) if { path /inc }
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 4 }
  http-request return status 200 content-type text/plain lf-string "rate=%[sc_http_req_rate(0)] cnt=%[sc0_http_req_cnt] conn=%[sc0_conn_cnt] cur=%[sc0_conn_cur] gpc0=%[sc0_get_gpc0] src=%[src_http_req_cnt] err=%[sc0_http_err_cnt] tr=%[sc0_tracked] trk=%[sc0_trackers] tbl=%[src,table_http_req_cnt(fe)] in=%[src,in_table(fe)] cnt=%[table_cnt]"
`);
  try {
    const seen: string[] = [];
    for (const path of ["/", "/inc", "/", "/", "/", "/"])
      seen.push(...bodies(await exchange(p.port, get(path))));
    seen.push(...bodies(await exchange(p.port, get("/", false) + get("/"))));
    assert.deepEqual(seen.slice(0, 4), [
      "200 rate=1 cnt=1 conn=1 cur=1 gpc0=0 src=1 err=0 tr=1 trk=1 tbl=1 in=1 cnt=1",
      "200 rate=2 cnt=2 conn=2 cur=1 gpc0=1 src=2 err=0 tr=1 trk=1 tbl=2 in=1 cnt=1",
      "200 rate=3 cnt=3 conn=3 cur=1 gpc0=1 src=3 err=0 tr=1 trk=1 tbl=3 in=1 cnt=1",
      "200 rate=4 cnt=4 conn=4 cur=1 gpc0=1 src=4 err=0 tr=1 trk=1 tbl=4 in=1 cnt=1",
    ]);
    assert.deepEqual(
      seen.slice(4).map((s) => s.slice(0, 3)),
      ["429", "429", "429", "429"],
    );
  } finally {
    await p.stop();
  }
});

test("what a connection tracks counts its sessions, requests, a server's 4xx and 5xx, and bad requests", async () => {
  const be = await httpBackend("s", (req, res) => {
    const m = /^\/s(\d+)/.exec(req.url ?? "");
    res.writeHead(m ? Number(m[1]) : 200, { "content-type": "text/plain" });
    res.end("ok\n");
  });
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  stick-table type ip size 100 expire 30s store conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_err_cnt,http_err_rate(10s),http_fail_cnt,gpt0
  tcp-request connection track-sc1 src
  http-request sc-set-gpt0(1) 7 if { path /gpt }
  http-request return status 200 content-type text/plain lf-string "c=%[sc1_conn_cnt] cur=%[sc1_conn_cur] cr=%[sc1_conn_rate] s=%[sc1_sess_cnt] sr=%[sc1_sess_rate] r=%[sc1_http_req_cnt] e=%[sc1_http_err_cnt] er=%[sc1_http_err_rate] f=%[sc1_http_fail_cnt] g=%[sc1_get_gpt0] t0=%[sc0_tracked] n=%[sc_http_req_cnt(1)]" if { path /show }
  default_backend be
backend be
  server s 127.0.0.1:${be.port}
`);
  try {
    const many = ["/show", "/s404", "/s500", "/s501", "/s503", "/gpt"].map((u) => get(u, false)).join("");
    const first = bodies(await exchange(p.port, many + get("/show")));
    assert.deepEqual(
      first.map((b) => b.slice(0, 3)),
      ["200", "404", "500", "501", "503", "200", "200"],
    );
    assert.equal(first[0], "200 c=1 cur=1 cr=1 s=1 sr=1 r=1 e=0 er=0 f=0 g=0 t0=0 n=1");
    assert.equal(first[6], "200 c=1 cur=1 cr=1 s=1 sr=1 r=7 e=1 er=1 f=2 g=7 t0=0 n=7");
    assert.deepEqual(bodies(await exchange(p.port, get("/show"))), [
      "200 c=2 cur=1 cr=2 s=2 sr=2 r=8 e=1 er=1 f=2 g=7 t0=0 n=8",
    ]);
    assert.match(
      await exchange(p.port, "GET /show HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n"),
      /^HTTP\/1\.1 400/,
    );
    assert.deepEqual(bodies(await exchange(p.port, get("/show"))), [
      "200 c=4 cur=1 cr=4 s=4 sr=4 r=10 e=2 er=2 f=2 g=7 t0=0 n=10",
    ]);
    // Every connection has ended: nothing holds the entry, and conn_cur is back to 0.
    const entry = p.rt.tables.get("fe")!.lookup("127.0.0.1", Date.now())!;
    assert.equal(entry.ref, 0);
    assert.equal(entry.counts[D.ConnCur], 0);
  } finally {
    await p.stop();
    await be.close();
  }
});

test("stick rules send a key to the server that served it, as haproxy 2.6.12 does", async () => {
  const servers = await Promise.all(
    ["s1", "s2"].map((name) =>
      httpBackend(name, (_req, res) => {
        res.setHeader("x-srv", name === "s1" ? "k1" : "k2");
        res.end(name);
      }),
    ),
  );
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  default_backend be
backend be
  balance roundrobin
  stick-table type string len 8 size 100 expire 30s
  stick on req.hdr(x-u)
  stick match req.hdr(x-m)
  stick store-response res.hdr(x-srv)
  server s1 127.0.0.1:${servers[0]!.port}
  server s2 127.0.0.1:${servers[1]!.port}
`);
  try {
    const headers = [
      "x-u: a",
      "x-u: b",
      "x-u: a",
      "x-u: b",
      "x-u: c",
      "x-u: a",
      "x-m: k1",
      "x-m: k2",
      "x-m: k1",
    ];
    headers.push("x-m: zz", "x-m: zz", "x-u: abcdefghij", "x-u: abcdefghzz");
    const served: string[] = [];
    for (const h of headers) {
      const raw = await exchange(p.port, `GET / HTTP/1.1\r\nHost: x\r\n${h}\r\nConnection: close\r\n\r\n`);
      served.push(raw.split("\r\n\r\n")[1]!);
    }
    // Keys are cut to the table's 8 characters: the last two are one key.
    assert.deepEqual(served.join(" "), "s1 s2 s1 s2 s1 s1 s1 s2 s1 s2 s1 s2 s2");
  } finally {
    await p.stop();
    for (const s of servers) await s.close();
  }
});

test("stick rules: haproxy 2.6.12's refusals", () => {
  const be = (lines: string) =>
    parseConfig(
      [{ name: "t.cfg", text: `${DEFAULTS}backend b\n${lines}  server s 127.0.0.1:1\n` }],
      {},
    ).diagnostics.map((d) => `${d.level} ${d.where?.line ?? "-"}: ${d.message}`);
  const line = DEFAULTS.split("\n").length + 1;
  assert.deepEqual(be("  stick on src table nope\n"), [
    "alert -: Proxy 'b': unable to find stick-table 'nope'.",
  ]);
  assert.deepEqual(be("  stick store-response src\n"), [
    "alert -: Proxy 'b': unable to find store table 'b'.",
  ]);
  assert.deepEqual(be("  stick match\n"), [`alert ${line}: 'stick' expects a fetch method.`]);
  assert.deepEqual(be("  stick foo src\n"), [`alert ${line}: 'stick' expects 'on', 'match', or 'store'.`]);
  assert.deepEqual(be("  stick-table type ip size 1\n  stick on src foo\n"), [
    `alert ${line + 1}: 'stick': unknown keyword 'foo'.`,
  ]);
  assert.deepEqual(be("  stick on nope\n"), [`alert ${line}: 'stick': unknown fetch method 'nope'`]);
});

test("tcp-request and http-response rules track, count and set as haproxy 2.6.12 does", async () => {
  const be = await httpBackend("s", (req, res) => {
    const m = /^\/s(\d+)/.exec(req.url ?? "");
    res.writeHead(m ? Number(m[1]) : 200);
    res.end("ok");
  });
  const counters = "c=%[sc1_conn_cnt] cur=%[sc1_conn_cur] r=%[sc1_http_req_cnt] e=%[sc1_http_err_cnt]";
  const p = await startProxy(`${DEFAULTS}frontend fe
  bind 127.0.0.1:1
  stick-table type ip size 100 expire 30s store conn_cnt,conn_cur,http_req_cnt,http_err_cnt,http_fail_cnt,gpc0,gpc1,gpt0,sess_cnt
  tcp-request connection track-sc1 src
  tcp-request connection sc-set-gpt0(1) 5
  tcp-request content sc-inc-gpc1(1)
  http-request return status 200 content-type text/plain lf-string "${counters} f=%[sc1_http_fail_cnt] g0=%[sc1_get_gpc0] g1=%[sc1_get_gpc1] t=%[sc1_get_gpt0] s=%[sc1_sess_cnt]" if { path /show }
  default_backend be
backend be
  stick-table type ip size 100 expire 30s store conn_cnt,conn_cur,http_req_cnt,http_err_cnt,http_fail_cnt,gpc0
  http-response track-sc0 src
  http-response sc-inc-gpc0(0) if { status 404 }
  http-response set-header x-c "c=%[sc0_conn_cnt] cur=%[sc0_conn_cur] r=%[sc0_http_req_cnt] e=%[sc0_http_err_cnt] f=%[sc0_http_fail_cnt] g0=%[sc0_get_gpc0]"
  server s 127.0.0.1:${be.port}
`);
  try {
    const seen: string[] = [];
    for (const path of ["/s404", "/s500", "/show", "/s200", "/s404", "/show"]) {
      for (const u of [path, "/show"]) {
        const raw = await exchange(p.port, get(u));
        const xc = /\r\nx-c: ([^\r]*)/i.exec(raw);
        seen.push(u === "/show" ? raw.split("\r\n\r\n")[1]! : `x-c: ${xc?.[1]}`);
      }
    }
    // Each path, then /show: what the backend's table says in x-c, the frontend's in the body.
    assert.deepEqual(seen, [
      "x-c: c=1 cur=1 r=1 e=1 f=0 g0=1",
      "c=2 cur=1 r=2 e=1 f=0 g0=0 g1=2 t=5 s=2",
      "x-c: c=2 cur=1 r=2 e=1 f=1 g0=1",
      "c=4 cur=1 r=4 e=1 f=1 g0=0 g1=4 t=5 s=4",
      "c=5 cur=1 r=5 e=1 f=1 g0=0 g1=5 t=5 s=5",
      "c=6 cur=1 r=6 e=1 f=1 g0=0 g1=6 t=5 s=6",
      "x-c: c=3 cur=1 r=3 e=1 f=1 g0=1",
      "c=8 cur=1 r=8 e=1 f=1 g0=0 g1=8 t=5 s=8",
      "x-c: c=4 cur=1 r=4 e=2 f=1 g0=2",
      "c=10 cur=1 r=10 e=2 f=1 g0=0 g1=10 t=5 s=10",
      "c=11 cur=1 r=11 e=2 f=1 g0=0 g1=11 t=5 s=11",
      "c=12 cur=1 r=12 e=2 f=1 g0=0 g1=12 t=5 s=12",
    ]);
  } finally {
    await p.stop();
    await be.close();
  }
});

test("in mode tcp, bytes_in and bytes_out count the connection's bytes each way, as haproxy's do", async () => {
  const be = await httpBackend("s");
  const p = await startProxy(`${DEFAULTS}listen li
  mode tcp
  bind 127.0.0.1:1
  stick-table type ip size 100 expire 30s store bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s),bytes_out_rate(10s)
  tcp-request connection track-sc0 src
  server s 127.0.0.1:${be.port}
listen show
  mode http
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "%[src,table_kbytes_in(li)] %[src,table_kbytes_out(li)] %[src,table_bytes_in_rate(li)] %[src,table_bytes_out_rate(li)] %[src_kbytes_in(li)]"
`);
  try {
    let sent = 0;
    let received = 0;
    for (let i = 0; i < 3; i++) {
      const req = `GET / HTTP/1.1\r\nHost: x\r\nx-pad: ${"a".repeat(3000)}\r\nConnection: close\r\n\r\n`;
      sent += req.length;
      received += (await exchange(p.ports[0]!, req)).length;
    }
    await waitFor(() => p.rt.tables.get("li")!.lookup("127.0.0.1", Date.now())?.ref === 0);
    const shown = (await exchange(p.ports[1]!, get("/"))).split("\r\n\r\n")[1];
    const k = (n: number) => Math.floor(n / 1024);
    assert.equal(shown, `${k(sent)} ${k(received)} ${sent} ${received} ${k(sent)}`);
  } finally {
    await p.stop();
    await be.close();
  }
});
