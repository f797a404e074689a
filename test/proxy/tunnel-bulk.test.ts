// Bulk through tunnels. A side that reads large chunks reads into a buffer of its own and each read
// goes on uncopied; a write the kernel cannot take whole keeps that buffer, and the side reads into
// another. Whatever the receivers do (stall, read slowly), every byte arrives in order, with several
// tunnels at once, both ways at once, in mode tcp and after a 101.
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
  const done = new Promise<void>((resolve, reject) => {
    c.on("error", reject);
    c.on("close", () => resolve());
    stalling(c, 64 * 1024, (d) => {
      if (!head) {
        const end = d.indexOf("\r\n\r\n");
        assert.ok(end > 0 && d.subarray(0, 12).toString() === "HTTP/1.1 101", d.toString());
        head = true;
        d = d.subarray(end + 4);
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
