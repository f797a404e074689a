// unique-id-format, unique-id-header, %ID, %rt, the +X flag and %[...] in log lines, compared with
// what haproxy 2.6.12 sent and logged for the same configuration.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { compileLogLine, hexAddress, type LogLine } from "../../src/log/log-format.js";
import { newLogRecord } from "../../src/log/index.js";
import { parseConfig } from "../../src/config/parse.js";
import {
  startProxy,
  httpBackend,
  exchange,
  syslogReceiver,
  loggedDefaults,
  DEFAULTS,
} from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const env = { pid: 13714, hostname: "vm" };

test("+X writes addresses, ports and numbers in hexadecimal, %{...}o sets flags for what follows", () => {
  const r = newLogRecord();
  Object.assign(r, {
    clientIp: "127.0.0.1",
    clientPort: 54650,
    frontendIp: "127.0.0.1",
    frontendPort: 19082,
    acceptTime: Date.parse("2026-11-27T16:45:49.428Z"),
    requestCounter: 26,
  });
  const fmt = "%{+X}o %ci:%cp_%fi:%fp_%Ts_%ms_%rt:%pid_%{-X}cp_%{+Q}rt_%{+Q}ci_%ST";
  const l = compileLogLine(fmt, { http: true, logasap: false }) as LogLine;
  // As haproxy wrote it: "%02X" bytes, "%04X" numbers (an epoch takes 8 digits, 428 ms three).
  assert.equal(l(r, env), "7F000001:D57A_7F000001:4A8A_6B09B3BD_1AC_001A:3592_54650_001A_7F000001_-1");
  assert.equal(hexAddress("::1"), "00000000000000000000000000000001");
  assert.equal(hexAddress("2001:db8::ff00:42:8329"), "20010DB8000000000000FF0000428329");
  assert.equal(hexAddress("::ffff:10.0.0.1"), "00000000000000000000FFFF0A000001");
  assert.equal(hexAddress("fe80::1:2"), "FE800000000000000000000000010002");
});

