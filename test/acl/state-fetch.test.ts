// The fetches of the proxies' and servers' state (be_conn, connslots, srv_is_up, fe_id, the timeouts
// in force...), each value what haproxy 2.6.12 gave for the same configuration and requests.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  closed,
  startProxy,
  exchange,
  httpBackend,
  Client,
  waitFor,
  type Backend,
  type Proxy,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";
import { Runtime } from "../../src/proxy/runtime.js";
import { ConfigError } from "../../src/config/errors.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

let web: Backend;
let p: Proxy;

const HEAD = `defaults
  mode http
  timeout client 3s
  timeout server 1s
  timeout connect 1s
  timeout tunnel 5s
`;

before(async () => {
  web = await httpBackend("web");
  cleanup.push(web.close);
  const srv = `127.0.0.1:${web.port}`;
  p = await startProxy(`${HEAD}frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "fe_id=%[fe_id] fe_conn=%[fe_conn] fe_defbe=%[fe_defbe] be_conn(b2)=%[be_conn(b2)] be_conn_free(b2)=%[be_conn_free(b2)] connslots(b2)=%[connslots(b2)] queue(b2)=%[queue(b2)] avg_queue(b2)=%[avg_queue(b2)] srv_conn(b2/s1)=%[srv_conn(b2/s1)] srv_conn_free(b2/s1)=%[srv_conn_free(b2/s1)] srv_is_up(b2/s2)=%[srv_is_up(b2/s2)] srv_is_up(b2/s1)=%[srv_is_up(b2/s1)] srv_queue(b2/s1)=%[srv_queue(b2/s1)] fc=%[fe_client_timeout] bcf3=%[be_conn_free(b3)] cs3=%[connslots(b3)] aq3=%[avg_queue(b3)] n=%[str(b2),nbsrv] nx=[%[str(nope),nbsrv]] q=%[str(b2/s1),srv_queue] qf=[%[str(s1),srv_queue]]" if { path /f }
  http-after-response set-header X-HM "%[fc_http_major] [%[bc_http_major]]"
  use_backend b2 if { path /b2 }
  default_backend b1
backend b1
  id 7
  http-request return status 200 content-type text/plain lf-string "be_id=%[be_id] be_conn=%[be_conn] connslots=%[connslots] cst=%[cur_server_timeout] bst=%[be_server_timeout] btt=%[be_tunnel_timeout] ctt=%[cur_tunnel_timeout] queue=%[queue] avg_queue=%[avg_queue] be_conn_free=%[be_conn_free] qo=%[str(s1),srv_queue] qx=[%[str(b1/x),srv_queue]]" if { path /x }
  http-request set-timeout server 300ms if { path /t }
  http-response set-header X-V "srv_id=%[srv_id] cst=%[cur_server_timeout] be_id=%[be_id] srv_conn=%[srv_conn(s1)]"
  http-response set-header X-BC "%[bc_src] %[bc_src_port,sub(1),bool] %[bc_dst] %[bc_dst_port]"
  http-response set-header X-BC-ACL 1 if { bc_dst_port ${web.port} }
  server s1 ${srv}
backend b2
  server s1 ${srv} maxconn 10 maxqueue 5
  server s2 127.0.0.1:1 maxconn 7 disabled
  server s3 ${srv} id 9 maxconn 4 maxqueue 2 backup
  http-response set-header X-V "srv_id=%[srv_id] be_id=%[be_id]"
backend b3
  server s1 127.0.0.1:1 maxconn 3 maxqueue 2 disabled
  server s3 ${srv} maxconn 4 maxqueue 2 backup
  server s4 ${srv} maxconn 5 maxqueue 2 backup
`);
  cleanup.push(p.stop);
});

const get = async (path: string): Promise<string> =>
  exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
const body = (res: string): string => res.slice(res.indexOf("\r\n\r\n") + 4);
const xv = (res: string): string | undefined => /\r\nX-V: ([^\r]*)/i.exec(res)?.[1];

test("connections, free slots, queues and servers up, of the backend named or the expression's own", async () => {
  assert.equal(
    body(await get("/f")),
    "fe_id=1 fe_conn=1 fe_defbe=b1 be_conn(b2)=0 be_conn_free(b2)=10 connslots(b2)=21 queue(b2)=0 avg_queue(b2)=0 " +
      "srv_conn(b2/s1)=0 srv_conn_free(b2/s1)=10 srv_is_up(b2/s2)=0 srv_is_up(b2/s1)=1 srv_queue(b2/s1)=0 fc=3000 " +
      // Only the first backup counts while no active server is up; a server without maxconn makes it -1.
      "bcf3=4 cs3=13 aq3=0 " +
      // The converters: the names come with the request; a frontend has no server of its own.
      "n=1 nx=[] q=0 qf=[]",
  );
  // The proxy's own answer was made with no server connection: no HTTP version for one.
  assert.match(await get("/f"), /\r\nX-HM: 1 \[\]\r\n/i);
  assert.equal(
    body(await get("/x")),
    "be_id=7 be_conn=1 connslots=-1 cst=0 bst=1000 btt=5000 ctt=0 queue=0 avg_queue=0 be_conn_free=-1 qo=0 qx=[]",
  );
});

