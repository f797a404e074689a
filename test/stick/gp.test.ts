// General purpose counters and tags: the arrays gpc(N), gpc_rate(N,P) and gpt(N), the actions and
// fetches that reach them, and the legacy gpc0, gpc1 and gpt0 falling back on their first elements.
// Each expected line was recorded from haproxy 2.6.12 with the same configuration and requests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { DEFAULTS, exchange, httpBackend, startProxy } from "../helpers/harness.js";

/** What haproxy would say of a frontend holding `lines`, each diagnostic on the line it names. */
const diagnose = (lines: string[]): string[] =>
  parseConfig(
    [{ name: "g.cfg", text: `${DEFAULTS}frontend f\n  bind :1\n${lines.map((l) => `  ${l}\n`).join("")}` }],
    {},
  ).diagnostics.map((d) => `${d.level}: ${d.message}`);

/** Each of `texts` draws no diagnostic at all from `check`. */
const accepts = (check: (text: string) => string[], texts: string[]): void => {
  for (const ok of texts) assert.deepEqual(check(ok), [], ok);
};

const store = (list: string): string[] => diagnose([`stick-table type ip size 10 store ${list}`]);

test("store gpc(N), gpc_rate(N,P), gpt(N): haproxy 2.6.12's limits and refusals", () => {
  accepts(store, ["gpc(3),gpc_rate(2,10s),gpt(4)", "gpc(100)", "gpc(3x)", "gpc(+3)", "gpc(4294967297)"]);
  // What follows a closing parenthesis is ignored, a second pair replaces the first argument, and
  // the last of several commas' arguments counts.
  accepts(store, [
    "gpc_rate(2,1x,3)",
    "gpc_rate(2,1s)x,gpc0",
    "http_req_rate(1s)x,gpc0",
    "gpc(9)(2)",
    "gpc_rate(2,0)",
  ]);
  const refused: [string, string][] = [
    ["gpc(0)", "array size is out of allowed range (1-100) for store option 'gpc'"],
    ["gpt(101)", "array size is out of allowed range (1-100) for store option 'gpt'"],
    ["gpc_rate(x,1s)", "array size is out of allowed range (1-100) for store option 'gpc_rate'"],
    ["gpc(0x10)", "array size is out of allowed range (1-100) for store option 'gpc'"],
    ["gpc", "missing argument to store option 'gpc'"],
    ["gpc_rate(2)", "missing argument to store option 'gpc_rate'"],
    ["gpc_rate(2,25d)", "error when processing store option 'gpc_rate'"],
    ["gpc_rate(2,1s)(3,x)", "error when processing store option 'gpc_rate'"],
    ["gpc(1,2)", "unexpected argument to store option 'gpc'"],
    ["gpc(2,1)(3)", "unexpected argument to store option 'gpc'"],
    ["gpt(2,1s)", "unexpected argument to store option 'gpt'"],
    ["gpc(3", "missing closing parenthesis after store option 'gpc'"],
    [
      "gpc(3),gpc0",
      "simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'",
    ],
    [
      "gpc1,gpc(2)",
      "simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not permitted as 'gpc' overrides 'gpc[0/1]'",
    ],
    [
      "gpt(2),gpt0",
      "simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as 'gpt' overrides 'gpt0'",
    ],
    [
      "gpc0_rate(1s),gpc_rate(2,1s)",
      "simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'",
    ],
  ];
  for (const [list, m] of refused) assert.deepEqual(store(list), [`alert: stick-table: ${m}.`], list);
  // A counter and the other's rate may go together; an option stored twice is warned of before its argument is read.
  assert.deepEqual(store("gpc(2),gpc0_rate(1s)"), []);
  assert.deepEqual(store("gpc(1),gpc(0)"), [
    "warning: stick-table: store option 'gpc' already enabled, ignored.",
  ]);
  assert.deepEqual(store("conn_cur,conn_cur()"), [
    "warning: stick-table: store option 'conn_cur' already enabled, ignored.",
  ]);
});

