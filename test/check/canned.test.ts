// haproxy's canned checks (redis-check, smtpchk, ssl-hello-chk) against raw servers that answer
// right, wrong, late, or close; the lines are haproxy 2.6.12's against the same servers.
// Intervals are 500 ms, the time a check has (a loaded machine can take 100 ms to answer); `option
// log-health-checks` tells each check's result.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { parseConfig } from "../../src/config/parse.js";
import type { CannedCheck, Proxy } from "../../src/config/model.js";
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
  const text = `${DEFAULTS}\nbackend bk\n  mode tcp\n  option log-health-checks\n  ${option}\n  server s1 127.0.0.1:${port} check inter 500ms rise 1 fall 1\n`;
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

/** A close before any answer (named by the step that expected it), a reset on the request, silence. */
async function closeResetSilence(option: string, step: number): Promise<void> {
  const closing = await server((s) => s.end());
  assert.equal(
    await firstCheck(option, closing.port),
    line(`Layer7 invalid response, info: "TCPCHK got an empty response at step ${step}"`),
  );
  const reset = await server((s) => s.on("data", () => s.resetAndDestroy()));
  assert.equal(await firstCheck(option, reset.port), line(`Socket error, info: "Connection reset by peer"`));
  const silent = await server(() => undefined);
  assert.equal(await firstCheck(option, silent.port), line("Layer7 timeout"));
}

test("pgsql-check: a close, a reset, silence", () => closeResetSilence("option pgsql-check user u", 3));

/** A MySQL packet: its payload's length (three bytes, little-endian), its sequence id, the payload. */
const myPacket = (sequence: number, payload: Buffer): Buffer => {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = sequence;
  return Buffer.concat([head, payload]);
};
/** A protocol 10 greeting from server version 8.0.33-test, its scramble and plugin name. */
const greeting = myPacket(
  0,
  Buffer.concat([
    Buffer.from("\x0a8.0.33-test\0\x07\0\0\0abcdefgh\0\xff\xf7\x21\x02\0\xff\xdf\x15", "latin1"),
    Buffer.alloc(10),
    Buffer.from("ijklmnopqrst\0mysql_native_password\0", "latin1"),
  ]),
);
const myOk = myPacket(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]));
const myError = (sequence: number, code: number, message: string): Buffer => {
  const head = Buffer.alloc(3, 0xff);
  head.writeUInt16LE(code, 1);
  return myPacket(sequence, Buffer.concat([head, Buffer.from(message, "latin1")]));
};
const denied = myError(2, 1045, "#28000Access denied for user 'u'@'localhost' (using password: NO)");

/** A MySQL server: the greeting on connecting, then `answer` to the login. */
const mysql = (first: Buffer, answer?: (s: net.Socket) => void) =>
  server((s) => {
    s.write(first);
    s.on("data", () => answer?.(s));
  });

test("mysql-check user: a login without password and a QUIT; the greeting's version passes, an error packet is its code and message", async () => {
  const ok = await mysql(greeting, (s) => s.write(myOk));
  assert.equal(
    await firstCheck("option mysql-check user haproxy", ok.port),
    line(`Layer7 check passed, code: 0, info: "8.0.33-test"`, true),
  );
  const sent = Buffer.from(ok.got.join(""), "latin1");
  const loginLength = sent.readUIntLE(0, 3);
  assert.equal(sent[3], 1);
  assert.equal(sent.readUInt32LE(4), 0x8200);
  assert.equal(sent[12], 33);
  assert.deepEqual(sent.subarray(13, 36), Buffer.alloc(23));
  assert.equal(sent.subarray(36, 4 + loginLength).toString("latin1"), "haproxy\0\0");
  assert.deepEqual([...sent.subarray(4 + loginLength)], [1, 0, 0, 0, 1]);
  const refused = await mysql(greeting, (s) => s.end(denied));
  assert.equal(
    await firstCheck("option mysql-check user u post-41", refused.port),
    line(
      `Layer7 wrong status, code: 1045, info: "#28000Access denied for user 'u'@'localhost' (using password: NO)"`,
    ),
  );
  const blocked = await mysql(myError(0, 1130, "Host '127.0.0.1' is not allowed to connect"));
  assert.equal(
    await firstCheck("option mysql-check user u", blocked.port),
    line(`Layer7 wrong status, code: 1130, info: "Host '127.0.0.1' is not allowed to connect"`),
  );
});

