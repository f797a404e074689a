// The logger end to end: syslog headers, a real UDP receiver, stdout through a child process,
// truncation (`len`), dontlognull, levels (log-separate-errors, target level/minlevel), events.
// Expected headers are the ones haproxy 2.6.12 sent for the same target lines (TZ=UTC).
process.env.TZ = "UTC";

import { test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, newLogRecord, SyslogHeaders, type LogProxy, type LogRecord } from "../../src/log/index.js";
import type { Global, LogTarget } from "../../src/config/model.js";
import { newGlobal, newProxySettings } from "../../src/config/defaults.js";

const at = (iso: string): number => Date.parse(iso + "Z");

function target(over: Partial<LogTarget>): LogTarget {
  return {
    kind: "udp",
    host: "127.0.0.1",
    port: 514,
    len: 1024,
    format: "rfc3164",
    facility: "local0",
    level: 7,
    minLevel: 0,
    where: { file: "t.cfg", line: 1 },
    ...over,
  };
}
function global(logs: LogTarget[] = [], over: Partial<Global> = {}): Global {
  return { ...newGlobal(), logs, logTag: "haproxy", ...over };
}
function proxy(logs: LogTarget[], over: Partial<LogProxy> = {}): LogProxy {
  return { ...newProxySettings(), name: "fe", mode: "http", logs, logFormat: "httplog", ...over };
}
function record(over: Partial<LogRecord> = {}): LogRecord {
  const r = newLogRecord();
  Object.assign(
    r,
    {
      clientIp: "127.0.0.1",
      clientPort: 38048,
      acceptTime: at("2026-11-24T06:31:32.403"),
      requestTime: at("2026-11-24T06:31:32.403"),
      frontend: "fe",
      backend: "bk",
      server: "s1",
      TR: 0,
      Tw: 0,
      Tc: 0,
      Tr: 51,
      Ta: 51,
      status: 200,
      bytesOut: 132,
      actconn: 1,
      feconn: 1,
      requestLine: "GET /hello?a=b HTTP/1.1",
      empty: false,
    },
    over,
  );
  return r;
}
const BODY =
  '127.0.0.1:38048 [24/Nov/2026:06:31:32.403] fe bk/s1 0/0/0/51/51 200 132 - - ---- 1/1/0/0/0 0/0 "GET /hello?a=b HTTP/1.1"';

test("syslog headers per format, as haproxy 2.6 sends them", () => {
  const ms = at("2026-11-24T06:31:32.456");
  const us = ms * 1000 + 922;
  const h = new SyslogHeaders({ hostname: undefined, tag: "haproxy", pid: 7198 });
  assert.equal(h.header("rfc3164", 16, 6, ms, us), "<134>Nov 24 06:31:32 haproxy[7198]: ");
  assert.equal(h.header("local", 16, 6, ms, us), "<134>Nov 24 06:31:32 haproxy[7198]: ");
  assert.equal(
    h.header("rfc5424", 17, 6, ms, us),
    "<142>1 2026-11-24T06:31:32.456922+00:00 - haproxy 7198 - - ",
  );
  assert.equal(h.header("short", 18, 6, ms, us), "<6>");
  assert.equal(h.header("priority", 19, 6, ms, us), "<158>");
  assert.equal(h.header("iso", 20, 6, ms, us), "2026-11-24T06:31:32.456922+00:00 ");
  assert.equal(h.header("timed", 21, 6, ms, us), "<6>2026-11-24T06:31:32.456922+00:00 ");
  assert.equal(h.header("raw", 22, 6, ms, us), "");
  const named = new SyslogHeaders({ hostname: "myhost", tag: "mytag", pid: 7306 });
  assert.equal(named.header("rfc3164", 16, 5, ms, us), "<133>Nov 24 06:31:32 myhost mytag[7306]: ");
  assert.equal(named.header("local", 16, 5, ms, us), "<133>Nov 24 06:31:32 mytag[7306]: ");
  assert.equal(
    named.header("rfc5424", 16, 1, ms, us),
    "<129>1 2026-11-24T06:31:32.456922+00:00 myhost mytag 7306 - - ",
  );
  // Day of month space-padded (%2d), microseconds zero-padded.
  assert.equal(
    h.header("rfc3164", 16, 6, at("2026-03-04T05:06:07.000")),
    "<134>Mar  4 05:06:07 haproxy[7198]: ",
  );
  assert.equal(
    h.header("iso", 16, 6, 0, at("2026-03-04T05:06:07.000") * 1000 + 5),
    "2026-03-04T05:06:07.000005+00:00 ",
  );
});

