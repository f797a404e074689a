// `source`: the address connections to servers (and their checks) leave from, the backend's or a
// server's own, as haproxy binds it before connecting.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { DEFAULTS, exchange, rawServer, startProxy, waitFor } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

test("a backend's source, and a server's own, are where its connections and checks come from", async () => {
  const from: string[] = [];
  const srv = await rawServer((s) => {
    from.push(s.remoteAddress ?? "");
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
  });
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
  source 127.0.0.2
  server s1 127.0.0.1:${srv.port}
  server s2 127.0.0.1:${srv.port} source 127.0.0.3
listen checked
  bind 127.0.0.1:1
  source 127.0.0.4:0
  server s 127.0.0.1:${srv.port} check inter 100ms
`);
  cleanup.push(p.stop);
  await waitFor(() => from.includes("127.0.0.4"), 3000, "a check from 127.0.0.4");
  from.length = 0;
  for (let i = 0; i < 4; i++)
    assert.match(
      await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 200 /,
    );
  // A check's connection reset before its accept is seen has no address left to read: "".
  assert.deepEqual(
    from.filter((a) => a !== "127.0.0.4" && a !== ""),
    ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"],
  );
});

test("a source address the machine does not have fails the connection: retries at once, then 503", async () => {
  const srv = await rawServer((s) => s.end());
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
  retries 1
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
  source 192.0.2.1
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const start = Date.now();
  assert.match(
    await exchange(p.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    /^HTTP\/1\.1 503 /,
  );
  // The failure is ours, not the server's: haproxy retries at once, without the turn-around second.
  assert.ok(Date.now() - start < 900, `answered after ${Date.now() - start} ms`);
});

test("a wildcard source binds nothing (its port neither); a source of the other family fails as one not bound", async () => {
  const srv = await rawServer((s) =>
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")),
  );
  cleanup.push(srv.close);
  const p = await startProxy(`${DEFAULTS}
  retries 1
frontend wild
  bind 127.0.0.1:1
  default_backend wild
frontend other
  bind 127.0.0.1:1
  default_backend other
backend wild
  source 0.0.0.0:${srv.port}
  server s 127.0.0.1:${srv.port}
backend other
  source [::1]
  server s 127.0.0.1:${srv.port}
`);
  cleanup.push(p.stop);
  const get = (port: number) => exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  // Three at once: one port for all would fail two of them (haproxy answered 200 three times).
  for (const a of await Promise.all([get(p.ports[0]!), get(p.ports[0]!), get(p.ports[0]!)]))
    assert.match(a, /^HTTP\/1\.1 200 /);
  const start = Date.now();
  assert.match(await get(p.ports[1]!), /^HTTP\/1\.1 503 /);
  assert.ok(Date.now() - start < 900, `answered after ${Date.now() - start} ms`);
});

test("source is read and refused in haproxy's words", () => {
  const messages = (line: string, section = "backend b") =>
    parseConfig([{ name: "t.cfg", text: `${DEFAULTS}${section}\n  ${line}\n` }], {}).diagnostics.map(
      (d) => `${d.level}: ${d.message}`,
    );
  assert.deepEqual(messages("source"), [
    "alert: 'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>.",
  ]);
  assert.deepEqual(messages("source 127.0.0.2:1000-2000"), [
    "alert: 'source 127.0.0.2:1000-2000' : port range not permitted here in '127.0.0.2:1000-2000'",
  ]);
  assert.deepEqual(messages("source 127.0.0.2 foo"), [
    "alert: 'source' only supports optional keywords 'interface' and 'usesrc'.",
  ]);
  assert.match(
    messages("source 127.0.0.2 usesrc clientip")[0]!,
    /^alert: .*usesrc.* not supported by sluice/,
  );
  assert.deepEqual(messages("source 127.0.0.2", "frontend f\n  bind :80"), [
    "warning: 'source' ignored because frontend 'f' has no backend capability.",
  ]);
  assert.match(
    messages("server s 127.0.0.1:80 source 127.0.0.2:1-9")[0]!,
    /port range is not supported by sluice/,
  );
  const { config } = parseConfig(
    [{ name: "t.cfg", text: `${DEFAULTS}  source 127.0.0.5:7000\nbackend b\n  server s 127.0.0.1:80\n` }],
    {},
  );
  assert.deepEqual(
    config.backends.get("b")!.source,
    { host: "127.0.0.5", port: 7000 },
    "inherited from defaults",
  );
});
