// `server-template`: the servers <prefix><n> of a range, each like the template's line, read and
// refused as haproxy 2.6 reads and refuses it (messages from haproxy 2.6.12).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { autoIds } from "../../src/config/server.js";
import { DEFAULTS, exchange, httpBackend, startProxy } from "../helpers/harness.js";

const parse = (text: string) => parseConfig([{ name: "t.cfg", text }], {});
const backend = (lines: string): string => `${DEFAULTS}backend b\n  ${lines}\n`;
const alerts = (text: string): string[] =>
  parse(text)
    .diagnostics.filter((d) => d.level === "alert")
    .map((d) => d.message);

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("a number or a range names the servers; each has the template's address and parameters", () => {
  const { config, diagnostics } = parse(
    backend(
      "server-template web 3 127.0.0.1:8080 weight 5 maxconn 7 cookie c check\n  server-template api 0-1 ::1:81 id 9",
    ),
  );
  assert.deepEqual(diagnostics, []);
  const b = config.backends.get("b")!;
  assert.deepEqual(
    b.servers.map((s) => [s.name, s.host, s.port, s.weight, s.maxconn, s.cookie, s.check]),
    [
      ["web1", "127.0.0.1", 8080, 5, 7, "c", true],
      ["web2", "127.0.0.1", 8080, 5, 7, "c", true],
      ["web3", "127.0.0.1", 8080, 5, 7, "c", true],
      ["api0", "::1", 81, 1, 0, undefined, false],
      ["api1", "::1", 81, 1, 0, undefined, false],
    ],
  );
  // A custom id goes to the first server only; the others get the next free ones.
  assert.deepEqual(autoIds(b.servers), [1, 2, 3, 9, 5]);
});

test("server-template's mistakes get haproxy's alerts", () => {
  assert.deepEqual(alerts(backend("server-template web 3")), [
    "[t.cfg:8] : 'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.",
  ]);
  for (const r of ["0", "x", "3-1", "-2"])
    assert.deepEqual(alerts(backend(`server-template web ${r} 127.0.0.1:80`)), [
      `[t.cfg:8] : Wrong server-template number or range arg '${r}'.`,
    ]);
  assert.deepEqual(alerts(backend("server web2 127.0.0.1:80\n  server-template web 1-3 127.0.0.1:80")), [
    "backend 'b', another server named 'web2' was already defined at line 8, please use distinct names.",
  ]);
  assert.deepEqual(alerts(backend("server-template w! 2 127.0.0.1:80")), [
    "[t.cfg:8] : character '!' is not permitted in server-template prefix 'w!'.",
  ]);
  assert.deepEqual(alerts(backend("server w/1 127.0.0.1:80")), [
    "[t.cfg:8] : character '/' is not permitted in server name 'w/1'.",
  ]);
  assert.match(
    alerts(backend("server-template web 2 127.0.0.1:80 frob"))[0]!,
    /^'server b\/\(null\)' : unknown keyword 'frob'/,
  );
  assert.deepEqual(alerts(`${DEFAULTS}frontend f\n  bind :80\n  server-template web 2 127.0.0.1:80\n`), [
    "[t.cfg:9] : parsing [t.cfg:9] : 'server-template' not allowed because frontend 'f' has no backend capability.",
  ]);
});

test("requests go round the template's servers in turn", async () => {
  const web = await httpBackend("web");
  cleanup.push(web.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
  http-send-name-header X-Server
  server-template srv 3 127.0.0.1:${web.port}
`);
  cleanup.push(p.stop);
  for (let i = 0; i < 6; i++)
    await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const names = web.seen.map(
    (r) => r.headers[r.headers.findIndex((h) => h.toLowerCase() === "x-server") + 1],
  );
  assert.deepEqual(names, ["srv1", "srv2", "srv3", "srv1", "srv2", "srv3"]);
});