test("the configuration is checked as haproxy checks it", () => {
  const said = (lines: string): string[] =>
    parseConfig([{ name: "u.cfg", text: `${DEFAULTS}frontend f\n  bind :1\n${lines}` }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line}: ${d.message}`);
  assert.deepEqual(said("  unique-id-format\n"), ["9: unique-id-format expects an argument."]);
  assert.deepEqual(said("  unique-id-format a b\n"), [
    "9: unique-id-format expects only one argument, don't forget to escape spaces!",
  ]);
  assert.deepEqual(said("  unique-id-header\n"), ["9: unique-id-header expects an argument."]);
  // haproxy reads what follows the header's name and does nothing with it.
  assert.deepEqual(said("  unique-id-header a b\n"), []);
  assert.deepEqual(said("  unique-id-format %[req.hdr(host)]_%[res.hdr(x)]\n"), [
    "9: failed to parse unique-id : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.",
  ]);
  // A log line is written once the messages are gone: no headers, no payload, but the method and status.
  assert.deepEqual(said('  log-format "%[status] %[method] %[src] %[unique-id]"\n'), []);
  assert.deepEqual(said('  log-format "a=%[path] b"\n'), [
    "9: failed to parse log-format : sample fetch <path] b> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
  ]);
  assert.deepEqual(said('  log-format "%[res.hdr(x)]"\n'), [
    "9: failed to parse log-format : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.",
  ]);
  assert.deepEqual(said('  log-format "%[req.len]"\n'), [
    "9: failed to parse log-format : sample fetch <req.len]> may not be reliably used here because it needs 'request buffer' which is not available here.",
  ]);
  assert.deepEqual(said('  log-format "%[src"\n'), [
    "9: failed to parse log-format : missing ']' after 'src'.",
  ]);
  assert.deepEqual(said('  log-format "%[nope]"\n'), [
    "9: failed to parse log-format : failed to parse sample expression <nope]> : unknown fetch method 'nope'.",
  ]);
});

test("a unique id goes to the server and into the log; %[...] in log lines reads the stream as haproxy does", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid_%[req.hdr(x-a),lower]_%{+Q}[req.hdr(x-none)]
  unique-id-header X-Unique-ID
  log-format "%{+Q}r id=%ID rt=%rt st=%[status] be=%[be_name] srv=%[srv_name] uid=%[unique-id] m=%[method] q=%{+Q}[method,lower] x=%{+X}rt %{+Q}ID"
  http-request set-header X-T t=%[unique-id]
  http-request deny if { path /deny }
  default_backend bk
backend bk
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  const header = (name: string): string | undefined => {
    const h = b.seen.at(-1)!.headers;
    const i = h.findIndex((n, k) => k % 2 === 0 && n.toLowerCase() === name);
    return i < 0 ? undefined : h[i + 1];
  };
  const reply = await exchange(
    p.port,
    "GET /a HTTP/1.1\r\nHost: h\r\nX-A: Hello\r\nConnection: close\r\n\r\n",
  );
  assert.match(reply, /^HTTP\/1\.1 200/);
  const id = header("x-unique-id")!;
  // The client's address and port, the frontend's, the accept second, the stream's number and the pid,
  // in hexadecimal; an absent sample writes nothing, quoted or not.
  const pid = process.pid.toString(16).toUpperCase().padStart(4, "0");
  assert.match(
    id,
    new RegExp(`^7F000001:[0-9A-F]{4}_7F000001:[0-9A-F]{4}_[0-9A-F]{8}_([0-9A-F]{4}):${pid}_hello_$`),
  );
  assert.equal(header("x-t"), `t=${id}`);
  const rt = parseInt(/_([0-9A-F]{4}):/.exec(id)![1]!, 16);
  const first = await rx.take(/^"GET \/a /);
  assert.equal(
    first,
    `"GET /a HTTP/1.1" id=${id} rt=${rt} st=- be=bk srv=s uid=${id} m=GET q="get" x=${id.split("_")[3]!.slice(0, 4)} "${id}"`,
  );
  // Answered by a rule: the id is made for the log line; no backend was chosen, no server.
  await exchange(p.port, "GET /deny HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const denied = await rx.take(/^"GET \/deny /);
  assert.match(
    denied,
    new RegExp(
      `id=\\S+_${(rt + 1).toString(16).toUpperCase().padStart(4, "0")}:\\S+ rt=${rt + 1} st=- be=f srv=- `,
    ),
  );
  // No request could be read: no stream, so no id and no stream samples; the connection's still count.
  await exchange(p.port, "BAD\r\n\r\n");
  const bad = await rx.take(/^"<BADREQ>"/);
  assert.equal(
    bad,
    `"<BADREQ>" id=- rt=${rt + 2} st=- be=- srv=- uid=- m=- q="" x=${(rt + 2).toString(16).toUpperCase().padStart(4, "0")} ""`,
  );
});

test("mode tcp: a session is a stream with its id and number, as haproxy 2.6.12 logs them", async () => {
  const rx = await syslogReceiver();
  const b = await httpBackend("b");
  cleanup.push(rx.close, b.close);
  const p = await startProxy(`${loggedDefaults(rx, "  mode tcp")}
listen l
  bind 127.0.0.1:1
  unique-id-format %ci_%rt_%[be_name]
  log-format "id=%ID be=%[be_name] srv=%[srv_name] m=%[method] uid=%[unique-id]"
  server s 127.0.0.1:${b.port}
`);
  cleanup.push(p.stop);
  assert.match(await exchange(p.port, "GET / HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 200/);
  const line = await rx.take(/^id=/);
  assert.match(line, /^id=127\.0\.0\.1_(\d+)_l be=l srv=s m=- uid=127\.0\.0\.1_\1_l$/);
});
