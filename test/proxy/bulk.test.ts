// Bulk through tunnels and response bodies, end to end: what a side reads large and only writes on
// goes uncopied from a buffer of its own (tcp-socket.ts; its test holds the buffers to their contract
// under writes that wait). Whatever the receivers do (stall, read slowly), every byte arrives in order:
// several tunnels at once, both ways at once, in mode tcp and after a 101; responses one after another
// on kept-alive connections, with a length or until the close.
import { test, after } from "node:test";
import net from "node:net";
import assert from "node:assert/strict";
import { once } from "node:events";
import { startProxy, rawServer, pattern, DEFAULTS, FRONTEND } from "../helpers/harness.js";
import { BULK_READ, giveBackOwnBuffer, takeOwnBuffer } from "../../src/util/shared-read.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const SIZE = 6 * 1024 * 1024;

/**
 * Reads `s` with a stall of a few milliseconds every `every` bytes, after one of 50 ms before the
 * first (its receive window stays small while it reads nothing): the proxy's writes to it wait.
 */
function stalling(s: net.Socket, every: number, onData: (d: Buffer) => void): void {
  let since = 0;
  s.pause();
  setTimeout(() => s.resume(), 50);
  s.on("data", (d: Buffer) => {
    onData(d);
    since += d.length;
    if (since < every) return;
    since = 0;
    s.pause();
    setTimeout(() => s.resume(), 3);
  });
}

/** An echo server that stalls as it reads; after a 101 when `upgrade`, its request head read first. */
async function stallingEcho(upgrade: boolean): Promise<number> {
  const srv = await rawServer((s) => {
    let head = !upgrade;
    let pending = Buffer.alloc(0);
    stalling(s, 64 * 1024, (d) => {
      if (head) {
        if (!s.write(d)) s.pause();
        return;
      }
      pending = Buffer.concat([pending, d]);
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      head = true;
      s.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      );
      if (end + 4 < pending.length) s.write(pending.subarray(end + 4));
    });
    s.on("drain", () => s.resume());
    s.on("end", () => s.end());
  });
  cleanup.push(srv.close);
  return srv.port;
}

/**
 * Sends SIZE bytes of `seed`'s pattern through the tunnel in 64 KiB writes while reading the echo
 * with stalls; resolves with what came back.
 */
async function echoThrough(port: number, seed: number, upgrade: boolean): Promise<Buffer> {
  const data = pattern(seed, SIZE);
  const c = net.connect(port, "127.0.0.1");
  await once(c, "connect");
  const got: Buffer[] = [];
  let bytes = 0;
  let head = !upgrade;
  let pendingHead = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    c.on("error", reject);
    c.on("close", () => resolve());
    stalling(c, 64 * 1024, (d) => {
      if (!head) {
        // The 101 may come in pieces; its bytes are not echoed data.
        pendingHead = Buffer.concat([pendingHead, d]);
        const end = pendingHead.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!pendingHead.subarray(0, 12).equals(Buffer.from("HTTP/1.1 101")))
          return reject(new Error(pendingHead.toString("latin1")));
        head = true;
        d = pendingHead.subarray(end + 4);
      }
      got.push(d);
      bytes += d.length;
      if (bytes >= SIZE) c.end();
    });
  });
  if (upgrade)
    c.write(
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
  for (let o = 0; o < SIZE; o += 64 * 1024)
    if (!c.write(data.subarray(o, o + 64 * 1024))) await once(c, "drain");
  await done;
  return Buffer.concat(got);
}

// First, while no socket of this process holds one.
test("own read buffers are bounded: past 128 held at once, none is given", () => {
  const held: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const b = takeOwnBuffer();
    if (b === undefined) break;
    assert.ok(b.length > BULK_READ);
    held.push(b);
  }
  assert.equal(held.length, 128);
  assert.equal(takeOwnBuffer(), undefined);
  for (const b of held) giveBackOwnBuffer(b);
  const again = takeOwnBuffer();
  assert.ok(again !== undefined && held.includes(again), "a buffer given back serves the next socket");
  giveBackOwnBuffer(again);
});

for (const upgrade of [false, true]) {
  test(
    `bulk both ways through ${upgrade ? "WebSocket tunnels" : "mode tcp"}, receivers stalling: every byte, in order`,
    {
      timeout: 60_000,
    },
    async () => {
      const server = await stallingEcho(upgrade);
      const p = await startProxy(`${DEFAULTS}
  mode ${upgrade ? "http" : "tcp"}
  timeout tunnel 30s
${FRONTEND}  server a 127.0.0.1:${server}
`);
      cleanup.push(p.stop);
      const seeds = [1, 2, 3, 4];
      const echoes = await Promise.all(seeds.map((seed) => echoThrough(p.port, seed, upgrade)));
      for (const [i, echo] of echoes.entries()) {
        assert.equal(echo.length, SIZE, `tunnel ${i}: length`);
        // Compared whole: a byte overwritten by a later read, or taken from another tunnel, shows.
        assert.ok(echo.equals(pattern(seeds[i]!, SIZE)), `tunnel ${i}: bytes differ`);
      }
    },
  );
}