test("sc-inc-gpc(I,N), sc-set-gpt(I,N) and the legacy forms: haproxy 2.6.12's refusals", () => {
  const rule = (r: string, m: string) =>
    `alert: error detected in frontend 'f' while parsing '${r}' rule : ${m}.`;
  const table = "stick-table type ip size 10 store gpc(3),gpt(3)";
  const cases: [string, string][] = [
    ["sc-inc-gpc(1)", "Missing gpc ID 'sc-inc-gpc(1)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    ["sc-inc-gpc(x,0)", "Missing gpc ID 'sc-inc-gpc(x,0)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    ["sc-inc-gpc", "invalid gpc ID 'sc-inc-gpc'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    ["sc-inc-gpc2", "invalid gpc ID 'sc-inc-gpc2'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    [
      "sc-inc-gpc(1,2x)",
      "invalid stick table track ID 'sc-inc-gpc(1,2x)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)",
    ],
    ["sc-inc-gpc(1,3)", "invalid stick table track ID 'sc-inc-gpc(1,3)'. The max allowed ID is 2"],
    ["sc-set-gpt(1) 1", "Missing gpt ID 'sc-set-gpt(1)'. Expects sc-set-gpt(<GPT ID>,<Track ID>)"],
    ["sc-set-gpt1 1", "invalid gpt ID 'sc-set-gpt1'. Expects sc-set-gpt(<GPT ID>,<Track ID>)"],
    ["sc-set-gpt(1,0) 5x", "unknown fetch method '5x'"],
    ["sc-inc-gpc0(1,0)", "invalid stick table track ID. Expects sc-inc-gpc0(1,0)(<Track ID>)"],
    [
      "sc-set-gpt0(1,0) 1",
      "invalid stick table track ID 'sc-set-gpt0(1,0)'. Expects sc-set-gpt0(<Track ID>)",
    ],
  ];
  for (const [r, m] of cases) {
    const kw = r.split(" ")[0]!;
    assert.deepEqual(diagnose([table, `http-request ${r}`]), [rule(`http-request ${kw}`, m)], r);
  }
  // haproxy takes any index (one the table does not store is then no element), and an index or a
  // slot past 32 bits as its low bits.
  accepts(
    (ok) => diagnose([table, `http-request ${ok}`]),
    ["sc-inc-gpc(100,0)", "sc-inc-gpc(-1,0)", "sc-inc-gpc(,0)", "sc-inc-gpc(1,)", "sc-inc-gpc(1,0)x"],
  );
  assert.deepEqual(
    diagnose([table, "http-request sc-inc-gpc(1,4294967296)", "http-request sc-inc-gpc0()"]),
    [],
  );
  assert.deepEqual(diagnose([table, "http-request sc-inc-gpc(1,0) foo"]), [
    "alert: 'http-request sc-inc-gpc(1,0)' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
  ]);
  // A negative slot haproxy takes, and then reads before its slots: Sluice refuses it.
  assert.deepEqual(diagnose([table, "http-request sc-inc-gpc0(-1)"]), [
    "alert: 'http-request sc-inc-gpc0(-1)' with a negative track ID is not supported by sluice yet.",
  ]);
  // tcp-request rules say it in bare words, and check an expression where they run.
  const tcp: [string, string][] = [
    ["connection sc-inc-gpc(1)", "Missing gpc ID 'sc-inc-gpc(1)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    ["content sc-inc-gpc", "invalid gpc ID 'sc-inc-gpc'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)"],
    ["content sc-inc-gpc0x", "invalid stick table track ID. Expects sc-inc-gpc0x(<Track ID>)"],
    [
      "content sc-inc-gpc(1,0) foo",
      "'tcp-request content sc-inc-gpc(1,0)' only accepts 'if' or 'unless', in frontend 'f' (got 'foo')",
    ],
    [
      "content sc-set-gpt(1,0) 3 foo",
      "'tcp-request content sc-set-gpt(1,0)' only accepts 'if' or 'unless', in frontend 'f' (got 'foo')",
    ],
    [
      "connection sc-set-gpt(1,0) src_port",
      "internal error, unexpected rule->from=0, please report this bug!",
    ],
    ["connection sc-set-gpt(1,0) nosuch", "unknown fetch method 'nosuch'"],
    [
      "session sc-set-gpt(1,0) req.hdr(x)",
      "fetch method 'req.hdr(x)' extracts information from 'HTTP request headers', none of which is available here",
    ],
    [
      "session sc-set-gpt0(1) req.hdr(x)",
      "fetch method 'req.hdr(x)' extracts information from 'HTTP request headers', none of which is available here",
    ],
  ];
  for (const [r, m] of tcp) assert.deepEqual(diagnose([table, `tcp-request ${r}`]), [`alert: ${m}`], r);
  assert.deepEqual(diagnose([table, "tcp-request content sc-set-gpt(1,0) req.hdr(x)"]), []);
});

