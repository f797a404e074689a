// The HTTP sample fetches of http-fetch.ts through a running proxy: each value is what haproxy
// 2.6.12 gave for the same configuration and requests (its client at 127.0.0.1, as here).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  Client,
  alertsFor,
  loggedDefaults,
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

// The request side: found flags (an ACL's -m found) first, then the values; one absent writes nothing.
const FLAGS = ["cookie(a)", "pathq", "baseq", "url_port", "url_ip", "urlp_val(a)"];
const REQUEST = [
  "pathq=[%[pathq]] baseq=[%[baseq]] ip=[%[url_ip]] port=[%[url_port]] url32=[%[url32]]",
  "url32src=[%[url32+src,hex]] upv=[%[urlp_val(a)]] upv0=[%[urlp_val]] upvd=[%[urlp_val(a,;)]]",
  "cookie=[%[cookie(a)]] cookie0=[%[cookie]] first=[%[http_first_req]]",
  "names=[%[req.hdr_names]] names2=[%[req.hdr_names(;)]] names0=[%[req.hdr_names(),hex]] hdrs=[%[req.hdrs,hex]]",
].join(" ");

// The response side, from Set-Cookie lines the server sends.
const RESPONSE = [
  "rc=[%[res.cook(a)]] rc0=[%[res.cook]] sc=[%[scook(a)]] cnt=[%[res.cook_cnt(a)]] cnt0=[%[res.cook_cnt]]",
  "scnt=[%[scook_cnt(a)]] val=[%[res.cook_val(a)]] sval=[%[scook_val(a)]] val0=[%[res.cook_val]]",
  "cookie=[%[cookie(a)]] cookie0=[%[cookie]] names=[%[res.hdr_names]] names2=[%[res.hdr_names(-)]] first=[%[http_first_req]]",
].join(" ");
const RESPONSE_ACLS: [string, string][] = [
  ["x-f-rc", "res.cook(a) -m found"],
  ["x-f-rc0", "res.cook -m found"],
  ["x-f-cookie", "cookie(a) -m found"],
  ["x-m-scook2", "scook(a) -m str 2"],
  ["x-m-scookbeg", "scook_beg(a) 2"],
  ["x-m-scookval2", "scook_val(a) 2"],
];

let rx: SyslogReceiver;
let p: Proxy;

before(async () => {
  rx = await syslogReceiver();
  cleanup.push(rx.close);
  // Answers each request with the header lines its X-R header lists (JSON, base64).
  const server = await rawServer((s: net.Socket) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let e = buf.indexOf("\r\n\r\n"); e >= 0; e = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, e);
        buf = buf.slice(e + 4);
        const m = /\r\nx-r: *([^\r]*)/i.exec(head);
        const lines = m ? (JSON.parse(Buffer.from(m[1]!, "base64").toString("latin1")) as string[]) : [];
        s.write(
          `HTTP/1.1 200 OK\r\n${lines.map((l) => `${l}\r\n`).join("")}Content-Length: 2\r\n\r\nok`,
          "latin1",
        );
      }
    });
  });
  cleanup.push(server.close);
  p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  log-format "first=%[http_first_req] %r"
${FLAGS.map((f, i) => `  http-request set-var(txn.f${i}) str(${i}) if { ${f} -m found }`).join("\n")}
  http-request return status 200 content-type text/plain lf-string "${REQUEST} F=${FLAGS.map((_, i) => `%[var(txn.f${i})]`).join("")}" if { req.hdr(x-q) -m found }
  default_backend b
backend b
  http-response set-header X-A "${RESPONSE}"
  http-response set-header X-H "%[res.hdrs,hex]"
${RESPONSE_ACLS.map(([h, acl]) => `  http-response set-header ${h} 1 if { ${acl} }`).join("\n")}
  server s 127.0.0.1:${server.port}