/**
 * A server that answers each request, on whichever connection, with the next of `bodies`, head and
 * body in one write (its first read at the proxy is large), with a Content-Length, or without one when
 * `untilClose` (then it closes after the body).
 */
async function bodyServer(bodies: Buffer[], untilClose: boolean): Promise<number> {
  let i = 0;
  const srv = await rawServer((s) => {
    let pending = "";
    s.on("data", (d: Buffer) => {
      pending += d.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        pending = pending.slice(end + 4);
        const body = bodies[i++ % bodies.length]!;
        const head = untilClose
          ? "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
          : `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`;
        s.write(Buffer.concat([Buffer.from(head), body]));
        if (untilClose) s.end();
      }
    });
  });
  cleanup.push(srv.close);
  return srv.port;
}

/** Reads one response from `c` (stalling as it reads), its body by Content-Length or until the close. */
function response(c: net.Socket, carry: { rest: Buffer }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = carry.rest;
    let length = -1;
    let bodyFrom = 0;
    const check = (): boolean => {
      if (length < 0) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return false;
        const head = buf.subarray(0, end).toString("latin1");
        assert.match(head, /^HTTP\/1\.1 200/);
        const m = /content-length: *(\d+)/i.exec(head);
        length = m ? Number(m[1]) : Infinity;
        bodyFrom = end + 4;
      }
      if (buf.length - bodyFrom < length) return false;
      c.off("data", onData);
      c.off("close", onClose);
      carry.rest = buf.subarray(bodyFrom + length);
      resolve(buf.subarray(bodyFrom, bodyFrom + length));
      return true;
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      check();
    };
    const onClose = (): void => {
      if (length === Infinity) return resolve(buf.subarray(bodyFrom));
      reject(new Error(`closed after ${buf.length} bytes`));
    };
    if (check()) return;
    c.on("data", onData);
    c.on("close", onClose);
  });
}

for (const mode of ["http-keep-alive", "http-server-close"]) {
  test(
    `large responses with a length, one after another on a kept-alive client (${mode}), the client stalling: every byte`,
    {
      timeout: 60_000,
    },
    async () => {
      const bodies = [pattern(11, 3 << 20), pattern(12, (2 << 20) + 123), pattern(13, (1 << 20) + 7)];
      const server = await bodyServer(bodies, false);
      const p = await startProxy(`${DEFAULTS}
  option ${mode}
${FRONTEND}  server a 127.0.0.1:${server}
`);
      cleanup.push(p.stop);
      const c = net.connect(p.port, "127.0.0.1");
      cleanup.push(async () => void c.destroy());
      await once(c, "connect");
      stalling(c, 64 * 1024, () => undefined);
      const carry = { rest: Buffer.alloc(0) };
      for (let round = 0; round < 2; round++)
        for (const [i, body] of bodies.entries()) {
          c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
          const got = await response(c, carry);
          assert.equal(got.length, body.length, `round ${round}, response ${i}: length`);
          assert.ok(got.equals(body), `round ${round}, response ${i}: bytes differ`);
        }
      // The server connection, idle now (kept alive, or closed), holds no own buffer: all 128 are free.
      const free: Buffer[] = [];
      for (let b = takeOwnBuffer(); b !== undefined; b = takeOwnBuffer()) free.push(b);
      for (const b of free) giveBackOwnBuffer(b);
      assert.equal(free.length, 128, "own buffers held after the responses");
    },
  );
}

test(
  "large responses until the server's close, the client stalling: every byte",
  { timeout: 60_000 },
  async () => {
    const bodies = [pattern(21, 3 << 20), pattern(22, (2 << 20) + 5)];
    const server = await bodyServer(bodies, true);
    const p = await startProxy(`${DEFAULTS}
${FRONTEND}  server a 127.0.0.1:${server}
`);
    cleanup.push(p.stop);
    for (const [i, body] of bodies.entries()) {
      const c = net.connect(p.port, "127.0.0.1");
      cleanup.push(async () => void c.destroy());
      await once(c, "connect");
      stalling(c, 64 * 1024, () => undefined);
      c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      const got = await response(c, { rest: Buffer.alloc(0) });
      assert.ok(got.equals(body), `response ${i}: ${got.length} bytes, differing`);
    }
  },
);