test("the arrays' fetches and converters: their arguments as haproxy 2.6.12 reads them", () => {
  const lf = (e: string) =>
    diagnose([
      "stick-table type ip size 10 store gpc(3)",
      `http-request return status 200 content-type t lf-string "%[${e}]"`,
    ]);
  const parse = (e: string, m: string) =>
    `alert: error detected in frontend 'f' while parsing 'http-request return' rule : failed to parse sample expression <${e}]> : ${m}.`;
  accepts(lf, [
    "sc_get_gpc(100,0)",
    "sc_get_gpc(0,3)",
    "sc_inc_gpc(1,0,f)",
    "src_get_gpc(1,)",
    "sc1_clr_gpc(1,f)",
  ]);
  const cases: [string, string][] = [
    ["sc_get_gpc(0)", "fetch method 'sc_get_gpc' : missing arguments (got 1/2), type 'integer' expected"],
    ["src_get_gpc(1)", "fetch method 'src_get_gpc' : missing arguments (got 1/2), type 'table' expected"],
    [
      "src,table_gpc(1)",
      "invalid arg 2 in converter 'table_gpc' : missing arguments (got 1/2), type 'table' expected",
    ],
    ["sc0_get_gpc(1)", "unknown fetch method 'sc0_get_gpc'"],
    ["sc2_inc_gpc", "unknown fetch method 'sc2_inc_gpc'"],
  ];
  for (const [e, m] of cases) assert.deepEqual(lf(e), [parse(e, m)], e);
});

const get = (path: string, headers = "", close = true) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}${close ? "Connection: close\r\n" : ""}\r\n`;
const body = (raw: string): string => raw.split("\r\n\r\n")[1] ?? "";

/** The bodies of one request per path, each on a connection of its own, through a proxy on `cfg`. */
async function answers(cfg: string, paths: string[], headers = ""): Promise<string[]> {
  const p = await startProxy(cfg);
  try {
    const seen: string[] = [];
    for (const path of paths) seen.push(body(await exchange(p.port, get(path, headers))).trimEnd());
    return seen;
  } finally {
    await p.stop();
  }
}

test("http-request actions count and tag by index, and the legacy names use the arrays' first elements", async () => {
  const cfg = `${DEFAULTS}frontend f
  bind 127.0.0.1:1
  stick-table type ip size 10 store gpc(3),gpc_rate(2,60s),gpt(4)
  http-request track-sc0 src
  http-request track-sc1 src table g
  http-request sc-inc-gpc(0,0) if { path /a }
  http-request sc-inc-gpc(1,0) if { path /b }
  http-request sc-inc-gpc(2,0) if { path /c }
  http-request sc-inc-gpc(5,0) if { path /d }
  http-request sc-inc-gpc1(0) if { path /e }
  http-request sc-set-gpt(1,0) 7 if { path /f }
  http-request sc-set-gpt(2,0) req.hdr(x) if { path /g }
  http-request sc-set-gpt0(0) -1 if { path /h }
  http-request sc-set-gpt(3,0) 4294967297 if { path /i }
  http-request sc-inc-gpc(0,1) if { path /j }
  http-request sc-inc-gpc(4294967296,0) if { path /k }
  http-request return status 200 content-type text/plain lf-string "c=%[sc_get_gpc(0,0)],%[sc_get_gpc(1,0)],%[sc_get_gpc(2,0)],%[sc_get_gpc(3,0)] r=%[sc_gpc_rate(0,0)],%[sc_gpc_rate(1,0)],%[sc_gpc_rate(2,0)] t=%[sc_get_gpt(0,0)],%[sc_get_gpt(1,0)],%[sc_get_gpt(2,0)],%[sc_get_gpt(3,0)],%[sc_get_gpt(4,0)] L=%[sc_get_gpc0(0)],%[sc_get_gpc1(0)],%[sc_gpc0_rate(0)],%[sc_gpc1_rate(0)],%[sc_get_gpt0(0)] s=%[src_get_gpc(1,f)],%[src_gpc_rate(1,f)],%[src_get_gpt(1,f)] v=%[src,table_gpc(1,f)],%[src,table_gpt(7,f)],%[str(1.2.3.4),table_gpc(0,f)] g=%[sc_get_gpc(0,1)],%[sc_get_gpc0(1)],%[sc_get_gpc(0,1,f)]\\n"
backend g
  stick-table type ip size 10 store gpc0
