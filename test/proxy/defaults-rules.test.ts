// Rules in a named defaults section, as haproxy 2.6.12 runs them (each answer checked against it):
// they run before the proxy's own, read the section's own ACLs, and one side only may use them.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
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