test("the server's number and the stream's timeout server, in the response", async () => {
  const y = await get("/y");
  assert.equal(xv(y), "srv_id=1 cst=1000 be_id=7 srv_conn=1");
  // The server connection's ends (bc_*), as haproxy gave them for its own.
  assert.match(
    y,
    new RegExp(`\r\nX-BC: 127\\.0\\.0\\.1 1 127\\.0\\.0\\.1 ${web.port}\r\nX-BC-ACL: 1\r\n`, "i"),
  );
  assert.match(y, /\r\nX-HM: 1 \[1\]\r\n/i);
  assert.equal(xv(await get("/t")), "srv_id=1 cst=300 be_id=7 srv_conn=1");
  // f is 1, b1 has its own 7, and the count goes on past it: b2 is 3, as in haproxy.
  assert.equal(xv(await get("/b2")), "srv_id=1 be_id=3");
});

test("a backend, frontend or server argument that names none is refused as haproxy refuses it", async () => {
  const cases: [string, string][] = [
    [
      "be_conn(nope) gt 1",
      "unable to find backend 'nope' referenced in arg 1 of ACL keyword 'be_conn' in proxy 'f'.",
    ],
    [
      "be_conn gt 1",
      "proxy 'f', referenced in arg 1 of ACL keyword 'be_conn' in proxy 'f', has not backend capability.",
    ],
    [
      "fe_conn(b) gt 1",
      "unable to find frontend 'b' referenced in arg 1 of ACL keyword 'fe_conn' in proxy 'f'.",
    ],
    [
      "srv_conn(b/s9) gt 1",
      "unable to find server 's9' in proxy 'b', referenced in arg 1 of ACL keyword 'srv_conn' in proxy 'f'.",
    ],
    [
      "srv_conn(nope/s1) gt 1",
      "unable to find proxy 'nope' referenced in arg 1 of ACL keyword 'srv_conn' in proxy 'f'.",
    ],
    [
      "srv_is_up(s1)",
      "unable to find server 's1' in proxy 'f', referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'f'.",
    ],
    ["srv_conn gt 1", "missing server name in arg 1 of ACL keyword 'srv_conn' in proxy 'f'."],
    [
      "nbsrv(nope) gt 0",
      "unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'f'.",
    ],
    [
      "nbsrv gt 0",
      "proxy 'f', referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'f', has not backend capability.",
    ],
  ];
  // Used by a rule or not: haproxy resolves every ACL's arguments.
  for (const [acl, message] of cases)
    for (const rule of ["  http-request deny if a\n", ""]) {
      const text = `${HEAD}frontend f\n  bind :1\n  acl a ${acl}\n${rule}  default_backend b\nbackend b\n  server s1 127.0.0.1:1\n`;
      const { config, diagnostics } = parseConfig([{ name: "t.cfg", text }], {});
      assert.deepEqual(diagnostics, [], acl);
      await assert.rejects(
        Runtime.build(config),
        (e: unknown) => e instanceof ConfigError && e.message === message,
      );
    }
});

