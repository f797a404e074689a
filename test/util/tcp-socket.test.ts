// Sockets on libuv's handles: a listener's accepted connections read into the shared buffer, and
// every chunk they hand over stays intact while later reads land there; pausing stops reading at
// once; a listener that cannot listen says why.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Listener, TcpSocket, type SockAddr, type TcpHandle } from "../../src/util/tcp-socket.js";
import * as clock from "../../src/util/clock.js";
import { pattern, sendSlowly, waitFor } from "../helpers/harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** An accepted connection that keeps what it reads; `onChunk` sees each read as it comes. */
class Collector extends TcpSocket {
  readonly chunks: Buffer[] = [];
  readonly ended: Promise<void>;
  /** What onClose does: it hears of the close. */
  closeSeen: () => void = () => undefined;
  private onEnded!: () => void;
  constructor(
    handle: TcpHandle,
    private readonly onChunk: (c: Collector) => void = () => undefined,
  ) {
    super(handle);
    this.ended = new Promise((r) => (this.onEnded = r));
  }
  protected onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.onChunk(this);
  }
  protected onEnd(): void {
    this.onEnded();
    this.destroy();
  }
  protected onClose(): void {
    this.closeSeen();
  }
  protected onDrain(): void {}
}

/** A listener on 127.0.0.1 whose connections become Collectors, `onAccept` seeing each before it reads. */
function listening(
  onChunk?: (c: Collector) => void,
  onAccept: (c: Collector) => void = () => undefined,
): {
  port: number;
  accepted: Collector[];
  peers: SockAddr[];
  locals: SockAddr[];
} {
  const accepted: Collector[] = [];
  const peers: SockAddr[] = [];
  const locals: SockAddr[] = [];
  const l = new Listener(
    (h) => {
      const c = new Collector(h, onChunk);
      accepted.push(c);
      peers.push(c.peer());
      locals.push(c.local());
      onAccept(c);
      c.resume();
    },
    (code) => assert.fail(`accept failed: ${code}`),
  );
  assert.equal(l.listen({ address: "127.0.0.1", port: 0 }, 16), undefined);
  cleanup.push(() => l.close());
  return { port: l.address().port, accepted, peers, locals };
}

test("accepted sockets read into the shared buffer, and every chunk they hand over is their own", async () => {
  const { port, accepted, peers, locals } = listening();
  const data = [pattern(1), pattern(2)];
  const clientAddrs: string[] = [];
  for (const d of data) {
    const c = net.connect(port, "127.0.0.1", () => {
      clientAddrs.push(`${c.localAddress}:${c.localPort}`);
      sendSlowly(c, d);
    });
    cleanup.push(() => void c.destroy());
  }
  await waitFor(() => accepted.length === 2, 2000, "two connections");
  await Promise.all(accepted.map((c) => c.ended));
  const received = accepted.map(({ chunks }) => {
    assert.ok(chunks.length > 4, `only ${chunks.length} reads`);
    return Buffer.concat(chunks);
  });
  // Connections may be accepted in either order.
  assert.ok(
    (received[0]!.equals(data[0]!) && received[1]!.equals(data[1]!)) ||
      (received[0]!.equals(data[1]!) && received[1]!.equals(data[0]!)),
    "a chunk changed after it was handed over",
  );
  // Each side's address, as the session reads them for its log and its ACLs.
  assert.deepEqual(peers.map((p) => `${p.address}:${p.port}`).sort(), clientAddrs.sort());
  assert.deepEqual(
    locals.map((l) => `${l.address}:${l.port}`),
    [`127.0.0.1:${port}`, `127.0.0.1:${port}`],
  );
});

test("a paused socket stops reading at once, and goes on where it stopped when resumed", async () => {
  // Backpressure as the session applies it: stop after the first read.
  const { port, accepted } = listening((c) => {
    if (c.chunks.length === 1) c.pause();
  });
  const data = pattern(5, 4 << 20);
  const client = net.connect(port, "127.0.0.1", () => client.end(data));
  cleanup.push(() => void client.destroy());
  await waitFor(() => accepted[0]?.chunks.length === 1, 2000, "the first read");
  const s = accepted[0]!;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.chunks.length, 1, "nothing read while paused");
  assert.equal(s.isPaused(), true);
  s.resume();
  await s.ended;
  assert.ok(Buffer.concat(s.chunks).equals(data));
});

test("a listener that cannot listen gives the error code: a port in use, a descriptor that is no TCP socket", async () => {
  const taken = net.createServer().listen(0, "127.0.0.1");
  await once(taken, "listening");
  cleanup.push(() => new Promise<void>((r) => taken.close(() => r())));
  const noop = (): void => undefined;
  const l = new Listener(noop, noop);
  assert.equal(
    l.listen({ address: "127.0.0.1", port: (taken.address() as net.AddressInfo).port }, 16),
    "EADDRINUSE",
  );
  l.close();
  // The listener owns the descriptor once it has opened it: its close() closes it.
  const f = new Listener(noop, noop);
  assert.equal(f.listen({ fd: fs.openSync(process.execPath, "r") }, 16), "ENOTSOCK");
  f.close();
});

