// Rules in a named defaults section, as haproxy 2.6.12 runs them (each answer checked against it):
// they run before the proxy's own, read the section's own ACLs, and one side only may use them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { ConfigError } from "../../src/config/errors.js";
import { Runtime } from "../../src/proxy/runtime.js";
import { startProxy, exchange, httpBackend } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const TIMEOUTS = "  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

test("a named defaults section's rules run first, with its own ACLs, on the side that uses it", async () => {
  const web = await httpBackend("web");
  cleanup.push(web.close);
  const p = await startProxy(`
defaults fe
${TIMEOUTS}  acl isd path /d
  http-request add-header X-Order d
  http-request return status 200 content-type text/plain string fromdefaults if isd
  http-after-response add-header X-After d
  tcp-request content reject if { path /tcp }
defaults be
${TIMEOUTS}  http-response set-header X-Resp d
  http-after-response add-header X-After bd
frontend f from fe
  bind 127.0.0.1:1
  acl isd path /nothing
  http-request add-header X-Order f
  http-request return status 200 content-type text/plain string fromfrontend if { path /d } || { path /f }
  http-after-response add-header X-After f
  default_backend b
backend b from be
  http-response set-header X-Resp b
  server s 127.0.0.1:${web.port}
`);
  cleanup.push(p.stop);
  const get = (path: string) =>
    exchange(p.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  // The defaults' own `isd` (not the frontend's), and its rule before the frontend's.
  assert.match(await get("/d"), /\r\nX-After: d\r\nX-After: f\r\n[^]*\r\n\r\nfromdefaults$/);
  assert.match(await get("/f"), /\r\nX-After: d\r\nX-After: f\r\n[^]*\r\n\r\nfromfrontend$/);
  const r = await get("/x");
  assert.match(r, /\r\nX-Resp: b\r\n/);
  assert.match(r, /\r\nX-After: bd\r\nX-After: d\r\nX-After: f\r\n/);
  const seen = web.seen.at(-1)!.headers;
  assert.deepEqual(
    seen.filter((_, i) => seen[i - 1] === "X-Order"),
    ["d", "f"],
  );
  // A tcp-request content reject closes without an answer.
  assert.equal(await get("/tcp"), "");
});

test("a state fetch without argument in a named defaults section's rule reads the proxy running it (haproxy 2.6.12)", async () => {
  const p = await startProxy(`
defaults d
${TIMEOUTS}  http-request set-var(txn.n) nbsrv
  http-request set-var(txn.c) be_conn
  http-request set-var(txn.q) str(s1),srv_queue
defaults plain
${TIMEOUTS}frontend f
  bind 127.0.0.1:1
  default_backend b
backend b from d
  http-request return status 200 content-type text/plain lf-string "n=%[var(txn.n)] c=%[var(txn.c)] q=%[var(txn.q)]"
  server s1 127.0.0.1:1
  server s2 127.0.0.1:2
`);
  cleanup.push(p.stop);
  const r = await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(r, /\r\n\r\nn=2 c=1 q=0$/);
});

test("haproxy's refusals: both sides, a listen, or a defaults section inheriting the rules; ACLs stay in their section", () => {
  const alerts = (text: string) =>
    parseConfig([{ name: "t.cfg", text }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line ?? "-"}: ${d.message}`);
  const head = `defaults web\n${TIMEOUTS}  acl a path /x\n  http-request set-header X 1 if a\n`;
  assert.deepEqual(
    alerts(`${head}frontend f from web\n  bind :1\n  default_backend b\nbackend b from web\n`),
    [
      "11: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at t.cfg:1).",
    ],
  );
  assert.deepEqual(alerts(`${head}listen l from web\n  bind :1\n`), [
    "8: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.",
  ]);
  assert.deepEqual(alerts(`${head}defaults other from web\n`), [
    "8: a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at t.cfg:1).",
  ]);
  assert.deepEqual(alerts(`${head}frontend f from web\n  bind :1\n  http-request deny if a\n`), [
    "10: error detected while parsing an 'http-request deny' condition : no such ACL : 'a'.",
  ]);
  // ACLs alone are no rules: both sides may use the section.
  assert.deepEqual(
    alerts(
      `defaults web\n${TIMEOUTS}  acl a path /x\nfrontend f from web\n  bind :1\n  default_backend b\nbackend b from web\n`,
    ),
    [],
  );
});

test("a defaults section inheriting one with ACLs only: accepted, the ACLs not its own", () => {
  const alerts = (text: string) =>
    parseConfig([{ name: "t.cfg", text }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line ?? "-"}: ${d.message}`);
  const head = `defaults a\n${TIMEOUTS}  acl x path /x\ndefaults b from a\n`;
  assert.deepEqual(
    alerts(`${head}frontend f from b\n  bind :1\n  default_backend k\nbackend k from b\n`),
    [],
  );
  assert.deepEqual(alerts(`${head}  http-request deny if x\n`), [
    "8: error detected while parsing an 'http-request deny' condition : no such ACL : 'x'.",
  ]);
});

test("a named defaults section's rules name its own table and proxy, and a server only with its backend", async () => {
  // What haproxy 2.6.12 says of each, the section `d` used by one side, `plain` by the other.
  const refusal = async (rule: string, side: "frontend" | "backend"): Promise<string> => {
    const fe = `frontend f${side === "frontend" ? " from d" : ""}\n  bind :1\n  default_backend b\n`;
    const be = `backend b${side === "backend" ? " from d" : ""}\n  stick-table type ip size 1k\n  server s1 127.0.0.1:1\n`;
    const text = `defaults d\n${TIMEOUTS}  ${rule}\ndefaults plain\n${TIMEOUTS}${fe}${be}`;
    const { config, diagnostics } = parseConfig([{ name: "t.cfg", text }], {});
    const alert = diagnostics.find((d) => d.level === "alert");
    if (alert) return `${alert.where?.line ?? "-"}: ${alert.message}`;
    try {
      await (await Runtime.build(config)).stop();
      return "valid";
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return `${e.where?.line ?? "-"}${e.tight ? "" : " "}: ${e.message}`;
    }
  };
  const cases: [string, "frontend" | "backend", string][] = [
    [
      "http-request track-sc0 src",
      "frontend",
      "-: Proxy 'd': unable to find table 'd' referenced by track-sc0.",
    ],
    [
      "tcp-request content track-sc1 src",
      "backend",
      "-: Proxy 'd': unable to find table 'd' referenced by track-sc1.",
    ],
    ["http-request track-sc0 src table b", "frontend", "valid"],
    [
      "http-request deny if { srv_is_up(s1) }",
      "backend",
      "6: backend name must be set in arg 1 of ACL keyword 'srv_is_up' in proxy 'd'.",
    ],
    ["http-request deny if { srv_is_up(b/s1) }", "backend", "valid"],
    [
      "http-request deny if { be_conn gt 5 }",
      "frontend",
      "6: proxy 'd', referenced in arg 1 of ACL keyword 'be_conn' in proxy 'd', has not backend capability.",
    ],
    ["http-request deny if { be_conn gt 5 }", "backend", "valid"],
    [
      "http-request deny if { fe_conn gt 5 }",
      "backend",
      "6: proxy 'd', referenced in arg 1 of ACL keyword 'fe_conn' in proxy 'd', has not frontend capability.",
    ],
    [
      "http-request deny if { src_conn_cur gt 5 }",
      "frontend",
      "6: table name must be set in arg 1 of ACL keyword 'src_conn_cur' in proxy 'd'.",
    ],
    ["http-request deny if { src_conn_cur(b) gt 5 }", "frontend", "valid"],
  ];
  for (const [rule, side, said] of cases) assert.equal(await refusal(rule, side), said, `${rule} (${side})`);
  // A section nothing uses is not checked.
  const unused = `defaults d\n${TIMEOUTS}  http-request track-sc0 src\ndefaults plain\n${TIMEOUTS}frontend f\n  bind :1\n`;
  assert.deepEqual(parseConfig([{ name: "t.cfg", text: unused }], {}).diagnostics, []);
});

test("a named defaults section's tcp-request inspect-delay is a setting its proxies inherit (haproxy 2.6.12)", () => {
  const text = `defaults web\n${TIMEOUTS}  tcp-request inspect-delay 5s\nfrontend f from web\n  bind :1\n  tcp-request inspect-delay 3s\n`;
  const { config, diagnostics } = parseConfig([{ name: "t.cfg", text }], {});
  assert.equal(config.frontends[0]!.inspectDelay, 5000);
  // As haproxy: the inherited one stands, the frontend's is warned about.
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    ["ignoring tcp-request inspect-delay (was already defined) in frontend 'f'"],
  );
});

test("a named defaults section named by a `from` and used for want of one: haproxy's alert, and it goes on", () => {
  const { diagnostics } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `defaults web\n${TIMEOUTS}backend b\nfrontend f from web\n  bind :1\n  default_backend b\n`,
      },
    ],
    {},
  );
  assert.deepEqual(
    diagnostics.filter((d) => d.level === "alert").map((d) => [d.where?.line, d.continuing]),
    [[7, true]],
  );
});
