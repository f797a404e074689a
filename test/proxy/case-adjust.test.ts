// h1-case-adjust, h1-case-adjust-file and option h1-case-adjust-bogus-client/-server, as haproxy 2.6
// applies them (docs/haproxy-behaviour.md §69).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";
import { startProxy, exchange, rawServer, scratchDir, scratchFile, DEFAULTS } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A server that records each request head and answers it with `response`. */
async function recorder(response: string) {
  const heads: string[] = [];
  const srv = await rawServer((s) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      heads.push(buf.slice(0, end + 4));
      buf = "";
      s.write(response);
    });
  });
  cleanup.push(srv.close);
  return { port: srv.port, heads };
}

const RESPONSE = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-other: 1\r\nContent-Length: 2\r\n\r\nok";

const config = (global: string, fe: string, be: string, port: number) => `
global
${global}
${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option forwardfor
  http-request deny if { path /deny }
${fe}
  default_backend bk
backend bk
${be}
  server s 127.0.0.1:${port}
`;

const ASK = "GET / HTTP/1.1\r\nhost: a\r\nContent-Type: x\r\nConnection: close\r\n\r\n";

test("the bogus-client and bogus-server options give the listed names their case, each on its side, the proxy's own lines too", async () => {
  const srv = await recorder(RESPONSE);
  const dir = scratchDir("case");
  const file = scratchFile(dir, "cases", "# listed names\n\n  cache-control   CACHE-Control \n");
  const global = `  h1-case-adjust content-type Content-TYPE
  h1-case-adjust host HOST
  h1-case-adjust x-forwarded-for X-FORWARDED-for
  h1-case-adjust-file ${file}`;
  const both = await startProxy(
    config(global, "  option h1-case-adjust-bogus-client", "  option h1-case-adjust-bogus-server", srv.port),
  );
  cleanup.push(both.stop);
  const answer = await exchange(both.port, ASK, 1500);
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\nContent-TYPE: text\/plain\r\nx-other: 1\r\n/);
  assert.match(
    srv.heads.at(-1)!,
    /^GET \/ HTTP\/1\.1\r\nHOST: a\r\nContent-TYPE: x\r\nX-FORWARDED-for: 127\.0\.0\.1\r\n/,
  );
  // The proxy's own answer: its Cache-Control from the file, its Content-Type from the lines.
  const denied = await exchange(both.port, "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n", 1500);
  assert.match(
    denied,
    /^HTTP\/1\.1 403 Forbidden\r\n[^]*\r\nCACHE-Control: no-cache\r\nContent-TYPE: text\/html\r\n/,
  );

  // Without the options, the names go as they came, the proxy's own as it writes them.
  const neither = await startProxy(config(global, "", "", srv.port));
  cleanup.push(neither.stop);
  assert.match(await exchange(neither.port, ASK, 1500), /\r\ncontent-type: text\/plain\r\n/);
  assert.match(srv.heads.at(-1)!, /\r\nhost: a\r\nContent-Type: x\r\nX-Forwarded-For: 127\.0\.0\.1\r\n/);
});

test("h1-case-adjust and h1-case-adjust-file are refused with haproxy's messages", () => {
  const dir = scratchDir("case-bad");
  const bad = scratchFile(dir, "bad", "# one\ncontent-type Content-Typo\n");
  const extra = scratchFile(dir, "extra", "x-a X-A extra\n");
  const lone = scratchFile(dir, "lone", "\n x-a \n");
  const cases: [string, string][] = [
    ["h1-case-adjust content-length", "'h1-case-adjust' expects <from> and <to> as argument."],
    ["h1-case-adjust content-length Content-Lengthx", "<from> and <to> must not differ execpt the case"],
    ["h1-case-adjust a A x", "'h1-case-adjust' cannot handle unexpected argument 'x'."],
    ["h1-case-adjust a A\n  h1-case-adjust a a", "duplicate entry 'a'"],
    ["h1-case-adjust-file", "'h1-case-adjust-file' expects <file> as argument."],
    [`h1-case-adjust-file ${dir}/none`, `h1-headers-case-adjust-file '${dir}/none': failed to open file.`],
    [
      `h1-case-adjust-file ${bad}`,
      `h1-headers-case-adjust-file '${bad}' : <from> and <to> must not differ execpt the case at line 2.`,
    ],
    [
      `h1-case-adjust-file ${extra}`,
      `h1-headers-case-adjust-file '${extra}' : <from> and <to> must not differ execpt the case at line 1.`,
    ],
    [`h1-case-adjust-file ${lone}`, `h1-headers-case-adjust-file '${lone}' : expect <to> at line 2.`],
  ];
  for (const [line, message] of cases) {
    const { diagnostics } = parseConfig([{ name: "t.cfg", text: `global\n  ${line}\n${DEFAULTS}` }], {});
    assert.deepEqual(
      diagnostics.filter((d) => d.level === "alert").map((d) => d.message),
      [message],
      line,
    );
  }
});