async function receiver(): Promise<{
  port: number;
  lines: string[];
  next: (n: number) => Promise<string[]>;
  close: () => void;
}> {
  const sock = dgram.createSocket("udp4");
  const lines: string[] = [];
  let waiter: (() => void) | undefined;
  sock.on("message", (m) => {
    lines.push(m.toString("latin1"));
    waiter?.();
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  return {
    port: sock.address().port,
    lines,
    next: async (n) => {
      const deadline = Date.now() + 3000;
      while (lines.length < n && Date.now() < deadline)
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 50);
        });
      return lines.splice(0, n);
    },
    close: () => sock.close(),
  };
}

test("UDP syslog: a real receiver gets haproxy's datagrams, newline included; len truncates", async () => {
  const rx = await receiver();
  const t1 = target({ port: rx.port });
  const t2 = target({ port: rx.port, len: 80, facility: "local7" });
  const logger = new Logger(global([t1, t2], { logTag: "haproxy" }), { pid: 7198, quiet: true });
  logger.emit(proxy([t1, t2]), record());
  const got = await rx.next(2);
  got.sort();
  assert.match(got[0]!, /^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[7198\]: /);
  assert.ok(got[0]!.endsWith(BODY + "\n"), got[0]);
  // haproxy sent "<190>Nov 24 06:31:32 haproxy[7198]: 127.0.0.1:38048 [24/Nov/2026:06:31:32.403] f\n":
  // 80 bytes then the newline.
  assert.equal(got[1]!.length, 81);
  assert.ok(got[1]!.startsWith("<190>"));
  assert.ok(got[1]!.endsWith(" f\n"), got[1]);
  await logger.close();
  rx.close();
});

test("log-tag: a proxy's own syslog tag in place of the global one, for its lines and its events", async () => {
  const rx = await receiver();
  const t = target({ port: rx.port });
  const logger = new Logger(global([t], { logTag: "haproxy" }), { pid: 7198, quiet: true });
  logger.emit({ ...proxy([t]), logTag: "web" }, record());
  logger.event({ ...proxy([t]), logTag: "web" }, 3, "Server b/s is DOWN");
  logger.emit(proxy([t]), record());
  const got = await rx.next(3);
  assert.deepEqual(
    got.map((l) => / (\w+)\[7198\]: /.exec(l)![1]),
    ["web", "web", "haproxy"],
  );
  await logger.close();
  rx.close();
});