/** Spins for `ms` milliseconds of wall time. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

test("a read's callback reads the clock once: all it does sees that time, the next read a new one", async () => {
  const readings: [number, number][] = [];
  const { port } = listening(() => {
    const first = clock.now();
    busy(20);
    readings.push([first, clock.now()]);
  });
  const c = net.connect(port, "127.0.0.1");
  cleanup.push(() => void c.destroy());
  await once(c, "connect");
  c.write("a");
  await waitFor(() => readings.length === 1, 2000, "the first read");
  c.end("b");
  await waitFor(() => readings.length === 2, 2000, "the second read");
  for (const [first, later] of readings) assert.equal(later, first, "the clock moved within one callback");
  assert.ok(
    readings[1]![0] >= readings[0]![0] + 20,
    `the second read saw ${readings[1]![0] - readings[0]![0]} ms later`,
  );
  // Outside the event loop's callbacks, the time is read at each use.
  const before = clock.now();
  busy(20);
  assert.ok(clock.now() >= before + 20);
});

test("a socket's owner hears of its close once the code that closed it has returned, inside a callback or not", async () => {
  const events: string[] = [];
  const { port, accepted } = listening((c) => {
    c.closeSeen = () => events.push("read's close");
    process.nextTick(() => events.push("tick"));
    c.destroy();
    events.push("read returns");
  });
  const clients = [1, 2, 3].map(() => net.connect(port, "127.0.0.1"));
  for (const c of clients) cleanup.push(() => void c.destroy());
  await waitFor(() => accepted.length === 3, 2000, "three connections");
  clients[0]!.write("a");
  await waitFor(() => events.length === 3, 2000, "the reading socket's close");
  // Told when the read's callback ends, before the ticks it queued, even one queued before the close.
  assert.deepEqual(events, ["read returns", "read's close", "tick"]);
  // From a timer, told on the next tick; and a close told may close another, told in the same turn.
  const [a, b] = accepted.filter((c) => !c.destroyed);
  events.length = 0;
  a!.closeSeen = () => {
    events.push("a's close");
    b!.destroy();
    events.push("a's close returns");
  };
  b!.closeSeen = () => events.push("b's close");
  setTimeout(() => {
    a!.destroy();
    events.push("timer returns");
  }, 1);
  await waitFor(() => events.length === 4, 2000, "both closes");
  assert.deepEqual(events, ["timer returns", "a's close", "a's close returns", "b's close"]);
});

/**
 * What a relaying socket writes its reads to: it keeps every chunk as a write still waiting for the
 * kernel would (writableLength says so), or, `atOnce`, takes each whole at once, as the kernel mostly does.
 */
class Relayed extends TcpSocket {
  readonly chunks: Buffer[] = [];
  readonly copies: Buffer[] = [];
  constructor(private readonly atOnce: boolean) {
    super();
  }
  override write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    // Taken at once: only a copy of the bytes may outlive the call.
    if (this.atOnce) this.copies.push(Buffer.from(chunk));
    return true;
  }
  override get writableLength(): number {
    return this.atOnce ? 0 : this.chunks.reduce((n, c) => n + c.length, 0);
  }
  protected onData(): void {}
  protected onEnd(): void {}
  protected onClose(): void {}
  protected onDrain(): void {}
}

/** A client sends `data` to an accepted socket that relays to `target` from its first read; resolves once all is read. */
async function relayThrough(target: TcpSocket, data: Buffer): Promise<void> {
  const { port, accepted } = listening(
    (c) => target.write(c.chunks.pop()!),
    (c) => c.relayTo(target),
  );
  const client = net.connect(port, "127.0.0.1", () => client.end(data));
  cleanup.push(() => void client.destroy());
  await waitFor(() => accepted.length === 1, 2000, "the connection");
  await accepted[0]!.ended;
}

for (const atOnce of [true, false]) {
  test(`a relaying socket reads bulk into a buffer of its own and hands it on uncopied; ${atOnce ? "written at once, the buffer serves the next read" : "a write that keeps it has it, and the socket reads into another"}`, async () => {
    const target = new Relayed(atOnce);
    cleanup.push(() => target.destroy());
    const data = pattern(7, 4 << 20);
    await relayThrough(target, data);
    const got = atOnce ? target.copies : target.chunks;
    assert.ok(Buffer.concat(got).equals(data), "every byte, in order");
    // A chunk of an own buffer is a view of its 128 KiB; copies are cut from 256 KiB slabs or Node's pool.
    const own = target.chunks.filter((c) => c.buffer.byteLength === 128 * 1024);
    assert.ok(own.length >= 8, `bulk reads went on uncopied (${own.length} of ${target.chunks.length})`);
    const buffers = new Set(own.map((c) => c.buffer));
    if (atOnce)
      assert.ok(buffers.size < own.length / 2, `own buffers reused (${buffers.size} for ${own.length})`);
    else assert.equal(buffers.size, own.length, "each kept chunk has its buffer to itself");
  });
}

