// rate-limit sessions, maxconnrate and maxsessrate: past the rate, new connections wait unread, as
// haproxy leaves them in the backlog, and come in as the rate of the last second allows.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { DEFAULTS, exchange, httpBackend, startProxy, type Backend } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

let web: Backend | undefined;
async function backendPort(): Promise<number> {
  if (!web) {
    web = await httpBackend("web");
    cleanup.push(web.close);
  }
  return web.port;
}

/** Opens `n` connections at once, one request each; the ms after the start each answer came. */
async function burst(port: number, n: number): Promise<number[]> {
  const start = Date.now();
  const times = await Promise.all(
    Array.from({ length: n }, async () => {
      const text = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000);
      assert.match(text, /^HTTP\/1\.1 200 /);
      return Date.now() - start;
    }),
  );
  return times.sort((a, b) => a - b);
}

test("rate-limit sessions: a frontend takes that many new sessions a second, the others wait their turn", async () => {
  const p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  rate-limit sessions 4
  default_backend b
frontend free
  bind 127.0.0.1:1
  default_backend b
backend b
  server s 127.0.0.1:${await backendPort()}
`);
  cleanup.push(p.stop);
  const free = await burst(p.ports[1]!, 8);
  assert.ok(free[7]! < 700, `another frontend is not limited: ${free}`);
  const t = await burst(p.ports[0]!, 8);
  // Four at once; the fifth when the second starts, then one every quarter of a second.
  assert.ok(t[3]! < 700, `the first four at once: ${t}`);
  assert.ok(t[4]! >= 900, `the fifth a second later: ${t}`);
  assert.ok(t[7]! >= 1600 && t[7]! < 3500, `the last after three more quarters: ${t}`);
});

test("maxconnrate and maxsessrate hold back every frontend's new connections", async () => {
  for (const kw of ["maxconnrate", "maxsessrate"]) {
    const p = await startProxy(`global
  ${kw} 3
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  default_backend b
frontend g
  bind 127.0.0.1:1
  default_backend b
backend b
  server s 127.0.0.1:${await backendPort()}
`);
    try {
      const [a, b] = await Promise.all([burst(p.ports[0]!, 3), burst(p.ports[1]!, 2)]);
      const t = [...a, ...b].sort((x, y) => x - y);
      assert.ok(t[2]! < 700, `${kw}: three at once: ${t}`);
      assert.ok(t[3]! >= 900, `${kw}: the fourth a second later: ${t}`);
    } finally {
      await p.stop();
    }
  }
});

const parse = (text: string) => parseConfig([{ name: "t.cfg", text }], {});
const messages = (text: string): string[] =>
  parse(text).diagnostics.map(
    (d) => `${d.level} ${d.where?.line}: ${d.message}${d.continuing ? " (continuing)" : ""}`,
  );

test("rate limits are read and refused in haproxy's words", () => {
  const fe = (line: string) =>
    `${DEFAULTS}frontend f\n  bind :80\n  ${line}\nbackend b\n  rate-limit sessions 5\n`;
  const ignored =
    "warning 11: rate-limit sessions will be ignored because backend 'b' has no frontend capability";
  assert.deepEqual(messages(fe("rate-limit sessions")), [
    "alert 9: 'rate-limit sessions' expects expects an integer value (in sessions/second)",
    ignored,
  ]);
  assert.deepEqual(messages(fe("rate-limit conns 1")), [
    "alert 9: 'rate-limit' only supports 'sessions' (got 'conns')",
    ignored,
  ]);
  assert.deepEqual(messages(fe("rate-limit sessions 1x")), [
    "alert 9: 'rate-limit sessions' : unexpected character 'x' in integer value '1x'",
    ignored,
  ]);
  assert.deepEqual(messages(fe("rate-limit sessions 10\n  rate-limit sessions 20")), [
    "warning 10: overwriting rate-limit sessions which was already specified",
    "warning 12: rate-limit sessions will be ignored because backend 'b' has no frontend capability",
  ]);
  const hex = parse(`${DEFAULTS}  rate-limit sessions 0x10\nfrontend f\n  bind :80\n`).config;
  assert.equal(hex.frontends[0]!.rateLimitSessions, 16, "inherited from defaults, read as strtoul reads it");

  const global = (lines: string) => messages(`global\n  ${lines}\n${DEFAULTS}`);
  assert.deepEqual(global("maxconnrate 10\n  maxconnrate 20"), [
    "alert 3: 'maxconnrate' already specified. Continuing. (continuing)",
  ]);
  assert.equal(parse(`global\n  maxconnrate 10\n  maxconnrate 20\n`).config.global.connRate, 10);
  assert.deepEqual(global("maxsessrate"), ["alert 2: 'maxsessrate' expects an integer argument."]);
  assert.deepEqual(global("maxsessrate 5 6"), [
    "alert 2: 'maxsessrate' cannot handle unexpected argument '6'.",
  ]);
});