test("unix datagram syslog: a real /dev/log-style receiver gets the same datagrams", async () => {
  // Node cannot bind a unix datagram socket either: the receiver is perl, printing each datagram in hex.
  const dir = mkdtempSync(join(tmpdir(), "sluice-unix-log-"));
  const path = join(dir, "log.sock");
  const rx = spawn(
    "perl",
    [
      "-MSocket",
      "-e",
      `socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die; bind($s, pack_sockaddr_un($ARGV[0])) or die; $| = 1; print "ready\\n"; while (defined(recv($s, my $m, 65536, 0))) { print unpack("H*", $m), "\\n" }`,
      path,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines: string[] = [];
  let text = "";
  rx.stdout!.on("data", (d: Buffer) => {
    text += d.toString();
    const parts = text.split("\n");
    text = parts.pop()!;
    lines.push(...parts);
  });
  try {
    await waitForLines(lines, 1);
    assert.equal(lines.shift(), "ready");
    const t = target({ kind: "unix", path, host: undefined, port: undefined });
    const logger = new Logger(global([t], { logTag: "haproxy" }), { pid: 7198, quiet: true });
    logger.emit(proxy([t]), record());
    logger.emit(proxy([t]), record());
    await waitForLines(lines, 2);
    for (const hex of lines) {
      const got = Buffer.from(hex, "hex").toString("latin1");
      assert.match(got, /^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[7198\]: /);
      assert.ok(got.endsWith(BODY + "\n"), got);
    }
    await logger.close();
  } finally {
    rx.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitForLines(lines: string[], n: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (lines.length < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} lines, got ${lines.length}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("dontlognull, level filtering, log-separate-errors, minlevel, no targets", async () => {
  const rx = await receiver();
  const info = target({ port: rx.port, format: "raw" });
  const errOnly = target({ port: rx.port, format: "short", level: 3 });
  const capped = target({ port: rx.port, format: "short", facility: "local1", level: 7, minLevel: 4 });
  const logger = new Logger(global(), { quiet: true });
  const px = proxy([info, errOnly], { dontlognull: true, logSeparateErrors: true });
  logger.emit(px, record({ empty: true, status: -1, requestLine: "" }));
  logger.emit(px, record());
  logger.emit(px, record({ status: 503, termCause: "S", termPhase: "C" }));
  logger.emit(proxy([capped]), record({ status: 503 }));
  logger.emit(proxy([]), record());
  const got = (await rx.next(4)).sort();
  assert.equal(got.length, 4);
  assert.ok(got[0]!.startsWith("127.0.0.1:38048"), got[0]); // raw, info
  assert.ok(got[1]!.startsWith("127.0.0.1:38048") && got[1]!.includes(" 503 "), got[1]); // raw, err
  assert.ok(got[2]!.startsWith("<3>127.0.0.1") && got[2]!.includes(" 503 "), got[2]); // err target: only the error
  assert.ok(got[3]!.startsWith("<6>127.0.0.1"), got[3]); // minlevel warning does not lower info
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(rx.lines.length, 0, "the empty connection and the 200 on the err target are not sent");
  await logger.close();
  rx.close();
});

test("events: proxy targets at the given level, haproxy's console line on stderr", async () => {
  const rx = await receiver();
  const t = target({ port: rx.port, format: "rfc3164" });
  const logger = new Logger(global([], { hostname: "myhost", logTag: "mytag" }), { pid: 7306, quiet: true });
  logger.event(
    proxy([t], { name: "bkc" }),
    1,
    "Server bkc/s2 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
  );
  const [l] = await rx.next(1);
  assert.match(
    l!,
    /^<129>\w{3} [ \d]\d \d\d:\d\d:\d\d myhost mytag\[7306\]: Server bkc\/s2 is DOWN\. 1 active/,
  );
  await logger.close();
  rx.close();
});

const here = fileURLToPath(import.meta.url);
/** Runs `script` in a child; its stdout is a pipe, or the file `stdoutFile` (read back at the end). */
function child(
  script: string,
  stdoutFile?: string,
): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const fd = stdoutFile === undefined ? undefined : openSync(stdoutFile, "w");
    const p = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, TZ: "UTC" },
      stdio: ["ignore", fd ?? "pipe", "pipe"],
    });
    if (fd !== undefined) closeSync(fd);
    let out = "";
    let err = "";
    p.stdout?.on("data", (d: Buffer) => (out += d.toString("latin1")));
    p.stderr!.on("data", (d: Buffer) => (err += d.toString("latin1")));
    p.on("close", (code) => {
      if (stdoutFile !== undefined) out = readFileSync(stdoutFile, "latin1");
      resolve({ out, err, code });
    });
  });
}
const indexUrl = new URL("../../src/log/index.js", "file://" + here).href;