/** A socket that connects to a port on 127.0.0.1 and only writes; it notes the most that waited. */
class Sink extends TcpSocket {
  readonly up: Promise<void>;
  mostWaiting = 0;
  private onConnected!: () => void;
  constructor(port: number) {
    super();
    this.up = new Promise((r) => (this.onConnected = r));
    this.connect("127.0.0.1", port);
  }
  override write(chunk: Buffer): boolean {
    const ok = super.write(chunk);
    this.mostWaiting = Math.max(this.mostWaiting, this.writableLength);
    return ok;
  }
  protected override onConnect(): void {
    this.onConnected();
  }
  protected onData(): void {}
  protected onEnd(): void {}
  protected onClose(): void {}
  protected onDrain(): void {}
}

for (const slowly of [false, true])
  test(`a relaying socket that goes on reading while its writes wait for a server that ${slowly ? "reads slowly" : "reads nothing yet"}: every byte, in order`, async () => {
    // The relay's writes wait, holding views of the own buffers they were read into: later reads must
    // land elsewhere, and a buffer that comes back once its write is done serves again unspoilt.
    const received: Buffer[] = [];
    let serverSide: net.Socket | undefined;
    const server = net.createServer((s) => {
      serverSide = s;
      s.on("data", (d: Buffer) => {
        received.push(d);
        s.pause();
        setTimeout(() => s.resume(), 2);
      });
      if (!slowly) s.pause();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const sink = new Sink((server.address() as net.AddressInfo).port);
    cleanup.push(() => sink.destroy());
    await sink.up;
    const data = pattern(9, 8 << 20);
    await relayThrough(sink, data);
    assert.ok(sink.mostWaiting > 1 << 20, `writes waited (at most ${sink.mostWaiting} bytes)`);
    const ended = once(serverSide!, "end");
    sink.end();
    serverSide!.resume();
    await ended;
    assert.ok(Buffer.concat(received).equals(data), "every byte, in order");
  });

const TCP_SOCKET = fileURLToPath(new URL("../../src/util/tcp-socket.js", import.meta.url));

/**
 * In a fresh node: a socket relays 4 MiB, and a tick queued during its first bulk read throws, as that
 * read's callback returns naming the handle's next buffer; `guard` calls readInDoubt on the uncaught
 * exception, as sluice.ts does. Tells whether the socket was stopped and whether what it relayed was
 * the client's bytes.
 */
function tickThrowsAsBufferChanges(guard: boolean): { stopped: boolean; intact: boolean; relayed: number } {
  const script = `
    import net from "node:net";
    import { randomBytes } from "node:crypto";
    import { Listener, TcpSocket, readInDoubt } from ${JSON.stringify(TCP_SOCKET)};
    const got = [];
    class Target extends TcpSocket {
      write(c) { got.push(Buffer.from(c)); return true; }
      get writableLength() { return 0; }
      onData() {} onEnd() {} onClose() {} onDrain() {}
    }
    const target = new Target();
    let thrown = false;
    class Reader extends TcpSocket {
      onData(chunk) {
        target.write(chunk);
        if (thrown || chunk.length < 16384) return;
        thrown = true;
        process.nextTick(() => { throw new Error("a tick's bug"); });
      }
      onEnd() { finish(false); }
      onClose() { finish(true); }
      onDrain() {}
    }
    process.on("uncaughtException", () => { if (${guard}) readInDoubt(); });
    const l = new Listener((h) => { const r = new Reader(h); r.relayTo(target); r.resume(); }, () => {});
    l.listen({ address: "127.0.0.1", port: 0 }, 16);
    const data = randomBytes(4 << 20);
    const c = net.connect(l.address().port, "127.0.0.1", () => c.end(data));
    c.on("error", () => {});
    function finish(stopped) {
      const all = Buffer.concat(got);
      process.stdout.write(JSON.stringify({ stopped, intact: all.equals(data.subarray(0, all.length)), relayed: all.length }));
      process.exit(0);
    }
    setTimeout(() => finish(false), 5000);`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, NODE_OPTIONS: "" },
    timeout: 15_000,
  });
  return JSON.parse(String(out)) as { stopped: boolean; intact: boolean; relayed: number };
}

test("a tick that throws as a read callback names the next buffer makes Node drop the name: readInDoubt stops the socket before it relays a wrong byte", () => {
  const unguarded = tickThrowsAsBufferChanges(false);
  // What the guard is for: the handle went on reading into the shared buffer, the socket looked elsewhere.
  assert.equal(
    unguarded.intact,
    false,
    `without the guard the relayed bytes stay right: ${JSON.stringify(unguarded)}`,
  );
  const guarded = tickThrowsAsBufferChanges(true);
  assert.equal(guarded.stopped, true, JSON.stringify(guarded));
  assert.equal(guarded.intact, true, JSON.stringify(guarded));
});
