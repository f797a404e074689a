// Client sockets read into one shared buffer (util/shared-read.ts): each chunk handed over must stay
// intact while later reads, of this client or another, land in the buffer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { readIntoSharedBuffer } from "../../src/util/shared-read.js";
import { DEFAULTS, rawServer, startProxy, waitFor } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const pattern = (seed: number, size = 256 * 1024): Buffer => {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 101 + (i >> 8)) & 0xff;
  return b;
};

/** Writes `data` in pieces a turn of the loop apart, then ends. */
function sendSlowly(s: net.Socket, data: Buffer, piece = 4096): void {
  let o = 0;
  const step = (): void => {
    if (o >= data.length) return void s.end();
    s.write(data.subarray(o, (o += piece)));
    setImmediate(step);
  };
  step();
}

test("an accepted socket reads into the shared buffer, and every chunk it hands over is its own", async () => {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const got = new Map<number, { chunks: Buffer[]; ended: Promise<unknown> }>();
  let shared = 0;
  server.on("connection", (s: net.Socket) => {
    const chunks: Buffer[] = [];
    if (readIntoSharedBuffer(s, (c) => void chunks.push(c))) shared++;
    else s.on("data", (c: Buffer) => void chunks.push(c));
    got.set(got.size + 1, { chunks, ended: once(s, "end") });
    s.resume();
  });
  const port = (server.address() as net.AddressInfo).port;
  const data = [pattern(1), pattern(2)];
  const clients = data.map((d) => {
    const c = net.connect(port, "127.0.0.1", () => sendSlowly(c, d));
    return c;
  });
  while (got.size < 2) await new Promise((r) => setTimeout(r, 5));
  for (const { ended } of got.values()) await ended;
  assert.equal(shared, 2, "this Node lets an accepted socket read into a buffer of ours");
  const received = [...got.values()].map(({ chunks }) => {
    assert.ok(chunks.length > 4, `only ${chunks.length} reads`);
    return Buffer.concat(chunks);
  });
  // Connections may be accepted in either order.
  assert.ok(
    (received[0]!.equals(data[0]!) && received[1]!.equals(data[1]!)) ||
      (received[0]!.equals(data[1]!) && received[1]!.equals(data[0]!)),
    "a chunk changed after it was handed over",
  );
  for (const c of clients) c.destroy();
});

test("mode tcp: what clients send reaches a server that reads late, byte for byte", async () => {
  // The server reads nothing for a while: once the sockets' buffers are full the proxy's writes
  // queue up, holding client chunks, while the other client's reads land in the shared buffer.
  const received = new Map<net.Socket, Buffer[]>();
  const ends: Promise<unknown>[] = [];
  const srv = await rawServer((s) => {
    const chunks: Buffer[] = [];
    received.set(s, chunks);
    s.pause();
    s.on("data", (c: Buffer) => void chunks.push(c));
    ends.push(once(s, "end"));
    setTimeout(() => s.resume(), 200);
  });
  cleanup.push(srv.close);
  const px = await startProxy(
    `${DEFAULTS}listen l\n  mode tcp\n  bind 127.0.0.1:1\n  server s 127.0.0.1:${srv.port}\n`,
  );
  cleanup.push(px.stop);
  const data = [pattern(3, 8 << 20), pattern(4, 8 << 20)];
  const clients = data.map((d) => {
    const c = net.connect(px.port, "127.0.0.1", () => sendSlowly(c, d, 16384));
    c.on("error", () => undefined);
    return c;
  });
  while (ends.length < 2) await new Promise((r) => setTimeout(r, 5));
  await Promise.all(ends);
  const got = [...received.values()].map((chunks) => Buffer.concat(chunks));
  assert.equal(got.length, 2);
  assert.ok(
    got.every((g) => g.equals(data[0]!) || g.equals(data[1]!)) && !got[0]!.equals(got[1]!),
    "the server got other bytes than the clients sent",
  );
  for (const c of clients) c.destroy();
});

test("a paused socket stops reading at once, and goes on where it stopped when resumed", async () => {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const data = pattern(5, 4 << 20);
  const c = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1", () => c.end(data));
  cleanup.push(async () => void c.destroy());
  const [s] = await accepted;
  const chunks: Buffer[] = [];
  assert.ok(
    readIntoSharedBuffer(s, (chunk) => {
      chunks.push(chunk);
      // Backpressure as the session applies it: stop after the first read.
      if (chunks.length === 1) s.pause();
    }),
  );
  s.resume();
  await waitFor(() => chunks.length > 0, 2000, "the first read");
  const paused = s.bytesRead;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(chunks.length, 1);
  assert.equal(s.bytesRead, paused, "nothing read while paused");
  const ended = once(s, "end");
  s.resume();
  await ended;
  assert.ok(Buffer.concat(chunks).equals(data));
});

test("a socket already reading is left to 'data' events", async () => {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const c = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1", () => c.end("hello"));
  cleanup.push(async () => void c.destroy());
  const [s] = await accepted;
  assert.equal(
    readIntoSharedBuffer(s, () => assert.fail("not through the shared buffer")),
    false,
  );
  const got: Buffer[] = [];
  s.on("data", (d: Buffer) => got.push(d));
  await once(s, "end");
  assert.equal(Buffer.concat(got).toString(), "hello");
});
