// haproxy's canned checks (redis-check, smtpchk, ssl-hello-chk) against raw servers that answer
// right, wrong, late, or close; the lines are haproxy 2.6.12's against the same servers.
// Intervals are 100 ms; `option log-health-checks` tells each check's result.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { parseConfig } from "../../src/config/parse.js";
import { RtBackend } from "../../src/proxy/backend.js";
import { HealthChecks } from "../../src/check/index.js";
import { clientHello } from "../../src/check/ssl-hello-chk.js";
import { waitFor, DEFAULTS, rawServer, closedPort } from "../helpers/harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A server that runs `onConn` on each connection and keeps what it received; closed after the tests. */
async function server(onConn: (s: net.Socket) => void): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const s = await rawServer((sock) => {
    sock.on("data", (d) => got.push(d.toString("latin1")));
    onConn(sock);
  });
  cleanup.push(s.close);
  return { port: s.port, got };
}

/** Backend `bk` with this check option, its server s1 at `port`; the first check's line. */
async function firstCheck(option: string, port: number): Promise<string> {
  const text = `${DEFAULTS}\nbackend bk\n  mode tcp\n  option log-health-checks\n  ${option}\n  server s1 127.0.0.1:${port} check inter 100ms rise 1 fall 1\n`;
  const { config } = parseConfig([{ name: "t.cfg", text }], {});
  const px = config.backends.get("bk")!;
  const be = new RtBackend(px, [{ address: "127.0.0.1", source: undefined }]);
  const logs: string[] = [];
  const checks = new HealthChecks([be], (_be, _level, m) => logs.push(m));
  cleanup.push(() => checks.stop());
  checks.start();
  await waitFor(() => logs.length > 0, 2000, "a check");
  return logs[0]!.replace(/check duration: \d+ms/, "check duration: Nms");
}

const line = (result: string, ok = false): string =>
  `Health check for server bk/s1 ${ok ? "succeeded" : "failed"}, reason: ${result}, check duration: Nms, status: ${ok ? "1/1 UP" : "0/1 DOWN"}.`;

/** Answers each chunk with `reply`, closing after it when `close`. */
const answering = (reply: string | Buffer, close = false) =>
  server((s) => s.on("data", () => (close ? s.end(reply) : s.write(reply))));

test("redis-check: PING in RESP form, +PONG passes; -ERR with a close is its first line, without one a bare timeout", async () => {
  const pong = await answering("+PONG\r\n");
  assert.equal(
    await firstCheck("option redis-check", pong.port),
    line(`Layer7 check passed, code: 0, info: "Redis server is ok"`, true),
  );
  assert.equal(pong.got[0], "*1\r\n$4\r\nPING\r\n");
  const err = await answering("-ERR unknown command\r\n", true);
  assert.equal(
    await firstCheck("option redis-check", err.port),
    line(`Layer7 wrong status, code: 0, info: "-ERR unknown command"`),
  );
  const waiting = await answering("-ERR unknown command\r\n");
  assert.equal(await firstCheck("option redis-check", waiting.port), line("Layer7 timeout"));
});

test("redis-check: a close before any answer names its step; connection errors name none", async () => {
  const closing = await server((s) => s.end());
  assert.equal(
    await firstCheck("option redis-check", closing.port),
    line(`Layer7 wrong status, code: 0, info: "TCPCHK got an empty response at step 2"`),
  );
  assert.equal(
    await firstCheck("option redis-check", await closedPort()),
    line(`Layer4 connection problem, info: "Connection refused"`),
  );
});

/** An SMTP server: `banner`, then `hello` and `quit` answer the HELO/EHLO and the QUIT. */
const smtp = (banner: string, hello?: (s: net.Socket) => void, quit?: (s: net.Socket) => void) =>
  server((s) => {
    s.write(banner);
    s.on("data", (d) => (d.toString().startsWith("QUIT") ? quit : hello)?.(s));
  });

