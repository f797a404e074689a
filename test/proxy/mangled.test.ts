// Requests and responses with bytes changed, dropped, repeated or cut, sent in odd slices, by
// clients and servers that leave at odd moments, in each connection mode: whatever arrives, the
// proxy answers with a status line or closes, never throws, and frees every session and server
// slot. Each connection draws from a generator of its own, seeded by its number, and a failure
// shows the bytes its client sent; which answer a request meets depends on timing.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startProxy, rawServer, waitFor } from "../helpers/harness.js";
import { prng } from "../helpers/prng.js";
import { closeAsHaproxy } from "../../src/util/close.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const WS_FRAME = "\x82\x85\x01\x02\x03\x04" + "abcde";

const UPGRADE =
  "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
  WS_FRAME;

/** The upgrade comes up three times in ten. */
const REQUESTS = [
  UPGRADE,
  UPGRADE,
  "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
  "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
  UPGRADE,
  "GET /d HTTP/1.0\r\n\r\n",
  "GET /e HTTP/1.1\r\nHost: x\r\n\r\nGET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  "PUT /g HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  "HEAD /h HTTP/1.1\r\nHost: x\r\nX-Deny: 1\r\n\r\n",
];

const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 2\r\n\r\n",
  "HTTP/1.1 200 OK\r\n\r\nuntil the server closes",
  "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
  "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
  "HTTP/1.0 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
];

const ODD_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x7f, 0xff, 0x30, 0x61];

/** Half the time none, else one to three edits: a byte replaced, a range dropped or repeated, the end cut off. */
function mangle(text: string, rnd: (n: number) => number): Buffer {
  let b = Buffer.from(text, "latin1");
  const edits = rnd(2) === 0 ? 0 : 1 + rnd(3);
  for (let i = 0; i < edits && b.length > 1; i++) {
    const at = rnd(b.length);
    switch (rnd(4)) {
      case 0:
        b = Buffer.from(b);
        b[at] = ODD_BYTES[rnd(ODD_BYTES.length)]!;
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(8))]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at + 1 + rnd(16)), b.subarray(at)]);
        break;
      default:
        b = b.subarray(0, at);
    }
  }
  return b;
}

/** Writes `b` in one to four slices, a turn of the event loop apart; then calls `done`. */
function writeSliced(s: net.Socket, b: Buffer, rnd: (n: number) => number, done: () => void): void {
  const cuts = [
    0,
    ...Array.from({ length: rnd(4) }, () => rnd(b.length + 1)).sort((x, y) => x - y),
    b.length,
  ];
  let i = 0;
  const next = (): void => {
    if (s.destroyed) return;
    if (i === cuts.length - 1) return done();
    const part = b.subarray(cuts[i]!, cuts[i + 1]!);
    i++;
    if (part.length > 0) s.write(part);
    setImmediate(next);
  };
  next();
}

/**
 * How a side leaves once it has written: waits for the other, sends a FIN, or resets. The reset
 * goes through the proxy's own closeAsHaproxy, which knows when Node cannot reset a socket (Node
 * ends one on the peer's FIN, and a reset with a shutdown pending leaves a handle that never closes).
 */
function leave(s: net.Socket, how: number, rnd: (n: number) => number): void {
  if (how === 1) s.end();
  else if (how === 2) setTimeout(() => closeAsHaproxy(s), rnd(10));
}

async function mangledServer(seed: number): Promise<{ port: number; close(): Promise<void> }> {
  let conns = 0;
  const srv = await rawServer((s) => {
    const rnd = prng(seed * 4096 + conns++);
    let answered = 0;
    s.on("data", (d: Buffer) => {
      // One answer per burst of request bytes, at most three per connection; half the upgrade
      // requests are accepted as they are, so that tunnels get their share.
      if (answered++ >= 3) return;
      const upgrade = answered === 1 && d.includes("websocket") && rnd(2) === 0;
      const res = upgrade
        ? Buffer.from(RESPONSES[3]!, "latin1")
        : mangle(RESPONSES[rnd(RESPONSES.length)]!, rnd);
      const how = rnd(4);
      setTimeout(() => writeSliced(s, res, rnd, () => leave(s, how, rnd)), rnd(4));
    });
  });
  cleanup.push(srv.close);
  return srv;
}

interface Outcome {
  sent: Buffer;
  got: Buffer;
  hung: boolean;
}

/** One client connection: a mangled request, then it waits, half-closes or resets. */
function mangledClient(port: number, rnd: (n: number) => number): Promise<Outcome> {
  const sent = mangle(REQUESTS[rnd(REQUESTS.length)]!, rnd);
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    // Every proxy timeout here is 200 ms or less: a connection still open after 3 s is stuck.
    const stuck = setTimeout(() => {
      s.destroy();
      resolve({ sent, got: Buffer.concat(chunks), hung: true });
    }, 3000);
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(stuck);
      resolve({ sent, got: Buffer.concat(chunks), hung: false });
    });
    const how = rnd(5);
    s.on("connect", () => writeSliced(s, sent, rnd, () => leave(s, how, rnd)));
  });
}

const STATUS_LINE = /^HTTP\/1\.[01] \d{3}[ \r]/;

for (const [i, mode] of ["http-keep-alive", "http-server-close", "httpclose"].entries()) {
  test(`${mode}: mangled traffic both ways gets a status line or a close, and frees everything`, async () => {
    const seed = 0x51ce + i;
    const [a, b] = [await mangledServer(seed * 3), await mangledServer(seed * 7)];
    const p = await startProxy(`
defaults
  mode http
  option ${mode}
  option forwardfor
  retries 1
  timeout client 200ms
  timeout server 200ms
  timeout connect 200ms
  timeout http-request 200ms
  timeout http-keep-alive 100ms
  timeout tunnel 200ms
frontend f
  bind 127.0.0.1:1
  http-request deny if { req.hdr(x-deny) -m found }
  default_backend bk
backend bk
  http-reuse always
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`);
    cleanup.push(p.stop);
    const bad: string[] = [];
    let answered = 0;
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; n < 8; n++) {
        const { sent, got, hung } = await mangledClient(p.port, prng(seed * 256 + w * 8 + n));
        const what = `seed ${seed}, worker ${w}, connection ${n}, sent ${JSON.stringify(sent.toString("latin1"))}`;
        if (hung) bad.push(`${what}: still open after 3 s`);
        if (got.length === 0) continue;
        answered++;
        const head = got.subarray(0, 40).toString("latin1");
        if (!STATUS_LINE.test(head)) bad.push(`${what}: got ${JSON.stringify(head)}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, w) => worker(w)));
    assert.deepEqual(bad, []);
    assert.ok(answered > 80, `only ${answered} of 160 connections got an answer`);
    await waitFor(() => p.rt.actconn === 0, 3000, "every session ended");
    const fe = p.rt.frontends[0]!;
    const be = p.rt.backends.get("bk")!;
    assert.deepEqual(
      [fe.cur, be.cur, ...be.servers.map((s) => s.cur), be.queued()],
      [0, 0, 0, 0, 0],
      "frontend, backend and server slots all given back",
    );
  });
}
