// option tcp-check against raw servers that answer right, wrong, late, or close; messages are
// haproxy 2.6.12's, as it printed them against the same servers. Intervals are 500 ms, the time a
// check has (a loaded machine can take 100 ms to answer).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { parseConfig } from "../../src/config/parse.js";
import { RtBackend } from "../../src/proxy/backend.js";
import { HealthChecks } from "../../src/check/index.js";
import { waitFor, DEFAULTS, rawServer, closedPort } from "../helpers/harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A server that runs `onConn` on each connection; closed after the tests. */
async function server(onConn: (s: net.Socket) => void): Promise<number> {
  const s = await rawServer(onConn);
  cleanup.push(s.close);
  return s.port;
}

/** Answers each chunk it receives with `reply`. */
const replying = (reply: string) => server((s) => s.on("data", () => s.write(reply)));

/** Backend `bk` with these rules, its server s1 at `port` checked; the state-change lines. */
function checked(rules: string, port: number, extra = ""): { be: RtBackend; logs: string[] } {
  const text = `${DEFAULTS}\nbackend bk\n  mode tcp\n  option tcp-check\n${rules}\n  server s1 127.0.0.1:${port} check inter 500ms rise 1 fall 1 ${extra}\n`;
  const { config } = parseConfig([{ name: "t.cfg", text }], {});
  const px = config.backends.get("bk")!;
  const be = new RtBackend(
    px,
    px.servers.map((s) => ({ address: s.host, source: undefined })),
  );
  const logs: string[] = [];
  const checks = new HealthChecks([be], (_be, _level, m) => logs.push(m));
  cleanup.push(() => checks.stop());
  checks.start();
  return { be, logs };
}

const down = async (c: { be: RtBackend; logs: string[] }): Promise<string> => {
  await waitFor(() => c.logs.length > 0, 2000, "DOWN");
  assert.equal(c.be.servers[0]!.up, false);
  return c.logs[0]!;
};

/** The check duration a state-change line reports, in ms. */
const durationOf = (line: string): number => Number(/check duration: (\d+)ms/.exec(line)![1]);

const PING = "  tcp-check send PING\\r\\n\n  tcp-check expect string +PONG";

test("send and expect string: a right answer keeps the server UP, a wrong one then a close is step 2's mismatch", async () => {
  let pinged = 0;
  const good = checked(
    PING,
    await server((s) =>
      s.on("data", (d: Buffer) => {
        if (d.toString() === "PING\r\n") pinged++;
        s.write("+PONG\r\n");
      }),
    ),
  );
  const bad = checked(PING, await server((s) => s.on("data", () => s.end("-ERR\r\n"))));
  assert.match(
    await down(bad),
    /^Server bk\/s1 is DOWN, reason: Layer7 invalid response, info: "TCPCHK did not match content '\+PONG' at step 2", check duration: \d+ms\./,
  );
  // Two checks of the good server answered, and it stayed UP without a word.
  await waitFor(() => pinged >= 2, 2000, "two checks");
  assert.equal(good.be.servers[0]!.up, true);
  assert.deepEqual(good.logs, []);
});

test("a wrong answer without a close waits for more: a timeout naming the step; an empty close", async () => {
  const waiting = checked(PING, await replying("-ERR\r\n"));
  const line = await down(waiting);
  assert.match(
    line,
    /reason: Layer7 timeout, info: " at step 2 of tcp-check \(expect string '\+PONG'\)", check duration: \d+ms/,
  );
  // Without timeout check, inter (100 ms) bounds the check, however late the timer fires on a loaded machine.
  assert.ok(durationOf(line) >= 95, line);
  const closing = checked(PING, await server((s) => s.end()));
  assert.match(
    await down(closing),
    /Layer7 invalid response, info: "TCPCHK got an empty response at step 2"/,
  );
});

test("timeout check bounds the expect, and tout-status / error-status change the status", async () => {
  const c = checked(
    "  tcp-check expect string A tout-status L4TOUT\n  timeout check 50ms",
    await server(() => undefined),
  );
  const line = await down(c);
  assert.match(
    line,
    /reason: Layer4 timeout, info: " at step 1 of tcp-check \(expect string 'A'\)", check duration: \d+ms/,
  );
  assert.ok(durationOf(line) >= 45 && durationOf(line) < 1000, line);
  const e = checked(
    "  tcp-check expect string A error-status L7STS on-error nope",
    await server((s) => s.end("B")),
  );
  assert.match(await down(e), /reason: Layer7 wrong status, code: 0, info: "nope"/);
});

test("negation, a comment for the rules that follow it, a regex and binary", async () => {
  const rules =
    "  tcp-check comment banner\n  tcp-check expect min-recv 3 ! string ERR\n  tcp-check expect rstring ^OK[0-9]\n" +
    "  tcp-check send-binary 5859\n  tcp-check expect binary 4142 comment bin\n  tcp-check expect rbinary ^41(42|43)";
  const banner = (b: string) => server((s) => (s.write(b), s.on("data", () => s.write("AB"))));
  const ok = checked(rules, await banner("OK1"));
  const unwanted = checked(rules, await banner("ERR"));
  const noRegex = checked(rules, await server((s) => s.end("OKx")));
  assert.match(
    await down(unwanted),
    /info: "TCPCHK matched unwanted content 'ERR' at step 2 comment: banner"/,
  );
  assert.match(
    await down(noRegex),
    /info: "TCPCHK did not match content \(regex\) at step 3 comment: banner"/,
  );
  assert.equal(ok.be.servers[0]!.up, true);
});