test("a proxy's id line, read as haproxy reads it", () => {
  const alerts = (lines: string): string[] =>
    parseConfig([{ name: "t.cfg", text: `${HEAD}frontend f\n  bind :1\n${lines}` }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line}: ${d.message}`);
  assert.deepEqual(alerts("  id 0\n"), ["9: custom id has to be > 0."]);
  assert.deepEqual(alerts("  id\n"), ["9: 'id' expects an integer argument."]);
  assert.deepEqual(alerts("  id 1 2\n"), ["9: 'id' cannot handle unexpected argument '2'."]);
  assert.deepEqual(alerts("  id 3\nbackend b\n  id 3\n"), [
    "11: backend b reuses same custom id as frontend f (declared at t.cfg:7).",
  ]);
  const { config } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `${HEAD}frontend f\n  bind :1\n  id 2\nbackend a\nbackend b\nbackend c\n  id 1\n`,
      },
    ],
    {},
  );
  assert.deepEqual(
    config.proxies.map((px) => px.id),
    [2, 3, 4, 1],
  );
});

test("mode tcp has no HTTP version: fc_http_major finds none, as haproxy's raw connections have none", async () => {
  const q = await startProxy(`${HEAD}frontend f
  mode tcp
  bind 127.0.0.1:1
  tcp-request content reject if { fc_http_major -m found }
  default_backend b
backend b
  mode tcp
  server s 127.0.0.1:${web.port}
`);
  cleanup.push(q.stop);
  const res = await exchange(q.port, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  assert.match(res, /^HTTP\/1\.1 200 /);
});

test("tcp-request connection rules read the state too: fe_conn caps a frontend's connections", async () => {
  const q = await startProxy(`${HEAD}frontend f
  bind 127.0.0.1:1
  tcp-request connection reject if { fe_conn gt 1 }
  http-request return status 200 content-type text/plain lf-string "in"
`);
  cleanup.push(q.stop);
  const first = new Client(q.port);
  cleanup.push(async () => first.close());
  first.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  assert.equal((await first.response()).body, "in");
  // The second connection while the first is open counts itself: reset before a byte is read.
  const second = await new Promise<string>((resolve) => {
    const s = net.connect(q.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    let got = "";
    s.on("data", (d: Buffer) => (got += d.toString("latin1")));
    s.on("error", (e: NodeJS.ErrnoException) => (got += `[${e.code}]`));
    s.on("close", () => resolve(got));
  });
  assert.equal(second, "[ECONNRESET]");
  first.close();
  await waitFor(() => q.rt.frontends[0]!.cur === 0);
  assert.equal(body(await exchange(q.port, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")), "in");
});

test("rates count each session, request, backend stream and server connection; binds and weights", async () => {
  const srv = `127.0.0.1:${web.port}`;
  // A fresh process: all of it within the first second, each rate is the count so far (haproxy's
  // values for the same sequence). The weights are the configured ones, the bind unnamed has no name.
  const w = "w=3 iw=0 uw=5";
  const want = [
    `fs=1 fr=1 bs=0 ss=0 dc=1 so=7 sn=web ${w}`,
    "bs=1 ss=1",
    `fs=1 fr=3 bs=1 ss=1 dc=1 so=7 sn=web ${w}`,
    `fs=2 fr=4 bs=1 ss=1 dc=2 so=7 sn=web ${w}`,
    `fs=3 fr=5 bs=1 ss=1 dc=1 so=1 sn= ${w}`,
  ];
  // A run slower than a rate's second (a loaded machine) is done again on a fresh process, at most thrice.
  let took = Infinity;
  for (let attempt = 0; attempt < 3 && took >= 900; attempt++) {
    const q = await startProxy(`${HEAD}frontend f
  bind 127.0.0.1:1 name web id 7
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "fs=%[fe_sess_rate] fr=%[fe_req_rate] bs=%[be_sess_rate(b)] ss=%[srv_sess_rate(b/s1)] dc=%[dst_conn] so=%[so_id] sn=%[so_name] w=%[srv_weight(b/s1)] iw=%[srv_iweight(b/s2)] uw=%[srv_uweight(b/s3)]" if { path /f }
  default_backend b
backend b
  server s1 ${srv} weight 3
  server s2 ${srv} weight 0
  server s3 ${srv} weight 5 disabled
  http-response set-header X-V "bs=%[be_sess_rate] ss=%[srv_sess_rate(s1)]"
`);
    const clients: Client[] = [];
    try {
      const start = performance.now();
      // Each client connects as it is made.
      const open = (port: number) => (clients.push(new Client(port)), clients.at(-1)!);
      const ask = async (k: Client, path: string) => {
        k.send(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
        const r = await k.response();
        return path === "/f" ? r.body : /\r\nx-v: ([^\r]*)/i.exec(r.head)![1];
      };
      const a = open(q.port);
      const got = [await ask(a, "/f"), await ask(a, "/x"), await ask(a, "/f"), await ask(open(q.port), "/f")];
      a.close();
      await waitFor(() => q.rt.frontends[0]!.cur === 1);
      got.push(await ask(open(q.ports[1]!), "/f"));
      took = performance.now() - start;
      if (took < 900) assert.deepEqual(got, want);
    } finally {
      clients.forEach((k) => k.close());
      await q.stop();
    }
  }
  assert.ok(took < 900, `three runs took a second or more each (${Math.round(took)} ms the last)`);
});

test("a request that never came whole counts among the frontend's requests and the tracked ones", async () => {
  const q = await startProxy(`${HEAD}  timeout http-request 200ms
frontend f
  bind 127.0.0.1:1
  stick-table type ip size 100 expire 30s store http_req_cnt,http_err_cnt
  tcp-request connection track-sc0 src
  http-request return status 200 content-type text/plain lf-string "r=%[sc0_http_req_cnt] e=%[sc0_http_err_cnt]"
`);
  cleanup.push(q.stop);
  const get = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  // A connection silent until timeout http-request, or a head it cut short (408), a client gone before
  // a byte (400), a malformed head (400): haproxy's HTTP/1 layer counts each as a request, the 400s
  // as errors too.
  assert.match(await exchange(q.port, ""), /^HTTP\/1.1 408 /);
  assert.equal(body(await exchange(q.port, get)), "r=2 e=0");
  assert.match(await exchange(q.port, "GET /x"), /^HTTP\/1.1 408 /);
  assert.equal(body(await exchange(q.port, get)), "r=4 e=0");
  const gone = net.connect(q.port, "127.0.0.1", () => gone.end());
  gone.resume();
  await closed(gone);
  assert.equal(body(await exchange(q.port, get)), "r=6 e=1");
  assert.match(await exchange(q.port, "GET /x HTTP/1.1\r\nBad header\r\n\r\n"), /^HTTP\/1.1 400 /);
  assert.equal(body(await exchange(q.port, get)), "r=8 e=2");
});