test("smtpchk: banner, EHLO and QUIT; the QUIT's reply is the code and info", async () => {
  const good = await smtp(
    "220 mx ready\r\n",
    (s) => s.write("250-mx\r\n250 8BITMIME\r\n"),
    (s) => s.end("221 bye\r\n"),
  );
  assert.equal(
    await firstCheck("option smtpchk EHLO my.dom", good.port),
    line(`Layer7 check passed, code: 221, info: "bye"`, true),
  );
  assert.deepEqual(good.got.slice(0, 2), ["EHLO my.dom\r\n", "QUIT\r\n"]);
  const plain = await smtp(
    "220 ok\r\n",
    (s) => s.write("250 hi\r\n"),
    (s) => s.end("221\r\n"),
  );
  assert.equal(
    await firstCheck("option smtpchk ehlo x", plain.port),
    line("Layer7 check passed, code: 221", true),
  );
  assert.equal(plain.got[0], "HELO localhost\r\n");
});

test("smtpchk: a 5xx banner, a banner that is no reply, a refused HELO with and without a close", async () => {
  const refused = await smtp("554 go away now\r\n");
  assert.equal(
    await firstCheck("option smtpchk", refused.port),
    line(`Layer7 wrong status, code: 554, info: "go away now"`),
  );
  const garbage = await smtp("hello\r\n");
  assert.equal(
    await firstCheck("option smtpchk", garbage.port),
    line(`Layer7 invalid response, info: "hello"`),
  );
  const closing = await smtp("220 ok\r\n", (s) => s.end("550   nope\r\n"));
  assert.equal(
    await firstCheck("option smtpchk", closing.port),
    line(`Layer7 wrong status, code: 550, info: "nope"`),
  );
  const waiting = await smtp("220 ok\r\n", (s) => s.write("550 nope\r\n"));
  assert.equal(await firstCheck("option smtpchk", waiting.port), line("Layer7 timeout"));
  const gone = await smtp("220 ok\r\n", (s) => s.end());
  assert.equal(
    await firstCheck("option smtpchk", gone.port),
    line(`Layer7 wrong status, code: 0, info: "TCPCHK got an empty response at step 5"`),
  );
  const quit = await smtp(
    "220 ok\r\n",
    (s) => s.write("250 hi\r\n"),
    (s) => s.write("500 bad\r\n"),
  );
  assert.equal(
    await firstCheck("option smtpchk", quit.port),
    line(`Layer7 wrong status, code: 500, info: "bad"`),
  );
});

test("ssl-hello-chk: a handshake or alert record passes at Layer6; other bytes, silence fail there", async () => {
  const handshake = await answering(Buffer.from("160303002a0200002603030000", "hex"));
  assert.equal(await firstCheck("option ssl-hello-chk", handshake.port), line("Layer6 check passed", true));
  const hello = Buffer.from(handshake.got[0]!, "latin1");
  assert.deepEqual([...hello.subarray(0, 3)], [22, 3, 0]);
  const alert = await answering(Buffer.from("15030100020228", "hex"), true);
  assert.equal(await firstCheck("option ssl-hello-chk", alert.port), line("Layer6 check passed", true));
  const http = await answering("HTTP/1.0 400 Bad\r\n\r\n");
  assert.equal(await firstCheck("option ssl-hello-chk", http.port), line("Layer6 invalid response"));
  const silent = await server(() => undefined);
  assert.equal(await firstCheck("option ssl-hello-chk", silent.port), line("Layer6 timeout"));
  const closing = await server((s) => s.end());
  assert.equal(
    await firstCheck("option ssl-hello-chk", closing.port),
    line(`Layer6 invalid response, info: "TCPCHK got an empty response at step 2"`),
  );
});

test("ssl-hello-chk: the ClientHello's lengths and fields are those of the spec", () => {
  const h = clientHello(0x5f5e1000 * 1000);
  assert.equal(h[0], 22);
  assert.equal(h.readUInt16BE(1), 0x0300);
  assert.equal(h.readUInt16BE(3), h.length - 5);
  assert.equal(h[5], 1);
  assert.equal(h.readUIntBE(6, 3), h.length - 9);
  assert.equal(h.readUInt16BE(9), 0x0300);
  assert.equal(h.readUInt32BE(11), 0x5f5e1000);
  assert.equal(h[43], 0);
  const suites = h.readUInt16BE(44);
  assert.ok(suites > 0 && suites % 2 === 0);
  assert.deepEqual([...h.subarray(46 + suites)], [1, 0]);
  assert.notDeepEqual(h.subarray(15, 43), clientHello().subarray(15, 43));
});