`;
  const paths = ["/", "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k"];
  assert.deepEqual(await answers(cfg, paths, "x: 12\r\n"), [
    "c=0,0,0, r=0,0, t=0,0,0,0, L=0,0,0,0,0 s=0,0,0 v=0,,0 g=,0,0",
    "c=1,0,0, r=1,0, t=0,0,0,0, L=1,0,1,0,0 s=0,0,0 v=0,,0 g=,0,1",
    "c=1,1,0, r=1,1, t=0,0,0,0, L=1,1,1,1,0 s=1,1,0 v=1,,0 g=,0,1",
    "c=1,1,1, r=1,1, t=0,0,0,0, L=1,1,1,1,0 s=1,1,0 v=1,,0 g=,0,1",
    "c=1,1,1, r=1,1, t=0,0,0,0, L=1,1,1,1,0 s=1,1,0 v=1,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=0,0,0,0, L=1,2,1,2,0 s=2,2,0 v=2,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=0,7,0,0, L=1,2,1,2,0 s=2,2,7 v=2,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=0,7,12,0, L=1,2,1,2,0 s=2,2,7 v=2,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=4294967295,7,12,0, L=1,2,1,2,4294967295 s=2,2,7 v=2,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=4294967295,7,12,1, L=1,2,1,2,4294967295 s=2,2,7 v=2,,0 g=,0,1",
    "c=1,2,1, r=1,2, t=4294967295,7,12,1, L=1,2,1,2,4294967295 s=2,2,7 v=2,,0 g=,0,1",
    "c=2,2,1, r=2,2, t=4294967295,7,12,1, L=2,2,2,2,4294967295 s=2,2,7 v=2,,0 g=,0,2",
  ]);
});

test("sc_inc_gpc, sc_clr_gpc, src_inc_gpc, src_clr_gpc: what they give and what they change", async () => {
  const show = (path: string, what: string) =>
    `  http-request return status 200 content-type text/plain lf-string "${what}\\n" if { path ${path} }\n`;
  const cfg = `${DEFAULTS}frontend f
  bind 127.0.0.1:1
  stick-table type ip size 10 store gpc(2),gpc_rate(3,60s)
  http-request track-sc0 src