test("a wait resumes at the run's first negated expect, whose step the timeout names", async () => {
  const c = checked(
    "  tcp-check expect min-recv 2 ! string ERR\n  tcp-check expect rstring ^OK[0-9]",
    await server((s) => s.write("OKx")),
  );
  assert.match(await down(c), /info: " at step 1 of tcp-check \(expect string 'ERR'\)"/);
});

test("implied connect and connect port: refused at the initial step, or at step N with its port and comment", async () => {
  const port = await closedPort();
  const implied = checked(PING, port);
  assert.match(
    await down(implied),
    /Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check"/,
  );
  const first = await server((s) => s.write("A"));
  const c = checked(
    `  tcp-check connect\n  tcp-check expect string A\n  tcp-check connect port ${port} comment second`,
    first,
  );
  assert.match(
    await down(c),
    new RegExp(
      `info: "Connection refused at step 3 of tcp-check \\(connect port ${port}\\) comment: 'second'"`,
    ),
  );
  const other = await server((s) => s.write("B"));
  const both = checked(
    `  tcp-check connect\n  tcp-check expect string A\n  tcp-check connect port ${other}\n  tcp-check expect string B`,
    first,
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(both.be.servers[0]!.up, true);
});

test("rise and fall: DOWN after fall failures, UP after rise successes, with the last rule's result", async () => {
  let answer = "+PONG\r\n";
  const port = await server((s) => s.on("data", () => s.end(answer)));
  const { config } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `${DEFAULTS}\nbackend bk\n  option tcp-check\n${PING}\n  server s1 127.0.0.1:${port} check inter 50ms rise 2 fall 2\n`,
      },
    ],
    {},
  );
  const px = config.backends.get("bk")!;
  const be = new RtBackend(px, [{ address: "127.0.0.1", source: undefined }]);
  const logs: string[] = [];
  const checks = new HealthChecks([be], (_b, _l, m) => logs.push(m));
  cleanup.push(() => checks.stop());
  checks.start();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(be.servers[0]!.up, true);
  answer = "-ERR\r\n";
  await waitFor(() => !be.servers[0]!.up, 2000, "DOWN");
  answer = "+PONG\r\n";
  await waitFor(() => be.servers[0]!.up, 2000, "UP");
  assert.match(
    logs.at(-1)!,
    /^Server bk\/s1 is UP, reason: Layer7 check passed, code: 0, info: "\(tcp-check\)"/,
  );
});

const diagnostics = (body: string) =>
  parseConfig([{ name: "t.cfg", text: `${DEFAULTS}${body}` }], {}).diagnostics.map(
    (d) => `${d.level}: ${d.message}`,
  );

test("-c: haproxy's words for bad rules, rules without the option, and rules in a frontend", () => {
  const d = diagnostics(
    "backend b\n  option tcp-check\n  tcp-check send\n  tcp-check send-binary abc\n  tcp-check expect foo bar\n" +
      "  tcp-check expect ok-status L7XX string a\n  tcp-check connect port 0\n  tcp-check bogus\n  tcp-check connect ssl\n" +
      "  server s 127.0.0.1:1 check\n",
  );
  assert.deepEqual(d, [
    "alert: 'tcp-check send' : 'string' expects a send as argument.",
    "alert: 'tcp-check send-binary' : 'abc' invalid binary string (an even number of hex digit is expected).\n.",
    "alert: 'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'foo' as argument..",
    "alert: 'tcp-check expect' : 'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'L7XX')..",
    "alert: 'tcp-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 0..",
    "alert: 'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'bogus'",
    "alert: 'tcp-check connect' : 'ssl' is not supported by sluice yet (no TLS or SOCKS4).",
  ]);
  assert.deepEqual(
    diagnostics("backend b\n  tcp-check send a\n  tcp-check connect\n  server s 127.0.0.1:1 check\n"),
    [
      "alert: 'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.",
      "warning: backend 'b' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
    ],
  );
  assert.deepEqual(
    diagnostics(
      "backend b\n  option tcp-check\n  tcp-check send a\n  option httpchk\n  server s 127.0.0.1:1 check\n",
    ),
    [],
  );
  assert.deepEqual(diagnostics("frontend f\n  bind :1\n  tcp-check send a\n  option tcp-check\n"), [
    "warning: 'tcp-check' ignored because frontend 'f' has no backend capability.",
    "warning: (null)",
    "warning: 'tcp-check' ignored because frontend 'f' has no backend capability.",
  ]);
});

test("rules come from the defaults section until a section gives its own", () => {
  const { config } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `${DEFAULTS}  option tcp-check\n  tcp-check send a\n  tcp-check send b\nbackend b1\n  server s 127.0.0.1:1 check\nbackend b2\n  tcp-check send c\n  server s 127.0.0.1:1 check\n`,
      },
    ],
    {},
  );
  const sent = (name: string) =>
    config.backends.get(name)!.tcpCheckRules.map((r) => (r.action === "send" ? r.data : r.action));
  assert.deepEqual(sent("b1"), ["a", "b"]);
  assert.deepEqual(sent("b2"), ["c"]);
});