/** A PostgreSQL message: its type, then its length (itself included) and its body. */
const pgMessage = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, "latin1");
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
/** An AuthenticationRequest of this method, with the method's data. */
const pgAuth = (method: number, data = Buffer.alloc(0)): Buffer =>
  pgMessage("R", Buffer.concat([Buffer.from([0, 0, 0, method]), data]));
const pgError = pgMessage("E", Buffer.from('SFATAL\0VFATAL\0C28000\0Mrole "u" does not exist\0\0', "latin1"));

test("pgsql-check: a StartupMessage for the user; a first authentication request of any method passes", async () => {
  const ok = await answering(pgAuth(0));
  assert.equal(
    await firstCheck("option pgsql-check user alice", ok.port),
    line(`Layer7 check passed, code: 0, info: "PostgreSQL server is ok"`, true),
  );
  const startup = Buffer.from(ok.got[0]!, "latin1");
  assert.equal(startup.readUInt32BE(0), startup.length);
  assert.equal(startup.readUInt32BE(4), 0x30000);
  assert.equal(startup.subarray(8).toString("latin1"), "user\0alice\0\0");
  for (const request of [
    pgAuth(5, Buffer.from("salt")),
    pgAuth(6),
    pgAuth(10, Buffer.from("SCRAM-SHA-256\0\0")),
  ]) {
    const server = await answering(request);
    assert.equal(
      await firstCheck("option pgsql-check user u", server.port),
      line(`Layer7 check passed, code: 0, info: "PostgreSQL server is ok"`, true),
    );
  }
});

test("pgsql-check: an ErrorResponse is its severity, another message an unknown error, a part of one a timeout", async () => {
  const refused = await answering(pgError, true);
  assert.equal(
    await firstCheck("option pgsql-check user u", refused.port),
    line(`Layer7 invalid response, info: "FATAL"`),
  );
  const shortError = await answering(Buffer.from("E\0"), true);
  assert.equal(
    await firstCheck("option pgsql-check user u", shortError.port),
    line("Layer7 invalid response"),
  );
  for (const reply of [pgAuth(11), pgAuth(1), "hello, this is no PostgreSQL\r\n"]) {
    const wrong = await answering(reply);
    assert.equal(
      await firstCheck("option pgsql-check user u", wrong.port),
      line(`Layer7 wrong status, code: 0, info: "PostgreSQL unknown error"`),
    );
  }
  const partial = await answering(pgAuth(0).subarray(0, 6));
  assert.equal(await firstCheck("option pgsql-check user u", partial.port), line("Layer7 timeout"));
});

test("pgsql-check: a close, a reset, silence", async () => {
  const closing = await server((s) => s.end());
  assert.equal(
    await firstCheck("option pgsql-check user u", closing.port),
    line(`Layer7 invalid response, info: "TCPCHK got an empty response at step 3"`),
  );
  const reset = await server((s) => s.on("data", () => s.resetAndDestroy()));
  assert.equal(
    await firstCheck("option pgsql-check user u", reset.port),
    line(`Socket error, info: "Connection reset by peer"`),
  );
  const silent = await server(() => undefined);
  assert.equal(await firstCheck("option pgsql-check user u", silent.port), line("Layer7 timeout"));
});

const diagnostics = (body: string) =>
  parseConfig([{ name: "t.cfg", text: `${DEFAULTS}${body}` }], {}).diagnostics.map(
    (d) => `${d.level}: ${d.message}`,
  );

