// The server connection object on its own: how it ends, how it reads, how its idle pool is purged.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { ServerConn, purgeIdle, IDLE_PURGE_MS, type ConnOwner } from "../../src/proxy/server-conn.js";
import type { RtServer } from "../../src/proxy/backend.js";
import { closedPort, pattern, rawServer, sendSlowly, sleep, waitFor } from "../helpers/harness.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** Just enough of a server for a connection: where it is, and an idle pool. */
const fakeServer = (port: number, address = "127.0.0.1"): RtServer =>
  ({ address, port, backend: { px: { srvTcpKa: false } }, idle: [] }) as unknown as RtServer;

/** An owner whose connect and close can be awaited. */
function owner(): ConnOwner & { connected: Promise<void>; closed: Promise<void> } {
  let onConnect!: () => void;
  let onClose!: () => void;
  return {
    connected: new Promise((r) => (onConnect = r)),
    closed: new Promise((r) => (onClose = r)),
    onServerConnect: () => onConnect(),
    onServerData: () => undefined,
    onServerEnd: () => undefined,
    onServerClose: () => onClose(),
    onServerDrain: () => undefined,
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} in ${ms} ms`)), ms).unref()),
  ]);

test("closing while our FIN is pending closes for real (an RST cannot follow a pending shutdown)", async () => {
  const srv = await rawServer(() => undefined);
  cleanup.push(srv.close);
  for (let i = 0; i < 3; i++) {
    const o = owner();
    const c = new ServerConn(fakeServer(srv.port), o);
    await within(o.connected, 2000, "connect");
    c.end();
    c.close();
    await within(o.closed, 2000, "close");
    assert.equal(c.error, undefined);
  }
});

test("each chunk read from a server stays intact after later reads (they share one read buffer)", async () => {
  // Small writes a turn of the loop apart: the connections' reads interleave, many per connection.
  const conns = await Promise.all(
    [1, 2].map(async (seed) => {
      const data = pattern(seed);
      const srv = await rawServer((s) => sendSlowly(s, data));
      cleanup.push(srv.close);
      // The owner keeps every chunk, as a session does while a slow client holds it in a pending write.
      const chunks: Buffer[] = [];
      let onEnd!: () => void;
      const ended = new Promise<void>((r) => (onEnd = r));
      const o: ConnOwner = {
        ...owner(),
        onServerData: (c) => void chunks.push(c),
        onServerEnd: () => onEnd(),
      };
      const c = new ServerConn(fakeServer(srv.port), o);
      return { data, chunks, ended, c };
    }),
  );
  for (const { data, chunks, ended, c } of conns) {
    await within(ended, 5000, "end of the server's data");
    assert.ok(chunks.length > 4, `only ${chunks.length} reads`);
    assert.ok(Buffer.concat(chunks).equals(data), "a chunk changed after it was handed over");
    c.close();
  }
});

/** A server that keeps what it reads, and tells when the connection's FIN came. */
async function collecting(): Promise<{
  port: number;
  data: Buffer[];
  fin: Promise<void>;
  socket: Promise<net.Socket>;
}> {
  const data: Buffer[] = [];
  let onFin!: () => void;
  let onSocket!: (s: net.Socket) => void;
  const fin = new Promise<void>((r) => (onFin = r));
  const socket = new Promise<net.Socket>((r) => (onSocket = r));
  const srv = await rawServer((s) => {
    s.on("data", (d: Buffer) => data.push(d));
    s.on("end", () => onFin());
    onSocket(s);
  });
  cleanup.push(srv.close);
  return { port: srv.port, data, fin, socket };
}

test("writes made while connecting go out in order, and end()'s FIN after them", async () => {
  // An IPv6 address (here one that maps 127.0.0.1) is reached too.
  for (const address of ["127.0.0.1", "::ffff:127.0.0.1"]) {
    const srv = await collecting();
    const o = owner();
    const c = new ServerConn(fakeServer(srv.port, address), o);
    assert.equal(c.write(Buffer.from("one ")), true);
    c.write(Buffer.from("two "));
    c.write(Buffer.from("three"));
    c.end();
    await within(o.connected, 2000, "connect");
    await within(srv.fin, 2000, "FIN");
    assert.equal(Buffer.concat(srv.data).toString(), "one two three");
    assert.equal(c.writableFinished, true);
    c.close();
    await within(o.closed, 2000, "close");
  }
});

/** The end of the current round of events (the loop's check phase, where held writes go). */
const roundEnd = (): Promise<void> => new Promise((r) => setImmediate(r));

test("the writes of one round go out together at its end; 16 KiB or more go at once", async () => {
  const srv = await collecting();
  const o = owner();
  const c = new ServerConn(fakeServer(srv.port), o);
  await within(o.connected, 2000, "connect");
  c.write(Buffer.from("one "));
  c.write(Buffer.from("two"));
  assert.equal(c.writableLength, 7, "held for the round's end");
  await roundEnd();
  assert.equal(c.writableLength, 0);
  await waitFor(() => srv.data.length > 0, 2000, "data");
  // One system call, one segment: the server reads both at once.
  assert.deepEqual(
    srv.data.map((d) => d.toString()),
    ["one two"],
  );
  const big = pattern(3, 20 * 1024);
  c.write(big);
  assert.ok(c.writableLength < big.length, "a large write waits for no round");
  // A close in the same round as a write sends it first.
  c.write(Buffer.from("bye"));
  c.end();
  await within(srv.fin, 2000, "FIN");
  assert.ok(Buffer.concat(srv.data).equals(Buffer.concat([Buffer.from("one two"), big, Buffer.from("bye")])));
  c.close();
  await within(o.closed, 2000, "close");
});

test("a connection given up in the round that asked for it is never made", async () => {
  let accepted = 0;
  const srv = await rawServer(() => void accepted++);
  cleanup.push(srv.close);
  const o = owner();
  const c = new ServerConn(fakeServer(srv.port), o);
  c.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  c.close();
  await within(o.closed, 2000, "close");
  // One made then would reach the listener's queue before this one, made a round later.
  const control = new ServerConn(fakeServer(srv.port), owner());
  await waitFor(() => accepted > 0, 2000, "the control connection");
  await sleep(20);
  assert.equal(accepted, 1, "only the control connection arrived");
  control.close();
});

test("an RST asked for before the connect was made closes the handle plainly (a reset needs a descriptor)", async () => {
  const srv = await rawServer(() => undefined);
  cleanup.push(srv.close);
  const handles = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;
  const before = handles();
  const o = owner();
  const c = new ServerConn(fakeServer(srv.port), o);
  assert.equal(handles(), before + 1);
  c.resetAndDestroy();
  await within(o.closed, 2000, "close");
  await waitFor(() => handles() <= before, 2000, "the handle's close");
});

test("write() says false while 16 KiB or more wait, and a drain follows once the server reads", async () => {
  const srv = await collecting();
  let drains = 0;
  let onDrain!: () => void;
  const drained = new Promise<void>((r) => (onDrain = r));
  const o = { ...owner(), onServerDrain: () => void (drains++, onDrain()) };
  const c = new ServerConn(fakeServer(srv.port), o);
  await within(o.connected, 2000, "connect");
  const s = await srv.socket;
  s.pause();
  const chunk = Buffer.alloc(64 * 1024, 1);
  let sent = 0;
  // The kernel's buffers take a few MB of a peer that does not read; then writes wait.
  for (let i = 0; i < 2000; i++) {
    sent += chunk.length;
    if (!c.write(chunk)) break;
  }
  assert.ok(c.writableLength >= 16 * 1024, `${c.writableLength} bytes waiting when write() said false`);
  assert.equal(drains, 0);
  s.resume();
  await within(drained, 5000, "drain");
  assert.equal(c.writableLength, 0);
  c.end();
  await within(srv.fin, 5000, "FIN");
  assert.equal(
    srv.data.reduce((n, d) => n + d.length, 0),
    sent,
  );
  c.close();
  await within(o.closed, 2000, "close");
});

test("after end(), the round's end sends no second shutdown: the FIN still waits for every byte", async () => {
  const srv = await collecting();
  const o = owner();
  const c = new ServerConn(fakeServer(srv.port), o);
  await within(o.connected, 2000, "connect");
  const s = await srv.socket;
  s.pause();
  // More than the kernel's buffers take from a peer that does not read: most of it waits.
  const data = pattern(7, 8 << 20);
  c.write(data);
  c.write(Buffer.from("!"));
  c.end();
  await new Promise((r) => setImmediate(r));
  assert.ok(c.writableLength > 0, "the write waits");
  assert.equal(c.writableFinished, false, "a shutdown pending is not a shutdown done");
  s.resume();
  await within(srv.fin, 5000, "FIN");
  assert.ok(Buffer.concat(srv.data).equals(Buffer.concat([data, Buffer.from("!")])));
  assert.equal(c.writableFinished, true);
  c.close();
  await within(o.closed, 2000, "close");
});

test("an RST asked for while our FIN waits behind unsent bytes closes the socket for real", async () => {
  const srv = await collecting();
  const o = owner();
  const c = new ServerConn(fakeServer(srv.port), o);
  await within(o.connected, 2000, "connect");
  (await srv.socket).pause();
  c.write(pattern(8, 8 << 20));
  c.end();
  c.resetAndDestroy();
  await within(o.closed, 2000, "close");
});

test("a refused connect closes the connection with its error code", async () => {
  const o = owner();
  let connected = false;
  const c = new ServerConn(fakeServer(await closedPort()), {
    ...o,
    onServerConnect: () => void (connected = true),
  });
  await within(o.closed, 2000, "close");
  assert.equal(c.error, "ECONNREFUSED");
  assert.equal(connected, false);
  assert.equal(c.destroyed, true);
});

test("the idle pool is purged in rounds as haproxy's: a lone connection lasts three, a burst decays", () => {
  // A server's pool state, with idle connections that only count their closes.
  const server = (idle: number, maxUsed: number) => {
    const s = {
      purgeAt: IDLE_PURGE_MS,
      cur: 0,
      maxUsed,
      estNeed: 0,
      idle: Array.from({ length: idle }, () => ({ close: () => undefined })),
    };
    return s as unknown as RtServer & typeof s;
  };
  const rounds = (s: RtServer, n: number): number[] => {
    const left: number[] = [];
    for (let k = 1; k <= n; k++) {
      purgeIdle([s], k * IDLE_PURGE_MS - 1);
      purgeIdle([s], k * IDLE_PURGE_MS);
      left.push(s.idle.length);
    }
    return left;
  };
  // One request, then nothing: haproxy 2.6 closed its connection 15 s after it went idle.
  const lone = server(1, 1);
  assert.deepEqual(rounds(lone, 4), [1, 1, 0, 0]);
  assert.equal(lone.purgeAt, 0, "no more rounds once nothing is idle");
  // Ten connections in use at once, then all idle: kept two rounds, then half the excess each.
  assert.deepEqual(rounds(server(10, 10), 7), [10, 10, 7, 4, 2, 1, 0]);
});