`);
  cleanup.push(p.stop);
});

/** The values a request gets: its answer's body, hdrs and names0 decoded from hex. */
async function requestSide(head: string, c = new Client(p.port)): Promise<Record<string, string>> {
  try {
    c.send(Buffer.from(`${head}X-Q: 1\r\n\r\n`, "latin1"));
    return fields((await c.response()).body);
  } finally {
    if (arguments.length < 2) c.close();
  }
}

/** The name=[value] fields of a line, and its flags after F=. */
function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=\[(.*?)\](?= |$)/g)) out[m[1]!] = m[2]!;
  const f = /F=(\d*)/.exec(line);
  if (f) out.F = f[1]!;
  for (const k of ["hdrs", "names0"])
    if (out[k] !== undefined) out[k] = Buffer.from(out[k], "hex").toString("latin1");
  return out;
}

/** What the response's rules found for the server's header lines: X-A's fields, res.hdrs, the ACL flags. */
async function responseSide(
  lines: string[],
): Promise<{ v: Record<string, string>; hdrs: string; acls: string[] }> {
  const c = new Client(p.port);
  try {
    const r = Buffer.from(JSON.stringify(lines), "latin1").toString("base64");
    c.send(`GET /r HTTP/1.1\r\nHost: ex.com\r\nX-R: ${r}\r\n\r\n`);
    const head = (await c.response()).head;
    const header = (name: string) => new RegExp(`\r\n${name}: ([^\r]*)`, "i").exec(head)?.[1];
    return {
      v: fields(header("x-a") ?? ""),
      hdrs: Buffer.from(header("x-h") ?? "", "hex").toString("latin1"),
      acls: RESPONSE_ACLS.map(([h]) => h).filter((h) => header(h) !== undefined),
    };
  } finally {
    c.close();
  }
}

const pick = (v: Record<string, string>, keys: string[]): string => keys.map((k) => `${k}=${v[k]}`).join(" ");

test("pathq, baseq, url_ip, url_port, urlp_val, url32 and cookie read the request's target as haproxy does", async () => {
  const K = ["pathq", "baseq", "ip", "port", "url32", "upv", "upv0", "upvd", "F"];
  const cases: [string, string][] = [
    [
      "GET /a/b?a=1 HTTP/1.1\r\nHost: ex.com\r\nCookie: a=1; b=2, a=3\r\n",
      "pathq=/a/b?a=1 baseq=ex.com/a/b?a=1 ip= port= url32=3030777927 upv=1 upv0=1 upvd= F=0125",
    ],
    [
      "GET http://1.2.3.4:8080/x?y HTTP/1.1\r\nHost: 1.2.3.4:8080\r\n",
      "pathq=/x?y baseq=1.2.3.4:8080/x?y ip=1.2.3.4 port=8080 url32=1677116529 upv= upv0= upvd= F=1234",
    ],
    // A name, an IPv6 address, userinfo, another scheme: no address, nor port.
    [
      "GET http://example.com:81/p?q=1 HTTP/1.1\r\nHost: example.com:81\r\n",
      "pathq=/p?q=1 baseq=example.com:81/p?q=1 ip= port= url32=1767312508 upv= upv0=1 upvd= F=12",
    ],
    [
      "GET http://[::1]:81/p HTTP/1.1\r\nHost: [::1]:81\r\n",
      "pathq=/p baseq=[::1]:81/p ip= port= url32=3209317043 upv= upv0= upvd= F=12",
    ],
    [
      "GET http://u@1.2.3.4:82/p HTTP/1.1\r\nHost: 1.2.3.4:82\r\n",
      "pathq=/p baseq=1.2.3.4:82/p ip= port= url32=3296706221 upv= upv0= upvd= F=12",
    ],
    [
      "GET ftp://1.2.3.4:21/ HTTP/1.1\r\nHost: 1.2.3.4:21\r\n",
      "pathq=/ baseq=1.2.3.4:21/ ip= port= url32=1705144668 upv= upv0= upvd= F=12",
    ],
    // The address stops at the first byte that is not of it; the port is then the scheme's.
    [
      "GET http://1.2.3.4abc:99/p HTTP/1.1\r\nHost: 1.2.3.4abc:99\r\n",
      "pathq=/p baseq=1.2.3.4abc:99/p ip=1.2.3.4 port=80 url32=1112466934 upv= upv0= upvd= F=1234",
    ],
    [
      "GET https://1.2.3.4 HTTP/1.1\r\nHost: 1.2.3.4\r\n",
      "pathq= baseq=1.2.3.4 ip=1.2.3.4 port=443 url32=3264276115 upv= upv0= upvd= F=234",
    ],
    // The default port leaves the target as it is parsed.
    [
      "GET HTTP://1.2.3.4:80/ HTTP/1.1\r\nHost: 1.2.3.4:80\r\n",
      "pathq=/ baseq=1.2.3.4/ ip=1.2.3.4 port=80 url32=840663255 upv= upv0= upvd= F=1234",
    ],
    // A port past 65535 keeps its 16 low bits.
    [
      "GET http://1.2.3.4:99999/p HTTP/1.1\r\nHost: 1.2.3.4:99999\r\n",
      "pathq=/p baseq=1.2.3.4:99999/p ip=1.2.3.4 port=34463 url32=2409331185 upv= upv0= upvd= F=1234",
    ],
    [
      "GET http://01.2.3.004:0080/a HTTP/1.1\r\nHost: 01.2.3.004:0080\r\n",
      "pathq=/a baseq=01.2.3.004:0080/a ip=1.2.3.4 port=80 url32=1496733228 upv= upv0= upvd= F=1234",
    ],
    // An empty query is one; a parameter's number stops at its first byte past '9'.
    [
      "GET /p? HTTP/1.1\r\nHost: x\r\n",
      "pathq=/p? baseq=x/p? ip= port= url32=1707991055 upv= upv0= upvd= F=12",
    ],
    [
      "GET /p?a= HTTP/1.1\r\nHost: x\r\n",
      "pathq=/p?a= baseq=x/p?a= ip= port= url32=2157649265 upv=0 upv0=0 upvd= F=125",
    ],
    [
      "GET /p?b=2;a=x7&a=9 HTTP/1.1\r\nHost: x\r\n",
      "pathq=/p?b=2;a=x7&a=9 baseq=x/p?b=2;a=x7&a=9 ip= port= url32=905691011 upv=0 upv0=2 upvd=0 F=125",
    ],
    // Without Host, baseq is pathq; another delimiter than '?' starts the parameters at its own.
    [
      "GET /p;a=5?a=6 HTTP/1.1\r\n",
      "pathq=/p;a=5?a=6 baseq=/p;a=5?a=6 ip= port= url32=2348806150 upv=6 upv0=6 upvd=5 F=125",
    ],
    // No path: no pathq, and baseq is the Host.
    ["GET * HTTP/1.1\r\nHost: x\r\n", "pathq= baseq=x ip= port= url32=2246094376 upv= upv0= upvd= F=2"],
    [
      "GET http://h HTTP/1.1\r\nHost: h\r\n",
      "pathq= baseq=h ip= port= url32=1228821030 upv= upv0= upvd= F=2",
    ],
  ];
  for (const [head, want] of cases) assert.equal(pick(await requestSide(head), K), want, head);
  // url32 adds the Host's bytes as signed chars.
  assert.equal((await requestSide("GET /t HTTP/1.1\r\nHost: \xe9x\xff\r\n")).url32, "160883581");
});

test("cookie reads the request's Cookie lines as haproxy's cookie parser does", async () => {
  const K = ["cookie", "cookie0", "F"];
  const cases: [string, string][] = [
    ["Cookie: a=1; b=2, a=3", "cookie=3 cookie0=1 F=0125"],
    ["Cookie: b=1, a=4 ; $a=5; c", "cookie=4 cookie0=1 F=0125"],
    // A quoted value keeps its ';'; a cookie in fewer bytes than its name and two is not looked for.
    ['Cookie: $x=1; a="1;2", x=3', 'cookie="1;2" cookie0="1;2" F=0125'],
    ["Cookie: a=", "cookie= cookie0= F=125"],
    ["Cookie: =3;a=2 ", "cookie=2 cookie0=3 F=0125"],
  ];
  for (const [line, want] of cases)
    assert.equal(pick(await requestSide(`GET /p?a=1 HTTP/1.1\r\nHost: ex\r\n${line}\r\n`), K), want, line);
});

test("req.hdr_names and req.hdrs list the lines haproxy's parser keeps, names in lower case", async () => {
  let v = await requestSide("GET /q?a=12&b=3 HTTP/1.1\r\nHost: ex.com\r\nCookie: a=1; b=2\r\n");
  assert.equal(v.names, "host,cookie,x-q");
  assert.equal(v.names2, "host;cookie;x-q");
  // Empty parentheses: an empty delimiter, a NUL.
  assert.equal(v.names0, "host\0cookie\0x-q");
  assert.equal(v.hdrs, "host: ex.com\r\ncookie: a=1; b=2\r\nx-q: 1\r\n\r\n");
  assert.equal(v.url32, "2820158632");
  assert.equal(v.url32src, "A81834A87F000001");
  // Connection loses its close and keep-alive words (a line left without any goes); values are trimmed.
  v = await requestSide(
    "GET /q HTTP/1.1\r\nHost: ex.com\r\nConnection: X-A,  keep-alive ,X-B , close, X-C\r\nConnection: Close\r\n" +
      "Connection: upgrade, keep-alive\r\nConnection: ,keep-alive\r\nConnection: x ,  , y\r\nX-Empty:\r\nX-Sp:   a b   \r\n",
  );
  assert.equal(
    v.hdrs,
    "host: ex.com\r\nconnection: X-A,X-B,X-C\r\nconnection: upgrade\r\nconnection: x ,  , y\r\nx-empty: \r\n" +
      "x-sp: a b\r\nx-q: 1\r\n\r\n",
  );
  // A repeated Host or Content-Length line is not there.
  v = await requestSide(
    "POST /q HTTP/1.1\r\nHost: ex.com\r\nContent-Length: 0\r\nContent-Length: 0\r\nHost: ex.com\r\nProxy-Connection: keep-alive\r\n",
  );
  assert.equal(v.names, "host,content-length,proxy-connection,x-q");
});

test("http_first_req is true for a connection's first transaction only, in rules and in the log", async () => {
  const c = new Client(p.port);
  try {
    const a = await requestSide("GET /one HTTP/1.1\r\nHost: ex\r\n", c);
    const b = await requestSide("GET /two HTTP/1.1\r\nHost: ex\r\n", c);
    assert.equal(a.first, "1");
    assert.equal(b.first, "0");
  } finally {
    c.close();
  }
  assert.equal(await rx.take(/GET \/one /), "first=1 GET /one HTTP/1.1");
  assert.equal(await rx.take(/GET \/two /), "first=0 GET /two HTTP/1.1");
  // On the response's side too.
  const r = new Client(p.port);
  try {
    for (const want of ["1", "0"]) {
      r.send("GET /r HTTP/1.1\r\nHost: ex\r\n\r\n");
      assert.match((await r.response()).head, new RegExp(`first=\\[${want}\\]`));
    }
  } finally {
    r.close();
  }
});

test("res.cook, scook, their counts and numbers, and cookie read the response's Set-Cookie lines", async () => {
  const K = ["rc", "rc0", "sc", "cnt", "cnt0", "scnt", "val", "sval", "val0", "cookie", "cookie0"];
  const cases: [string[], string, string[]][] = [
    // Each line's first cookie, the words after it when they have the same name (any name without
    // one); an Expires date's comma cuts a line in two.
    [
      [
        "Set-Cookie: a=1; Path=/",
        "Set-Cookie: b=3",
        "Set-Cookie: a=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
      ],
      "rc=2 rc0=1 sc=2 cnt=2 cnt0=5 scnt=2 val=2 sval=2 val0=1 cookie=2 cookie0=1",
      ["x-f-rc", "x-f-rc0", "x-f-cookie", "x-m-scook2", "x-m-scookbeg", "x-m-scookval2"],
    ],
    [
      ["Set-Cookie: a=1; Path=/; a=7"],
      "rc=1 rc0=1 sc=1 cnt=1 cnt0=3 scnt=1 val=1 sval=1 val0=1 cookie=1 cookie0=1",
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    [
      ["Set-Cookie: x=1; a=2"],
      "rc= rc0=1 sc= cnt=0 cnt0=2 scnt=0 val= sval= val0=1 cookie= cookie0=1",
      ["x-f-rc0"],
    ],
    [
      ["Set-Cookie: $x=1; a=2"],
      "rc=2 rc0=2 sc=2 cnt=1 cnt0=1 scnt=1 val=2 sval=2 val0=2 cookie=2 cookie0=2",
      ["x-f-rc", "x-f-rc0", "x-f-cookie", "x-m-scook2", "x-m-scookbeg", "x-m-scookval2"],
    ],
    // No '=': no cookie. "a=" is too short to be looked for by name.
    [["Set-Cookie: a"], "rc= rc0= sc= cnt=0 cnt0=0 scnt=0 val= sval= val0= cookie= cookie0=", []],
    [["Set-Cookie: a="], "rc= rc0= sc= cnt=0 cnt0=1 scnt=0 val= sval= val0=0 cookie= cookie0=", ["x-f-rc0"]],
    [
      ["Set-Cookie: a =", "Set-Cookie: a=;"],
      "rc= rc0= sc= cnt=2 cnt0=2 scnt=2 val=0 sval=0 val0=0 cookie= cookie0=",
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    [
      ["Set-Cookie: =5"],
      "rc= rc0=5 sc= cnt=0 cnt0=1 scnt=0 val= sval= val0=5 cookie= cookie0=5",
      ["x-f-rc0"],
    ],
    [
      ['Set-Cookie: a="x;y,z"; b=1'],
      'rc="x;y,z" rc0="x;y,z" sc="x;y,z" cnt=1 cnt0=2 scnt=1 val=-14 sval=-14 val0=-14 cookie="x;y,z" cookie0="x;y,z"',
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    // Numbers as haproxy's strl2ic reads them: a byte before '0' counts, 32 bits wrap.
    [
      ["Set-Cookie: a=1+2"],
      "rc=1+2 rc0=1+2 sc=1+2 cnt=1 cnt0=1 scnt=1 val=52 sval=52 val0=52 cookie=1+2 cookie0=1+2",
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    [
      ["Set-Cookie: a=99999999999"],
      "rc=99999999999 rc0=99999999999 sc=99999999999 cnt=1 cnt0=1 scnt=1 val=1215752191 sval=1215752191 " +
        "val0=1215752191 cookie=99999999999 cookie0=99999999999",
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    [
      ["Set-Cookie: a=12x", "Set-Cookie: a=-3"],
      "rc=-3 rc0=12x sc=-3 cnt=2 cnt0=2 scnt=2 val=-3 sval=-3 val0=12 cookie=-3 cookie0=12x",
      ["x-f-rc", "x-f-rc0", "x-f-cookie"],
    ],
    [["X-Other: 1"], "rc= rc0= sc= cnt=0 cnt0=0 scnt=0 val= sval= val0= cookie= cookie0=", []],
  ];
  for (const [lines, want, acls] of cases) {
    const r = await responseSide(lines);
    assert.equal(pick(r.v, K), want, lines.join(" | "));
    assert.deepEqual(r.acls, acls, lines.join(" | "));
  }
});

test("res.hdr_names and res.hdrs list the response's lines as haproxy keeps them", async () => {
  const r = await responseSide([
    "Connection: keep-alive, X-Z",
    "X-Z: 1",
    "Connection: close",
    "SET-COOKIE: a=4",
  ]);
  assert.equal(r.v.names, "connection,x-z,set-cookie,content-length");
  assert.equal(r.v.names2, "connection-x-z-set-cookie-content-length");
  // X-A, set by the rule before, is there.
  assert.match(
    r.hdrs,
    /^connection: X-Z\r\nx-z: 1\r\nset-cookie: a=4\r\ncontent-length: 2\r\nx-a: rc=\[4\] [^\r]*\r\n\r\n$/,
  );
});

test("the response's fetches are refused in a request's rules, and the request's in a response's", () => {
  assert.deepEqual(alertsFor("http-request set-header X %[res.cook(a)]"), [
    "error detected in frontend 'f' while parsing 'http-request set-header' rule : sample fetch <res.cook(a)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.",
  ]);
  assert.deepEqual(alertsFor("http-response set-header X %[pathq]"), [
    "error detected in frontend 'f' while parsing 'http-response set-header' rule : sample fetch <pathq]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
  ]);
  // A binary sample's ACL names its method.
  assert.deepEqual(alertsFor("http-request deny if { req.hdrs foo }"), [
    "error detected while parsing an 'http-request deny' condition : matching method must be specified first (using '-m') when using a sample fetch of this type ('req.hdrs').",
  ]);
  assert.deepEqual(
    alertsFor("http-request deny if { req.hdrs -m found } { url32+src -m found } { scook_end(a) x }"),
    [],
  );
  // So does a sample the bytes converter made (binary in haproxy), and the body's.
  assert.deepEqual(alertsFor("http-request deny if { req.hdr(x),bytes(0,2) ab } || { req.body foo }"), [
    "error detected while parsing an 'http-request deny' condition : matching method must be specified first (using '-m') when using a sample fetch of this type ('req.hdr').",
  ]);
  assert.deepEqual(
    alertsFor("http-request deny if { req.hdr(x),bytes(0,2) -m str ab } { req.body -m sub foo }"),
    [],
  );
  // scook is an ACL keyword, the others are fetches.
  assert.deepEqual(alertsFor("http-request deny if { pathq(1) }"), [
    "error detected while parsing an 'http-request deny' condition : fetch method 'pathq' : expected ')' before '1)' in ACL expression 'pathq(1)'.",
  ]);
  assert.deepEqual(alertsFor("http-response deny if { scook_cnt(a,b) 1 }"), [
    "error detected while parsing an 'http-response deny' condition : fetch method 'scook_cnt' : expected ')' before ',b)' in ACL expression 'scook_cnt(a,b)'.",
  ]);
  assert.deepEqual(alertsFor("http-response deny if { scook(a,b) 1 }"), [
    "error detected while parsing an 'http-response deny' condition : ACL keyword 'scook' : expected ')' before ',b)'.",
  ]);
});

test("req.hdrs_bin writes each line's name and value after its length, as haproxy's varints", async () => {
  const q = await startProxy(`defaults
  mode http
  timeout client 3s
  timeout server 1s
  timeout connect 1s
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "%[req.hdrs_bin,hex]"
`);
  cleanup.push(q.stop);
  const c = new Client(q.port);
  try {
    c.send(`GET /a HTTP/1.1\r\nHost: h\r\nX-L: ${"v".repeat(300)}\r\nConnection: keep-alive, x\r\n\r\n`);
    // 300 takes two bytes (FC 03); Connection without keep-alive; two zero lengths end the list.
    const hex = (s: string) => Buffer.from(s, "latin1").toString("hex").toUpperCase();
    const want = `04${hex("host")}01${hex("h")}03${hex("x-l")}FC03${"76".repeat(300)}0A${hex("connection")}01${hex("x")}0000`;
    assert.equal((await c.response()).body, want);
  } finally {
    c.close();
  }
});