test("mysql-check user u pre-41: the login of the protocol before 4.1", async () => {
  const ok = await mysql(greeting, (s) => s.write(myOk));
  assert.equal(
    await firstCheck("option mysql-check user old pre-41", ok.port),
    line(`Layer7 check passed, code: 0, info: "8.0.33-test"`, true),
  );
  const sent = Buffer.from(ok.got.join(""), "latin1");
  assert.equal(sent.readUIntLE(0, 3), 10);
  assert.equal(sent[3], 1);
  assert.equal(sent.subarray(9, 14).toString("latin1"), "old\0\0");
  assert.deepEqual([...sent.subarray(14)], [1, 0, 0, 0, 1]);
});

test("mysql-check: without a user, the greeting alone, whole even when it comes in parts", async () => {
  const split = await server((s) => {
    s.write(greeting.subarray(0, 3));
    setTimeout(() => s.writable && s.write(greeting.subarray(3)), 30);
  });
  assert.equal(
    await firstCheck("option mysql-check", split.port),
    line(`Layer7 check passed, code: 0, info: "8.0.33-test"`, true),
  );
  assert.deepEqual(split.got, []);
  // The error after the greeting is the login's answer, which no login asked for.
  const bothNow = await server((s) => s.write(Buffer.concat([greeting, denied])));
  assert.equal(
    await firstCheck("option mysql-check", bothNow.port),
    line(`Layer7 check passed, code: 0, info: "8.0.33-test"`, true),
  );
  assert.equal(
    await firstCheck("option mysql-check user u", bothNow.port),
    line(
      `Layer7 wrong status, code: 1045, info: "#28000Access denied for user 'u'@'localhost' (using password: NO)"`,
    ),
  );
});

test("mysql-check: a truncated packet, a close (a step later with a user), a reset, silence", async () => {
  const truncated = await server((s) => s.end(greeting.subarray(0, 20)));
  assert.equal(await firstCheck("option mysql-check", truncated.port), line("Layer7 invalid response"));
  const waiting = await server((s) => s.write(greeting.subarray(0, 20)));
  assert.equal(await firstCheck("option mysql-check", waiting.port), line("Layer7 timeout"));
  const noAnswer = await mysql(greeting, (s) => s.end());
  assert.equal(await firstCheck("option mysql-check user u", noAnswer.port), line("Layer7 invalid response"));
  const closing = await server((s) => s.end());
  assert.equal(
    await firstCheck("option mysql-check", closing.port),
    line(`Layer7 invalid response, info: "TCPCHK got an empty response at step 2"`),
  );
  await closeResetSilence("option mysql-check user u", 3);
});

/** A BindResponse to message 1 with this resultCode; `long` writes both lengths in the long form. */
const bindResponse = (code: number, long = false): Buffer =>
  Buffer.from(
    long
      ? `3084000000100201016184000000070a01${code.toString(16).padStart(2, "0")}04000400`
      : `300c02010161070a01${code.toString(16).padStart(2, "0")}04000400`,
    "hex",
  );

test("ldap-check: an anonymous simple bind; resultCode 0 passes, another is the code", async () => {
  const ok = await answering(bindResponse(0));
  assert.equal(
    await firstCheck("option ldap-check", ok.port),
    line(`Layer7 check passed, code: 0, info: "Success"`, true),
  );
  assert.equal(Buffer.from(ok.got[0]!, "latin1").toString("hex"), "300c020101600702010304008000");
  const long = await answering(bindResponse(0, true));
  assert.equal(
    await firstCheck("option ldap-check", long.port),
    line(`Layer7 check passed, code: 0, info: "Success"`, true),
  );
  const denied = await answering(bindResponse(49, true));
  assert.equal(
    await firstCheck("option ldap-check", denied.port),
    line(`Layer7 wrong status, code: 49, info: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"`),
  );
});

test("ldap-check: what is not a BindResponse to message 1, a truncated one", async () => {
  for (const reply of [
    "hello, this is no LDAP\r\n",
    // Message 2; an OCTET STRING where the resultCode goes.
    Buffer.from("300c02010261070a010004000400", "hex"),
    Buffer.from("300c020101610704010004000400", "hex"),
    // A message length on one byte of the long form.
    Buffer.from("30810c02010161070a010004000400", "hex"),
  ]) {
    const wrong = await answering(reply);
    assert.equal(
      await firstCheck("option ldap-check", wrong.port),
      line(`Layer7 invalid response, info: "Not LDAPv3 protocol"`),
    );
  }
  const truncated = await answering(bindResponse(0).subarray(0, 11), true);
  assert.equal(await firstCheck("option ldap-check", truncated.port), line("Layer7 invalid response"));
  const waiting = await answering(bindResponse(0).subarray(0, 13));
  assert.equal(await firstCheck("option ldap-check", waiting.port), line("Layer7 timeout"));
});