test("-c: haproxy's words for extra arguments, a frontend, a negation, and the options Sluice refuses", () => {
  assert.deepEqual(
    diagnostics(
      "backend b\n  option redis-check x\n  option smtpchk EHLO a b\n  option ssl-hello-chk x\n  no option smtpchk\n" +
        "  option spop-check\n  server s 127.0.0.1:1 check\nfrontend f\n  bind :1\n  option redis-check x\n",
    ),
    [
      "alert: 'option redis-check' cannot handle unexpected argument 'x'.",
      "alert: 'option smtpchk' cannot handle unexpected argument 'b'.",
      "alert: 'option ssl-hello-chk' cannot handle unexpected argument 'x'.",
      "alert: negation/default is not supported for option 'smtpchk'.",
      "alert: 'option spop-check' is not supported by sluice yet (supported check options: httpchk, tcp-check, redis-check, smtpchk, ssl-hello-chk, pgsql-check).",
      "warning: 'redis-check' ignored because frontend 'f' has no backend capability.",
      "alert: 'option redis-check' cannot handle unexpected argument 'x'.",
    ],
  );
});

test("-c: pgsql-check's user, in haproxy's words; a frontend still has its arguments judged", () => {
  assert.deepEqual(
    diagnostics(
      'backend b\n  option pgsql-check\n  option pgsql-check user\n  option pgsql-check user ""\n' +
        "  option pgsql-check foo bar\n  option pgsql-check foo b c\n  option pgsql-check user u x\n" +
        "  no option pgsql-check\n  server s 127.0.0.1:1 check\nfrontend f\n  bind :1\n  option pgsql-check\n",
    ),
    [
      ...Array<string>(3).fill("alert: 'option pgsql-check' expects 'user <username>' as argument."),
      "alert: 'option pgsql-check' only supports optional values: 'user'.",
      "alert: 'option pgsql-check' cannot handle unexpected argument 'c'.",
      "alert: 'option pgsql-check' cannot handle unexpected argument 'x'.",
      "alert: negation/default is not supported for option 'pgsql-check'.",
      "warning: 'pgsql-check' ignored because frontend 'f' has no backend capability.",
      "alert: 'option pgsql-check' expects 'user <username>' as argument.",
    ],
  );
  const { config } = parseConfig(
    [
      {
        name: "t.cfg",
        text: `${DEFAULTS}backend b\n  option pgsql-check user bob\n  server s 127.0.0.1:1 check\n`,
      },
    ],
    {},
  );
  assert.deepEqual(config.backends.get("b")!.cannedCheck, { option: "pgsql-check", user: "bob" });
});

test("the last check option wins; rules given after a canned check are ignored with haproxy's warning", () => {
  const { config, diagnostics: d } = parseConfig(
    [
      {
        name: "t.cfg",
        text:
          `${DEFAULTS}  option redis-check\n` +
          "backend inherits\n  server s 127.0.0.1:1 check\n" +
          "backend http\n  option httpchk\n  server s 127.0.0.1:1 check\n" +
          "backend rules\n  tcp-check send x\n  server s 127.0.0.1:1 check\n" +
          "backend smtp\n  option tcp-check\n  tcp-check send x\n  option smtpchk EHLO d\n  server s 127.0.0.1:1 check\n" +
          "backend tcp\n  option tcp-check\n  server s 127.0.0.1:1 check\n",
      },
    ],
    {},
  );
  const px = (n: string) => config.backends.get(n)!;
  assert.deepEqual(px("inherits").cannedCheck, { option: "redis-check" });
  assert.equal(px("http").cannedCheck, undefined);
  assert.ok(px("http").httpchkOption);
  assert.deepEqual(px("rules").cannedCheck, { option: "redis-check" });
  assert.deepEqual(px("rules").tcpCheckRules, []);
  assert.deepEqual(px("smtp").cannedCheck, { option: "smtpchk", hello: "EHLO d" });
  assert.equal(px("smtp").tcpCheckOption, false);
  assert.equal(px("tcp").cannedCheck, undefined);
  assert.deepEqual(
    d.map((x) => x.message),
    ["backend 'rules' uses tcp-check rules without 'option tcp-check', so the rules are ignored."],
  );
});
