// Cookies, URL parameters and the Connection header as rules read them, outside ACLs and in ACLs
// (which try every value): each answer is the one haproxy 2.6.12 gave for the same configuration and
// requests.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { Client, rawServer, startProxy, type Proxy } from "../helpers/harness.js";

const ACLS = [
  "req.cook(a) 7",
  "cook_val(a) 52",
  "cook_beg(a) q",
  "cookie(b) x",
  "urlp(x) 3",
  "urlp_val(x) 3",
  "url_param(x,;) 3",
  "hdr(connection) -i keep-alive",
  "hdr_cnt(connection) 1",
  "req.cook -m found",
  "urlp_reg(x) ^[0-9]$",
];
const RESPONSE_ACLS = [
  "scook(s) 2",
  "res.cook_val(s) 2",
  "cookie(s) 2",
  "scook_cnt(s) 2",
  "scook(s) -m found",
  "scook(Path) /",
];
const VALUES = [
  "a=[%[req.cook(a)]] b=[%[req.cook(b)]] c=[%[req.cook(c)]] cnt=[%[req.cook_cnt(a)]] cv=[%[req.cook_val(a)]]",
  "all=[%[req.cook]] up=[%[url_param(x,;)]] up2=[%[url_param(y,;)]] up3=[%[url_param(x)]] hc=[%[hdr(connection)]]",
  "fc=[%[req.fhdr(connection)]] hcnt=[%[hdr_cnt(connection)]] names=[%[req.hdr_names]] R=[%[var(txn.r)]]",
].join(" ");

let p: Proxy;
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

before(async () => {
  const server = await rawServer((s: net.Socket) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let e = buf.indexOf("\r\n\r\n"); e >= 0; e = buf.indexOf("\r\n\r\n")) {
        buf = buf.slice(e + 4);
        s.write(
          "HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/\r\nSet-Cookie: s=2\r\nContent-Length: 2\r\n\r\nok",
        );
      }
    });
  });
  cleanup.push(server.close);
  p = await startProxy(`defaults
  mode http
  timeout client 3s
  timeout server 3s
  timeout connect 1s
frontend f
  bind 127.0.0.1:1
${ACLS.map((a, i) => `  acl c${i + 1} ${a}`).join("\n")}
  http-request set-var(txn.r) str()
${ACLS.map((_, i) => `  http-request set-var(txn.r) var(txn.r),concat(c${i + 1}:,) if c${i + 1}`).join("\n")}
  http-response set-header X-R "%[var(txn.r)]"
${RESPONSE_ACLS.map((a, i) => `  http-response set-header X-S${i + 1} yes if { ${a} }`).join("\n")}
  http-request return status 200 content-type text/plain lf-string "${VALUES}" if { path_beg /v }
  default_backend b
backend b
  server s1 127.0.0.1:${server.port}
`);
  cleanup.push(p.stop);
});

async function ask(head: string): Promise<{ head: string; body: string }> {
  const c = new Client(p.port);
  try {
    c.send(Buffer.from(`${head}\r\n\r\n`, "latin1"));
    return await c.response();
  } finally {
    c.close();
  }
}

test("req.cook, cook_val, url_param and hdr(connection) give what haproxy's rules see", async () => {
  const cases: [string, string][] = [
    [
      'GET /v?x=1;y=2&x=3 HTTP/1.1\r\nHost: h\r\nCookie: a="q v"; b=; c=1+2\r\nConnection: keep-alive, foo',
      // A quoted value keeps its quotes, and strl2ic reads '"' as -14; a delimiter starts the parameters
      // at its first occurrence; the parser took keep-alive out of Connection.
      'a=["q v"] b=[] c=[1+2] cnt=[1] cv=[-14] all=["q v"] up=[3] up2=[2] up3=[1] hc=[foo] fc=[foo] hcnt=[1] names=[host,cookie,connection] R=[c5:c6:c7:c9:c10:c11:]',
    ],
    [
      "GET /v;x=5?y=2 HTTP/1.1\r\nHost: h\r\nCookie: a=1+2;b=x\r\nCookie: a=7\r\nConnection: close",
      // The last cookie of a name; the first of any; a Connection left empty is gone.
      "a=[7] b=[x] c=[] cnt=[2] cv=[7] all=[1+2] up=[5?y=2] up2=[] up3=[] hc=[] fc=[] hcnt=[0] names=[host,cookie,cookie] R=[c1:c2:c4:c10:]",
    ],
    [
      "GET /v HTTP/1.1\r\nHost: h\r\nCookie: $Version=1; a=  x ; a= ;  b  = 3\r\nConnection: a, close, b",
      // Names starting with '$' are attributes, not cookies.
      "a=[] b=[3] c=[] cnt=[2] cv=[0] all=[x] up=[] up2=[] up3=[] hc=[b] fc=[a,b] hcnt=[2] names=[host,cookie,connection] R=[c10:]",
    ],
  ];
  for (const [head, want] of cases) assert.equal((await ask(head)).body, want, head);
});

test("in an ACL, cookies and URL parameters are each tried, Set-Cookie only by its first name", async () => {
  const header = (head: string, name: string) => new RegExp(`\r\n${name}: ([^\r]*)`, "i").exec(head)?.[1];
  const answers: [string, string][] = [
    [
      'GET /p?x=1;y=2&x=3 HTTP/1.1\r\nHost: h\r\nCookie: a=7; a="q v", b=x\r\nCookie: a=1+2\r\nConnection: keep-alive, foo',
      "c1:c2:c4:c5:c6:c7:c9:c10:c11:",
    ],
    // urlp(x) 3 matches the first x; Connection keeps foo, not keep-alive (c9, not c8).
    ["GET /p?x=3;x=;x=1 HTTP/1.1\r\nHost: h\r\nCookie: b=y;a=8", "c5:c6:c10:c11:"],
    [
      "GET /p;y=1;x=3?x=9 HTTP/1.1\r\nHost: h\r\nCookie: $a=7;b=x\r\nConnection: foo, keep-alive",
      "c4:c9:c10:c11:",
    ],
  ];
  for (const [req, want] of answers) {
    const { head } = await ask(req);
    assert.equal(header(head, "x-r"), want, req);
    // s=2 is found among the Set-Cookie lines; "Path" is an attribute of s=1, not a cookie.
    const found = RESPONSE_ACLS.map((_, i) => `X-S${i + 1}`).filter((h) => header(head, h) !== undefined);
    assert.deepEqual(found, ["X-S1", "X-S2", "X-S3", "X-S4", "X-S5"], req);
  }
});