test("ldap-check: a close, a reset, silence", () => closeResetSilence("option ldap-check", 2));

/** A section's canned check option, if that is the check option in force. */
const canned = (px: Proxy): CannedCheck | undefined =>
  typeof px.checkOption === "object" ? px.checkOption : undefined;

/** The canned check of backend `name` in DEFAULTS and `body`. */
const cannedOf = (body: string, name: string) =>
  canned(parseConfig([{ name: "t.cfg", text: `${DEFAULTS}${body}` }], {}).config.backends.get(name)!);

const diagnostics = (body: string) =>
  parseConfig([{ name: "t.cfg", text: `${DEFAULTS}${body}` }], {}).diagnostics.map(
    (d) => `${d.level}: ${d.message}`,
  );

test("-c: haproxy's words for extra arguments, a frontend, a negation, and the options Sluice refuses", () => {
  assert.deepEqual(
    diagnostics(
      "backend b\n  option redis-check x\n  option smtpchk EHLO a b\n  option ssl-hello-chk x\n  no option smtpchk\n" +
        "  option ldap-check x\n  no option ldap-check\n  option spop-check\n  server s 127.0.0.1:1 check\nfrontend f\n  bind :1\n  option redis-check x\n",
    ),
    [
      "alert: 'option redis-check' cannot handle unexpected argument 'x'.",
      "alert: 'option smtpchk' cannot handle unexpected argument 'b'.",
      "alert: 'option ssl-hello-chk' cannot handle unexpected argument 'x'.",
      "alert: negation/default is not supported for option 'smtpchk'.",
      "alert: 'option ldap-check' cannot handle unexpected argument 'x'.",
      "alert: negation/default is not supported for option 'ldap-check'.",
      "alert: 'option spop-check' is not supported by sluice yet (supported check options: httpchk, tcp-check, redis-check, smtpchk, ssl-hello-chk, pgsql-check, mysql-check, ldap-check).",
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
  assert.deepEqual(cannedOf("backend b\n  option pgsql-check user bob\n", "b"), {
    option: "pgsql-check",
    user: "bob",
  });
});

test("-c: mysql-check's user and protocol, in haproxy's words", () => {
  assert.deepEqual(
    diagnostics(
      'backend b\n  option mysql-check user\n  option mysql-check user ""\n  option mysql-check foo\n' +
        "  option mysql-check user u post-42\n  option mysql-check foo b c d\n  option mysql-check user u pre-41 x\n" +
        "  server s 127.0.0.1:1 check\nfrontend f\n  bind :1\n  option mysql-check foo\n",
    ),
    [
      ...Array<string>(2).fill("alert: 'option mysql-check user' expects <username> as argument."),
      "alert: 'option mysql-check' only supports optional values: 'user' (got 'foo').",
      "alert: keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42').",
      "alert: 'option mysql-check' cannot handle unexpected argument 'd'.",
      "alert: 'option mysql-check' cannot handle unexpected argument 'x'.",
      "warning: 'mysql-check' ignored because frontend 'f' has no backend capability.",
      "alert: 'option mysql-check' only supports optional values: 'user' (got 'foo').",
    ],
  );
  const body = "backend a\n  option mysql-check\nbackend b\n  option mysql-check user u post-41\n";
  assert.deepEqual(cannedOf(body, "a"), { option: "mysql-check" });
  assert.deepEqual(cannedOf(body, "b"), { option: "mysql-check", login: { user: "u", pre41: false } });
  assert.deepEqual(cannedOf("backend c\n  option mysql-check user v pre-41\n", "c"), {
    option: "mysql-check",
    login: { user: "v", pre41: true },
  });
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
  assert.deepEqual(canned(px("inherits")), { option: "redis-check" });
  assert.equal(canned(px("http")), undefined);
  assert.equal(px("http").checkOption, "httpchk");
  assert.deepEqual(canned(px("rules")), { option: "redis-check" });
  assert.deepEqual(px("rules").tcpCheckRules, []);
  assert.deepEqual(canned(px("smtp")), { option: "smtpchk", hello: "EHLO d" });
  assert.notEqual(px("smtp").checkOption, "tcp-check");
  assert.equal(canned(px("tcp")), undefined);
  assert.deepEqual(
    d.map((x) => x.message),
    ["backend 'rules' uses tcp-check rules without 'option tcp-check', so the rules are ignored."],
  );
});
