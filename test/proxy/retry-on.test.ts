// retry-on and http-request disable-l7-retry: which failures send a request again, where, and what
// the log says. Each case was run against haproxy 2.6.12 with the same configuration
// (docs/haproxy-behaviour.md §78): the same servers asked, the same answers and log lines.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import {
  startProxy,
  rawServer,
  exchange,
  closedPort,
  syslogReceiver,
  loggedDefaults,
  sleep,
  type SyslogReceiver,
} from "../helpers/harness.js";
import { parseRetryOn, RetryOn, statusBit } from "../../src/config/retry-on.js";
import { parseConfig } from "../../src/config/parse.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

type Behaviour = "ok" | "503" | "close" | "silent" | "junk" | "partial";

/** A server that notes each request it reads whole ("name METHOD path body") and acts as told. */
async function server(name: string, how: Behaviour, seen: string[]) {
  const srv = await rawServer((s) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const head = buf.slice(0, end);
        let body: string;
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          // Chunks without extensions or trailers: the body is their data.
          const last = buf.indexOf("\r\n0\r\n\r\n", end);
          if (last < 0) return;
          body = buf
            .slice(end + 4, last + 2)
            .replace(/[0-9a-f]+\r\n([^]*?)\r\n/gi, (_, data: string) => data);
          buf = buf.slice(last + 7);
        } else {
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          body = buf.slice(end + 4, end + 4 + length);
          buf = buf.slice(end + 4 + length);
        }
        const named = /\r\nx-srv: *([^\r]*)/i.exec(head)?.[1];
        seen.push(
          `${name} ${head.split(" ", 2).join(" ")} ${body.length > 20 ? body.length : body}${named ? ` x-srv=${named}` : ""}`,
        );
        if (how === "ok") s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\n\r\n${name}`);
        else if (how === "503") s.write("HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy");
        else if (how === "close") s.end();
        else if (how === "junk") s.write("garbage\r\n\r\n");
        else if (how === "partial") s.end("HTTP/1.1 200 OK\r\nContent-Le");
      }
    });
  });
  cleanup.push(srv.close);
  return srv.port;
}

interface Bed {
  port: number;
  seen: string[];
  rx: SyslogReceiver;
}

/** A proxy before s1 and s2 (roundrobin, s1 first), with `backend` lines, logging to its own receiver. */
async function bed(s1: Behaviour | number, s2: Behaviour, backend: string, defaults = ""): Promise<Bed> {
  const seen: string[] = [];
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const p1 = typeof s1 === "number" ? s1 : await server("s1", s1, seen);
  const p2 = await server("s2", s2, seen);
  const p = await startProxy(`${loggedDefaults(rx, defaults)}
frontend f
  bind 127.0.0.1:1
  default_backend b
backend b
  balance roundrobin
${backend}
  server s1 127.0.0.1:${p1}
  server s2 127.0.0.1:${p2}
`);
  cleanup.push(p.stop);
  return { port: p.port, seen, rx };
}

const GET = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const post = (body: string, close = true): string =>
  `POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${close ? "Connection: close\r\n" : ""}\r\n${body}`;
/** A request of `size` bytes of body in `chunks` chunks (the last one takes the remainder). */
const chunkedPost = (size: number, chunks: number): string => {
  const each = Math.floor(size / chunks);
  let body = "";
  for (let i = 0; i < chunks; i++) {
    const n = i === chunks - 1 ? size - each * (chunks - 1) : each;
    body += `${n.toString(16)}\r\n${"y".repeat(n)}\r\n`;
  }
  return `POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}0\r\n\r\n`;
};
/** The log line's fields after the date: frontend, backend/server, timers, status, bytes... */
const fields = (line: string): string[] => line.replace(/^.*?\] /, "").split(" ");

test("retry-on's words, as haproxy 2.6 reads them", () => {
  assert.equal(parseRetryOn(["conn-failure"]), RetryOn.ConnFailure);
  assert.equal(parseRetryOn(["none"]), 0);
  assert.equal(parseRetryOn(["503", "504"]), statusBit(503) | statusBit(504));
  const all = parseRetryOn(["all-retryable-errors"]) as number;
  for (const s of [500, 502, 503, 504]) assert.ok(all & statusBit(s), String(s));
  for (const s of [401, 403, 404, 408, 425, 501]) assert.equal(all & statusBit(s), 0, String(s));
  assert.ok(all & RetryOn.EmptyResponse && all & RetryOn.ResponseTimeout && all & RetryOn.JunkResponse);
  assert.equal(parseRetryOn([]), "'retry-on' needs at least one keyword to specify when to retry");
  assert.equal(parseRetryOn(["503", "none"]), "'retry-on' 'none' keyworld only usable alone");
  for (const w of ["200", "0503", "frob", "toString"])
    assert.equal(parseRetryOn([w]), `'retry-on': unknown keyword '${w}'`);
  const alerts = (text: string): string[] =>
    parseConfig([{ name: "t.cfg", text }], {})
      .diagnostics.filter((d) => d.level === "alert")
      .map((d) => `${d.where?.line}: ${d.message}`);
  assert.deepEqual(alerts("frontend f\n  bind :8080\n  retry-on 503\n"), [
    "3: 'retry-on' only available in backend or listen section",
  ]);
  assert.deepEqual(alerts("defaults\n  mode http\n  retry-on 503 404\nbackend b\n  retry-on none\n"), []);
  assert.deepEqual(alerts("backend b\n  mode http\n  http-request disable-l7-retry foo\n"), [
    "3: 'http-request disable-l7-retry' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
  ]);
});

test("a 503 is retried on the other server with option redispatch, the body sent again; the log says +1", async () => {
  const b = await bed("503", "ok", "  retry-on 503\n  option redispatch");
  assert.match(await exchange(b.port, post("hello")), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ns2$/);
  assert.deepEqual(b.seen, ["s1 POST /p hello", "s2 POST /p hello"]);
  const f = fields(await b.rx.take(/ f b\//));
  assert.deepEqual([f[1], f[3], f[7], f[8]], ["b/s2", "200", "----", "1/1/0/0/+1"]);
});

test("without redispatch the same server is asked retries+1 times, and its last answer goes to the client", async () => {
  const b = await bed("503", "ok", "  retry-on 503\n  retries 2");
  assert.match(await exchange(b.port, GET), /^HTTP\/1\.1 503 Busy\r\n[^]*\r\n\r\nbusy$/);
  assert.deepEqual(b.seen, ["s1 GET /a ", "s1 GET /a ", "s1 GET /a "]);
  const f = fields(await b.rx.take(/ f b\//));
  assert.deepEqual([f[1], f[3], f[7], f[8]], ["b/s1", "503", "----", "1/1/0/0/2"]);
});

test("empty, cut and junk responses and a silent server are retried on the failures named, not others", async () => {
  const cases: [Behaviour, string, string][] = [
    // A head cut short is an empty response, not junk.
    ["close", "empty-response", "junk-response"],
    ["partial", "empty-response", "junk-response"],
    ["junk", "junk-response", "empty-response"],
    ["silent", "response-timeout", "503"],
  ];
  for (const [how, yes, no] of cases) {
    for (const [word, retried] of [
      [yes, true],
      [no, false],
    ] as const) {
      const b = await bed(
        how,
        "ok",
        `  retry-on ${word}\n  retries 1\n  option redispatch`,
        "  timeout server 300ms",
      );
      const text = await exchange(b.port, GET);
      assert.equal(/\r\n\r\ns2$/.test(text), retried, `${how} with retry-on ${word}: ${text}`);
      assert.equal(b.seen.length, retried ? 2 : 1, `${how} with retry-on ${word}`);
    }
  }
});

test("once retries run out: 502 SH, 502 PH, 504 sH, the times of every attempt counted in Tc", async () => {
  const cases: [Behaviour, number, string][] = [
    ["close", 502, "SH--"],
    ["junk", 502, "PH--"],
    ["silent", 504, "sH--"],
  ];
  for (const [how, status, flags] of cases) {
    const b = await bed(how, how, "  retry-on all-retryable-errors\n  retries 2", "  timeout server 200ms");
    const t0 = Date.now();
    assert.match(await exchange(b.port, GET), new RegExp(`^HTTP/1\\.1 ${status} `));
    assert.deepEqual(b.seen, ["s1 GET /a ", "s1 GET /a ", "s1 GET /a "], how);
    const f = fields(await b.rx.take(/ f b\//));
    assert.deepEqual([f[1], f[3], f[7], f[8]], ["b/s1", String(status), flags, "1/1/0/0/2"], how);
    // haproxy's Tc runs from the server's assignment: two timeouts are in it.
    const [, , tc, tr] = f[2]!.split("/").map(Number);
    assert.equal(tr, -1);
    if (how === "silent") assert.ok(tc! >= 390 && Date.now() - t0 >= 590, `Tc ${tc}`);
  }
});

test("a request kept whole in a buffer is retried, one byte more is not; nor one whose body came after the connect", async () => {
  // haproxy 2.6.12 retries this request with a body of 15213 bytes, not 15214.
  for (const [size, retried] of [
    [15213, true],
    [15214, false],
  ] as const) {
    const b = await bed("503", "ok", "  retry-on 503\n  option redispatch");
    const text = await exchange(b.port, post("y".repeat(size), false), 2000);
    assert.equal(/\r\n\r\ns2$/.test(text), retried, `body of ${size}`);
    assert.deepEqual(b.seen, retried ? [`s1 POST /p ${size}`, `s2 POST /p ${size}`] : [`s1 POST /p ${size}`]);
  }
  // A chunked body's end takes a byte of the room, and the request as it came, chunk framing
  // included, must fit in a buffer's worth: 100 chunks hold 14679 bytes of payload, not 14680.
  for (const [size, chunks, retried] of [
    [15199, 1, true],
    [15200, 1, false],
    [14679, 100, true],
    [14680, 100, false],
  ] as const) {
    const b = await bed("503", "ok", "  retry-on 503\n  option redispatch");
    const text = await exchange(b.port, chunkedPost(size, chunks), 2000);
    assert.equal(/\r\n\r\ns2$/.test(text), retried, `${chunks} chunks holding ${size}`);
    assert.equal(b.seen.length, retried ? 2 : 1);
    assert.ok(
      b.seen.every((line) => line.endsWith(` ${size}`)),
      b.seen.join(),
    );
  }
  const b = await bed("503", "ok", "  retry-on 503\n  option redispatch");
  const c = net.connect(b.port, "127.0.0.1");
  let text = "";
  c.on("data", (d: Buffer) => (text += d.toString("latin1")));
  c.write(post("hello").slice(0, -3));
  await sleep(200);
  c.end("llo");
  await new Promise((r) => c.once("close", r));
  assert.match(text, /\r\n\r\nbusy$/);
  assert.deepEqual(b.seen, ["s1 POST /p hello"]);
});

test("a later request of a kept-alive connection is retried too, and named anew by http-send-name-header", async () => {
  const b = await bed("503", "ok", "  retry-on 503\n  option redispatch\n  http-send-name-header X-Srv");
  const text = await exchange(
    b.port,
    "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  );
  assert.match(text, /\r\n\r\ns2HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\ns2$/);
  assert.deepEqual(b.seen, [
    "s1 GET /1  x-srv=s1",
    "s2 GET /1  x-srv=s2",
    "s1 GET /2  x-srv=s1",
    "s2 GET /2  x-srv=s2",
  ]);
});

test("disable-l7-retry leaves a request to connection failures; retry-on without conn-failure retries no connect", async () => {
  const rule =
    "  retry-on all-retryable-errors\n  option redispatch\n  http-request disable-l7-retry if { path /a }";
  let b = await bed("503", "ok", rule);
  assert.match(await exchange(b.port, GET), /\r\n\r\nbusy$/);
  assert.deepEqual(b.seen, ["s1 GET /a "]);
  // A refused connection is still retried, on s2.
  b = await bed(await closedPort(), "ok", rule);
  assert.match(await exchange(b.port, GET), /\r\n\r\ns2$/);
  assert.deepEqual(fields(await b.rx.take(/ f b\//)).slice(8, 9), ["1/1/0/0/+1"]);
  // retry-on 503 alone: a refusal is final at once (no turn-around second), as is retry-on none.
  for (const words of ["503", "none"]) {
    b = await bed(await closedPort(), "ok", `  retry-on ${words}\n  retries 3`);
    const t0 = Date.now();
    assert.match(await exchange(b.port, GET), /^HTTP\/1\.1 503 /);
    assert.ok(Date.now() - t0 < 900, words);
    const f = fields(await b.rx.take(/ f b\//));
    assert.deepEqual([f[1], f[7], f[8]], ["b/s1", "SC--", "1/1/0/0/0"], words);
  }
});

test("a connect retried after a refusal: Tc holds the refusal and the turn-around second, as haproxy's", async () => {
  const port = await closedPort();
  const b = await bed(port, "ok", "  retries 3");
  const answered = exchange(b.port, GET, 5000);
  // The server comes up after the first refusal, before the second try, a second later.
  await sleep(400);
  const late = net.createServer((s) => {
    s.on("error", () => undefined);
    s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"));
  });
  late.listen(port, "127.0.0.1");
  await once(late, "listening");
  cleanup.push(() => new Promise<void>((r) => late.close(() => r())));
  assert.match(await answered, /\r\n\r\nlate$/);
  const f = fields(await b.rx.take(/ f b\//));
  assert.ok(Number(f[2]!.split("/")[2]) >= 900, f[2]);
  assert.deepEqual([f[1], f[8]], ["b/s1", "1/1/0/0/1"]);
});