${show("/a", "inc0=%[sc_inc_gpc(0,0)]")}${show("/b", "inc2=%[sc_inc_gpc(2,0)]")}${show("/c", "inc3=%[sc_inc_gpc(3,0)]")}${show("/d", "clr0=%[sc_clr_gpc(0,0)]")}${show("/e", "clr2=%[sc_clr_gpc(2,0)]")}${show("/sa", "sinc1=%[src_inc_gpc(1,f)]")}${show("/sb", "sclr1=%[src_clr_gpc(1,f)]")}${show("/sc", "sinc2=%[src_inc_gpc(2,f)] %[src_gpc_rate(2,f)]")}${show("/sd", "sclr2=%[src_clr_gpc(2,f)]")}${show("/se", "sx=%[src_inc_gpc(3,f)] %[src_clr_gpc(3,f)]")}${show("/f", "s1clr=%[sc1_clr_gpc(0)] %[sc1_clr_gpc(0,f)] %[sc_clr_gpc(0,1,f)] %[sc_inc_gpc(0,1,f)] %[sc_get_gpc(0,0)]")}${show("/g", "inc0g=%[sc_inc_gpc0(0)] inc1g=%[sc_inc_gpc1(0)] clr0g=%[sc_clr_gpc0(0)] clr1g=%[sc_clr_gpc1(0)] r=%[sc_gpc_rate(0,0)],%[sc_gpc_rate(1,0)],%[sc_gpc_rate(2,0)] ")}${show("/k", "k=%[str(1.2.3.4),table_gpc(0,f)],%[str(1.2.3.4),table_gpc(9,f)],%[str(1.2.3.4),table_gpt(0,f)],%[str(1.2.3.4),table_gpc_rate(0,f)],%[src,table_gpc(9,f)],%[src,table_gpt(0,f)],%[src,table_gpc_rate(2,f)],%[src,table_gpc0(f)],%[src,table_gpc1(f)],%[src,table_gpc0_rate(f)],%[src,table_gpt0(f)]")}  http-request return status 200 content-type text/plain lf-string "c=%[sc_get_gpc(0,0)],%[sc_get_gpc(1,0)] r=%[sc_gpc_rate(0,0)],%[sc_gpc_rate(1,0)],%[sc_gpc_rate(2,0)] s=%[src_get_gpc(0,f)],%[src_gpc_rate(2,f)],%[src_get_gpc(5,f)]\\n"
`;
  const paths = [
    "/sa",
    "/sa",
    "/sb",
    "/sc",
    "/sd",
    "/se",
    "/",
    "/a",
    "/a",
    "/b",
    "/b",
    "/c",
    "/d",
    "/d",
    "/e",
  ];
  assert.deepEqual(await answers(cfg, [...paths, "/", "/f", "/f", "/g", "/g", "/", "/k"]), [
    "sinc1=1",
    "sinc1=2",
    "sclr1=2",
    "sinc2=1 1",
    "sclr2=",
    "sx=0",
    "c=0,0 r=0,2,1 s=0,1,",
    "inc0=1",
    "inc0=2",
    "inc2=2",
    "inc2=3",
    "inc3=0",
    "clr0=2",
    "clr0=0",
    "clr2=",
    "c=0,0 r=2,2,3 s=0,3,",
    "s1clr=    0",
    "s1clr=    0",
    "inc0g=1 inc1g=1 clr0g=1 clr1g=1 r=3,3,3",
    "inc0g=1 inc1g=1 clr0g=1 clr1g=1 r=4,4,3",
    "c=0,0 r=4,4,3 s=0,3,",
    "k=0,0,0,0,,,3,0,0,4,",
  ]);
});

test("tcp-request and http-response rules count and tag by index, each where it runs", async () => {
  const be = await httpBackend("s", (req, res) => {
    const m = /s=(\d+)/.exec(req.url ?? "");
    res.writeHead(m ? Number(m[1]) : 200, { "x-v": req.headers["x-v"] ?? "" });
    res.end("ok");
  });
  const p = await startProxy(`${DEFAULTS}frontend f
  bind 127.0.0.1:1
  stick-table type ip size 10 store gpc(3),gpc_rate(3,60s),gpt(3)
  tcp-request connection track-sc1 src
  tcp-request connection sc-inc-gpc(0,1)
  tcp-request connection sc-set-gpt(0,1) 11
  tcp-request session sc-inc-gpc(1,1)
  tcp-request session sc-set-gpt(1,1) int(9)
  tcp-request content sc-inc-gpc(2,1)
  tcp-request content sc-set-gpt(2,1) req.hdr_cnt(x) if { req.hdr(x) -m found }
  http-request return status 200 content-type text/plain lf-string "c=%[sc_get_gpc(0,1)],%[sc_get_gpc(1,1)],%[sc_get_gpc(2,1)] r=%[sc_gpc_rate(0,1)],%[sc_gpc_rate(1,1)],%[sc_gpc_rate(2,1)] t=%[sc_get_gpt(0,1)],%[sc_get_gpt(1,1)],%[sc_get_gpt(2,1)]" if { path /show }
  default_backend b
backend b
  stick-table type ip size 10 store gpc(2),gpt(2)
  http-response track-sc0 src
  http-response sc-inc-gpc(0,0) if { status 404 }
  http-response sc-inc-gpc(1,0)
  http-response sc-set-gpt(0,0) res.hdr(x-v)
  http-response set-header x-c "c=%[sc_get_gpc(0,0)],%[sc_get_gpc(1,0)] t=%[sc_get_gpt(0,0)] g=%[sc_get_gpc(0,1)]"
  server s 127.0.0.1:${be.port}
`);
  try {
    const xc = async (path: string, v: string) =>
      /\r\nx-c: ([^\r]*)/i.exec(await exchange(p.port, get(path, `x-v: ${v}\r\n`)))?.[1];
    assert.equal(body(await exchange(p.port, get("/show"))), "c=1,1,1 r=1,1,1 t=11,9,0");
    // One connection, two requests: the connection's rules run once, the content rules twice.
    const two = await exchange(
      p.port,
      get("/show", "x: 1\r\nx: 2\r\n", false) + get("/show", "x: 1\r\nx: 2\r\n"),
    );
    assert.deepEqual(
      two
        .split(/HTTP\/1\.1 /)
        .slice(1)
        .map(body),
      ["c=2,2,2 r=2,2,2 t=11,9,2", "c=2,2,3 r=2,2,3 t=11,9,2"],
    );
    assert.deepEqual(
      [await xc("/?s=404", "77"), await xc("/?s=200", "5"), await xc("/?s=404", "abc")],
      ["c=1,1 t=77 g=3", "c=1,2 t=5 g=4", "c=2,3 t=0 g=5"],
    );
    assert.equal(body(await exchange(p.port, get("/show"))), "c=6,6,7 r=6,6,7 t=11,9,2");
  } finally {
    await p.stop();
    await be.close();
  }
});