for (const to of ["pipe", "file"] as const)
  test(`stdout target (a ${to}) through a child process: every line, in order, one per record; stderr console`, async () => {
    const script = `
    import { Logger, newLogRecord } from ${JSON.stringify(indexUrl)};
    const t = { kind: "stdout", len: 1024, format: "raw", facility: "local0", level: 7, minLevel: 0, where: { file: "x", line: 1 } };
    const g = { bufsize: 16384, maxhdr: 101, logs: [t], logTag: "haproxy", daemon: false };
    const logger = new Logger(g, { pid: 4242 });
    const px = { name: "fe", mode: "http", logs: [t], logFormat: "httplog", dontlognull: false, logasap: false, logSeparateErrors: false };
    for (let i = 0; i < 5000; i++) {
      const r = newLogRecord();
      Object.assign(r, { clientIp: "10.0.0.1", clientPort: i, frontend: "fe", status: 200, requestLine: "GET /" + i + " HTTP/1.1", empty: false });
      logger.emit(px, r);
    }
    logger.event(px, 1, "Server bk/s1 is DOWN.");
    logger.event(undefined, 0, "backend bk has no server available!", { message: "backend 'bk' has no server available!" });
    await logger.close();
  `;
    const dir = mkdtempSync(join(tmpdir(), "sluice-stdout-"));
    const { out, err, code } = await child(script, to === "file" ? join(dir, "out.log") : undefined);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, err);
    const lines = out.split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 5002);
    for (let i = 0; i < 5000; i++)
      assert.ok(
        lines[i]!.startsWith(`10.0.0.1:${i} [`) && lines[i]!.endsWith(`"GET /${i} HTTP/1.1"`),
        lines[i],
      );
    assert.equal(lines[5000], "Server bk/s1 is DOWN.");
    // Without a proxy, the global targets (stdout here) get the event, in its log wording.
    assert.equal(lines[5001], "backend bk has no server available!");
    assert.equal(
      err,
      "[WARNING]  (4242) : Server bk/s1 is DOWN.\n[ALERT]    (4242) : backend 'bk' has no server available!\n",
    );
  });

test("a stdout target's len counts the newline, as haproxy 2.6.12 writes a line to a stream", async () => {
  const script = `
    import { Logger } from ${JSON.stringify(indexUrl)};
    const t = { kind: "stdout", len: 80, format: "raw", facility: "local0", level: 7, minLevel: 0, where: { file: "x", line: 1 } };
    const logger = new Logger({ bufsize: 16384, maxhdr: 101, logs: [t], logTag: "haproxy", daemon: true }, { pid: 1 });
    logger.event(undefined, 6, "x".repeat(200));
    await logger.close();
  `;
  const { out, code, err } = await child(script);
  assert.equal(code, 0, err);
  assert.equal(out, "x".repeat(79) + "\n");
});

test("a stdout pipe that does not drain: lines dropped and counted, the event loop keeps running", async () => {
  const script = `
    import { Logger, newLogRecord } from ${JSON.stringify(indexUrl)};
    const t = { kind: "stdout", len: 1024, format: "raw", facility: "local0", level: 7, minLevel: 0, where: { file: "x", line: 1 } };
    const logger = new Logger({ bufsize: 16384, maxhdr: 101, logs: [t], logTag: "haproxy", daemon: false });
    const px = { name: "fe", mode: "http", logs: [t], logFormat: "httplog", dontlognull: false, logasap: false, logSeparateErrors: false };
    const r = newLogRecord();
    Object.assign(r, { clientIp: "10.0.0.1", frontend: "fe", status: 200, requestLine: "GET /" + "x".repeat(500) + " HTTP/1.1", empty: false });
    let maxLag = 0;
    let last = Date.now();
    const tick = setInterval(() => { const n = Date.now(); maxLag = Math.max(maxLag, n - last); last = n; }, 5);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 1000; i++) logger.emit(px, r);
      await new Promise((res) => setTimeout(res, 5));
    }
    clearInterval(tick);
    process.stderr.write(JSON.stringify({ dropped: logger.dropped, maxLag }) + "\\n");
    process.exit(0);
  `;
  // Never read the child's stdout: the pipe (64 KiB) fills at once.
  const p = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  p.stdout.pause();
  let err = "";
  p.stderr.on("data", (d: Buffer) => (err += d.toString()));
  await new Promise((r) => p.on("exit", r));
  const res = JSON.parse(err.trim().split("\n").pop()!) as { dropped: number; maxLag: number };
  assert.ok(res.dropped > 0, err);
  assert.ok(res.maxLag < 500, `event loop stalled ${res.maxLag} ms`);
  p.stdout.destroy();
});
