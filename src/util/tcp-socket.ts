// TCP connections on Node's libuv handles themselves rather than through net.Socket. A proxy writes
// each chunk on as it comes and reads into one shared buffer (or, relaying bulk, one of the socket's
// own: shared-read.ts): it needs none of the stream machinery
// (two stream states, events, ticks) that a net.Socket builds around each connect, read, write and
// close, and with a connection per request (http-server-close) that machinery cost more than the
// proxy's own work. What the proxy does need of it is kept, in net.Socket's words: write() says
// false past a high-water mark and a drain follows, end() is a shutdown after the pending writes,
// pause() and resume(), a plain close or an RST, and a socket whose two sides have ended closes by
// itself (allowHalfOpen). Node 20 gives its handles to `process.binding`.
//
// What a round of events asks for goes out at its end, as in haproxy, whose tasks run once its
// poller has gathered every ready connection: libuv hands the proxy all the connections that are
// ready at once, one callback each, and the writes and connects they cause wait for the last of
// them (setImmediate: the loop's check phase, right after its I/O callbacks). A peer then gets a
// round's segments together instead of one every few tens of microseconds, and is woken less
// often to read them: on this 2-core machine that took about a fifth off the proxy's CPU per
// server-close request (bench/README.md, stop 26). A write of 16 KiB or more goes at once, so that
// bulk transfers hold no more than before.

// process as an import: the global is a getter, a call at each use on the data path.
import process from "node:process";
import type { AddressInfo } from "node:net";
import { getSystemErrorName } from "node:util";
import { readFileSync } from "node:fs";
import { holdClock, releaseClock } from "./clock.js";
import {
  BULK_READ,
  giveBackOwnBuffer,
  lastRead,
  lendOwnBuffer,
  readBuffer,
  takeOwnBuffer,
  writeDone,
} from "./shared-read.js";
import { empty } from "./array.js";
import { sockets } from "./descriptors.js";

interface Req {
  oncomplete: (this: Req, status: number, handle: TcpHandle) => void;
  handle?: TcpHandle;
  buffer?: Buffer | Buffer[];
  bytes?: number;
}

/** An address and port, resolved: where a connection goes, or leaves from. */
export interface Endpoint {
  address: string;
  port: number;
}

interface Destination extends Endpoint {
  source: Endpoint | undefined;
}

/** An address as the handle reports it. */
export interface SockAddr {
  address?: string;
  family?: string;
  port?: number;
}

/** The part of a libuv TCP handle (Node's TCPWrap) this module uses; methods return 0 or -errno. */
export interface TcpHandle {
  [kSocket]: TcpSocket;
  onread: (this: TcpHandle) => Buffer | undefined;
  onconnection: (this: TcpHandle, err: number, client?: TcpHandle) => void;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  open(fd: number): number;
  listen(backlog: number): number;
  getsockname(out: SockAddr): number;
  getpeername(out: SockAddr): number;
  connect(req: Req, address: string, port: number): number;
  connect6(req: Req, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  setKeepAlive(on: boolean, delaySecs: number): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: Req, buf: Buffer): number;
  writev(req: Req, bufs: Buffer[], allBuffers: true): number;
  shutdown(req: Req): number;
  close(): void;
  reset(): number;
}

type ReqClass = new () => Req;

/** libuv's -EINVAL. */
const UV_EINVAL = -22;

const binding = (name: string): unknown =>
  (process as unknown as { binding(name: string): unknown }).binding(name);
const tcpWrap = binding("tcp_wrap") as {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: ReqClass;
  constants: { SOCKET: number; SERVER: number };
};
const streamWrap = binding("stream_wrap") as {
  WriteWrap: ReqClass;
  ShutdownWrap: ReqClass;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
};
const { TCP, TCPConnectWrap } = tcpWrap;
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = streamWrap;
const UV_EOF = (binding("uv") as { UV_EOF: number }).UV_EOF;
const UV_ENOTCONN = (binding("uv") as { UV_ENOTCONN: number }).UV_ENOTCONN;

/**
 * net.Socket's default, 16 KiB: write() says false once this much waits to be written. It is also a
 * bulk read's size, whose write then goes at once, never held for the round's end (readBytes counts on it).
 */
const HIGH_WATER = BULK_READ;

const kSocket = Symbol("sluice.tcpSocket");

/** A connection: accepted by a Listener, or opened with connect(). */
export abstract class TcpSocket {
  connecting: boolean;
  destroyed = false;
  /** The peer's FIN has been read. */
  readableEnded = false;
  /** end() was called: our FIN goes once the writes before it are out. */
  writableEnded = false;
  /** Our FIN is out. */
  writableFinished = false;
  /** The socket's error code, if it failed (EMFILE tells the runtime that descriptors ran out). */
  error: string | undefined;
  /** connect() could not bind to its source address: the failure is ours, not the server's. */
  unbound = false;
  private readonly handle: TcpHandle;
  private paused: boolean;
  /** Bytes handed to the kernel's queue by writes not complete yet. */
  private pending = 0;
  private needDrain = false;
  /** Writes not handed to the kernel yet (while connecting, or until the round ends), and their size. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  /** In the list of sockets with work for the round's end. */
  private due = false;
  /** Where to connect at the round's end. */
  private dest: Destination | undefined;
  /** Our shutdown request is out: its FIN follows the writes before it. */
  private shuttingDown = false;
  /** SO_KEEPALIVE asked for before the socket had its descriptor (applied once connected). */
  private keepAlive = false;
  /**
   * The socket that what this one reads is written to, and nothing else keeps: the other side of a
   * tunnel, or the client a response body streams to.
   */
  private relay: TcpSocket | undefined;
  /** The handle reads into this buffer of the socket's own, not the shared one, while reads are bulk. */
  private own: Buffer | undefined;

  /** Only a socket made to connect gets one. */
  protected onConnect(): void {}
  protected abstract onData(chunk: Buffer): void;
  protected abstract onEnd(): void;
  protected abstract onClose(): void;
  protected abstract onDrain(): void;

  /**
   * A connection accepted by a Listener, which reads nothing until resume() (net.Server's
   * pauseOnConnect), or without one, a socket for connect().
   */
  constructor(accepted?: TcpHandle) {
    const h = accepted ?? new TCP(tcpWrap.constants.SOCKET);
    h[kSocket] = this;
    h.onread = onRead;
    // Before the descriptor exists, libuv keeps this and applies it when it opens one.
    h.setNoDelay(true);
    h.useUserBuffer(readBuffer);
    this.handle = h;
    this.connecting = accepted === undefined;
    this.paused = accepted !== undefined;
    sockets.open++;
  }

  /**
   * Connects to a resolved address, from `source` when given, once this round of events ends;
   * onConnect, or onClose with `error` set, tells how it went.
   */
  protected connect(address: string, port: number, source?: Endpoint): void {
    this.dest = { address, port, source };
    this.atRoundEnd();
  }

  private connectNow({ address, port, source }: Destination): void {
    const req = new TCPConnectWrap();
    req.oncomplete = afterConnect;
    const h = this.handle;
    if (source) {
      const from = source.address;
      const v6 = from.includes(":");
      // A source of the other family cannot be bound to this connection's socket, as in haproxy.
      const err =
        v6 !== address.includes(":")
          ? UV_EINVAL
          : v6
            ? h.bind6(from, source.port, 0)
            : h.bind(from, source.port);
      if (err !== 0) {
        this.unbound = true;
        return this.fail(err);
      }
    }
    // Only an IPv6 address has a colon (net.isIPv6 runs a long regular expression).
    const err = address.includes(":") ? h.connect6(req, address, port) : h.connect(req, address, port);
    if (err !== 0) return this.fail(err);
    // Reading from now on registers the socket with epoll once, for both the connect and the reads
    // (libuv reports no read before the connect's outcome); after the connect it would take two
    // calls, the first failing.
    if (!this.paused) h.readStart();
  }

  /**
   * SO_KEEPALIVE with the system's timings, as haproxy sets it. (Before the descriptor exists libuv
   * would keep the flag but apply its own 60 s idle time: so it waits for the connection.)
   */
  setKeepAlive(on: boolean): void {
    if (this.connecting) this.keepAlive = on;
    else this.handle.setKeepAlive(on, 0);
  }

  /**
   * From now on what this socket reads is written to `peer` and kept nowhere else, even by an owner
   * that ends the relay while it hands a chunk on; without a peer, no more. Bulk reads then go on as
   * views of a buffer of the socket's own, uncopied.
   */
  relayTo(peer: TcpSocket | undefined): void {
    this.relay = peer;
  }

  /** The peer's address, or an empty one once the connection has gone. */
  peer(): SockAddr {
    const out: SockAddr = {};
    this.handle.getpeername(out);
    return out;
  }

  /** Our side's address. */
  local(): SockAddr {
    const out: SockAddr = {};
    this.handle.getsockname(out);
    return out;
  }

  /** Sends `buf`; false when enough waits already that the caller should hold back until onDrain. */
  write(buf: Buffer): boolean {
    // After end() or a failure, net.Socket reports an error and closes; 'close' tells the owner.
    if (this.destroyed || this.writableEnded) return true;
    (this.held ??= []).push(buf);
    this.heldBytes += buf.length;
    // While connecting, the writes wait for the connect; a large one need not wait for the round.
    if (!this.connecting) {
      if (this.heldBytes < HIGH_WATER) this.atRoundEnd();
      else this.flush();
    }
    const ok = this.pending + this.heldBytes < HIGH_WATER;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Half-closes, after a last write of `last` if given: the FIN follows the writes before it. */
  end(last?: Buffer): void {
    if (this.destroyed || this.writableEnded) return;
    if (last) this.write(last);
    this.writableEnded = true;
    if (!this.connecting) this.flush();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.reading()) this.handle.readStop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.reading()) this.handle.readStart();
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** Bytes written and not yet handed over to the kernel. */
  get writableLength(): number {
    return this.pending + this.heldBytes;
  }

  /** Neither ended nor failed: writes still go out. */
  get writable(): boolean {
    return !this.destroyed && !this.writableEnded;
  }

  /** A write said false and no drain has followed yet. */
  get writableNeedDrain(): boolean {
    return this.needDrain && this.writable;
  }

  /** Hands the writes held for the round's end to the kernel now (a close would drop them). */
  sendHeld(): void {
    if (!this.connecting && this.held) this.flush();
  }

  /** Closes (a FIN, unless the kernel has unread data), after the writes held for the round's end. */
  destroy(): void {
    if (this.destroyed) return;
    this.sendHeld();
    if (this.destroyed) return;
    this.letGo();
    this.handle.close();
  }

  /** Closes as resetAndDestroy does, and the writes held for the round's end never leave. */
  abort(): void {
    this.discardHeld();
    this.resetAndDestroy();
  }

  /** The writes held for the round's end never leave, and nothing more is to be written: no drain. */
  discardHeld(): void {
    this.held = undefined;
    this.heldBytes = 0;
    this.needDrain = false;
  }

  /**
   * Closes with an RST. libuv cannot reset a socket whose shutdown is pending, nor one still
   * connecting, which may have no descriptor yet (and Node's handle, once asked, can then not be
   * closed at all): those close plainly.
   */
  resetAndDestroy(): void {
    if (this.destroyed) return;
    this.sendHeld();
    if (this.destroyed) return;
    this.letGo();
    // A reset that fails leaves the handle open, reading: it closes plainly.
    if (this.connecting || (this.shuttingDown && !this.writableFinished) || this.handle.reset() !== 0)
      this.handle.close();
  }

  /**
   * The descriptor goes with the close itself; the owner hears of it once the code that closed it
   * has returned: at the end of the event loop's callback that closed it (leave()), or on the next
   * tick when no such callback runs (a timer's, say). (A close callback would cost the handle a
   * property set from C++ and a callback into JavaScript per connection; a tick per close, an
   * object with computed keys that V8 builds in its runtime.)
   */
  private letGo(): void {
    this.destroyed = true;
    sockets.open--;
    if (this.own !== undefined) {
      giveBackOwnBuffer(this.own);
      this.own = undefined;
    }
    this.held = undefined;
    this.heldBytes = 0;
    this.dest = undefined;
    if (closedSockets.push(this) === 1 && !inCallback) closesNextTick();
  }

  /** Joins the list of sockets with work for the end of this round of events. */
  private atRoundEnd(): void {
    if (this.due) return;
    this.due = true;
    if (dueSockets.push(this) === 1) setImmediate(endOfRound);
  }

  private reading(): boolean {
    return !this.readableEnded && !this.destroyed;
  }

  private send(buf: Buffer): void {
    const req = writeReq();
    this.sent(req, this.handle.writeBuffer(req, buf), buf, buf.length);
  }

  /** The held writes go, in one system call; then a FIN if end() came. */
  private flush(): void {
    if (this.destroyed) return;
    const held = this.held;
    if (held) {
      this.held = undefined;
      const bytes = this.heldBytes;
      this.heldBytes = 0;
      if (held.length === 1) this.send(held[0]!);
      else {
        const req = writeReq();
        this.sent(req, this.handle.writev(req, held, true), held, bytes);
      }
      if (this.destroyed) return;
      // Written at once: whoever was told to hold back may go on.
      if (this.needDrain && this.pending === 0) process.nextTick(drained, this);
    }
    if (this.writableEnded) this.shutdown();
  }

  /**
   * After a write: a failure closes the socket; a write the kernel could not take whole keeps its
   * buffers referenced until it completes; one taken at once gives its request object back.
   */
  private sent(req: Req, err: number, buffer: Buffer | Buffer[], bytes: number): void {
    if (err !== 0) return this.fail(err);
    if (!streamBaseState[kLastWriteWasAsync]) {
      spareWriteReq = req;
      return;
    }
    req.handle = this.handle;
    req.buffer = buffer;
    req.bytes = bytes;
    this.pending += bytes;
  }

  private shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const req = new ShutdownWrap();
    req.oncomplete = afterShutdown;
    req.handle = this.handle;
    const err = this.handle.shutdown(req);
    // 1: done at once; ENOTCONN: the server has gone, nothing to shut down (as net.Socket has it).
    if (err === 1 || err === UV_ENOTCONN) this.finished();
    else if (err !== 0) this.fail(err);
  }

  private finished(): void {
    this.writableFinished = true;
    if (this.readableEnded) this.destroy();
  }

  private fail(code: number): void {
    this.error ??= getSystemErrorName(code);
    this.destroy();
  }

  /** @internal The round of events ends: the connect, or the writes held for it, go now. */
  roundEnds(): void {
    this.due = false;
    if (this.destroyed) return;
    const dest = this.dest;
    if (dest) {
      this.dest = undefined;
      this.connectNow(dest);
    } else if (!this.connecting) this.flush();
  }

  // The handle's callbacks, through the module functions below that find the socket.

  /** @internal */
  connected(status: number): void {
    if (this.destroyed) return;
    if (status < 0) return this.fail(status);
    this.connecting = false;
    if (this.keepAlive) this.handle.setKeepAlive(true, 0);
    this.flush();
    this.onConnect();
  }

  /**
   * @internal What the handle read: `n` bytes, or 0, or an error. Returns the buffer the handle is to
   * read into from now on, when it changes.
   */
  read(n: number): Buffer | undefined {
    if (this.destroyed) return;
    if (n > 0) return this.readBytes(n);
    // 0 is libuv's EAGAIN: nothing this time.
    if (n === 0) return;
    if (n !== UV_EOF) {
      this.fail(n);
      return;
    }
    this.readableEnded = true;
    this.onEnd();
    if (this.writableFinished) this.destroy();
  }

  private readBytes(n: number): Buffer | undefined {
    const own = this.own;
    if (own === undefined) {
      this.onData(lastRead(n));
      // Relayed bulk: the next reads go to a buffer of the socket's own, and on without a copy.
      if (n >= BULK_READ && this.relay !== undefined && !this.destroyed) return (this.own = takeOwnBuffer());
      return;
    }
    // Out of this.own while its bytes are handed on, so that a close meanwhile does not give it back.
    this.own = undefined;
    if (n < BULK_READ || this.relay === undefined) {
      // The bulk has passed, or the relay: the buffer goes back, and the shared one is read into again.
      const chunk = lastRead(n, own);
      try {
        this.onData(chunk);
      } catch (e) {
        // Node keeps the handle reading into it (a callback that throws names no next buffer).
        if (this.destroyed) giveBackOwnBuffer(own);
        else this.own = own;
        throw e;
      }
      giveBackOwnBuffer(own);
      return readBuffer;
    }
    const relay = this.relay;
    try {
      this.onData(own.subarray(0, n));
    } catch (e) {
      // Who keeps what of the chunk is unknown, and the handle would read into it again: it stops.
      lendOwnBuffer();
      this.resetAndDestroy();
      throw e;
    }
    // Relayed and written whole at once (a write of BULK_READ is not held for the round's end): the
    // buffer is free.
    if (relay !== undefined && relay.writableLength === 0) {
      // Kept while the relay goes on; a server connection whose response ended here goes idle without.
      if (!this.destroyed && this.relay !== undefined) {
        this.own = own;
        return;
      }
      giveBackOwnBuffer(own);
      return this.destroyed ? undefined : readBuffer;
    }
    // A write waits with a view of it: the buffer is that write's now.
    lendOwnBuffer(own);
    if (this.destroyed) return;
    if (this.relay === undefined) return readBuffer;
    return (this.own = takeOwnBuffer()) ?? readBuffer;
  }

  /** @internal */
  written(req: Req, status: number): void {
    this.pending -= req.bytes!;
    writeDone(req.buffer!);
    if (this.destroyed) return;
    if (status < 0) return this.fail(status);
    if (this.pending === 0 && this.needDrain) this.drained();
  }

  /** @internal */
  shutDown(): void {
    if (!this.destroyed) this.finished();
  }

  /** @internal */
  drained(): void {
    // Once ending, no drain: net.Socket says none either.
    if (this.destroyed || this.writableEnded || !this.needDrain) return;
    this.needDrain = false;
    this.onDrain();
  }

  /** @internal */
  closed(): void {
    this.onClose();
  }
}

/**
 * A write the kernel takes whole at once never touches its request object (Node tries the write
 * before it makes the request real), so one such object serves every write until one has to wait.
 */
let spareWriteReq: Req | undefined;

function writeReq(): Req {
  const req = spareWriteReq;
  if (req) {
    spareWriteReq = undefined;
    return req;
  }
  const fresh = new WriteWrap();
  fresh.oncomplete = afterWrite;
  return fresh;
}

// Each callback from the event loop holds the clock, so that the time is read once for all it does,
// and tells the owners of the sockets it closed once it is done (enter and leave).

/** Sockets closed and not yet told, in the order they closed. */
const closedSockets: TcpSocket[] = [];

/** One of this module's callbacks from the event loop is running: its closes are told at its end. */
let inCallback = false;

/** A callback from the event loop starts; true when one was already running (it was called from it). */
function enter(): boolean {
  const was = inCallback;
  inCallback = true;
  // Only these callbacks hold the clock: it was held exactly when one was running.
  holdClock();
  return was;
}

/** A callback from the event loop ends (`was`: what enter returned): the closes it made are told. */
function leave(was: boolean): void {
  if (was) return;
  try {
    if (closedSockets.length > 0) runAll(closedSockets, tellClosed, closesNextTick);
  } catch (e) {
    // Thrown from here, it would replace whatever the callback itself threw: it goes on its own, and
    // not as a tick, which would run as the read callback returns and cancel the buffer it names.
    setImmediate(rethrow, e);
  } finally {
    inCallback = false;
    releaseClock();
  }
}

function rethrow(e: unknown): never {
  throw e;
}

/** The closes made outside the event loop's callbacks (or left by one that threw). */
function closesTick(): void {
  leave(enter());
}

function closesNextTick(): void {
  process.nextTick(closesTick);
}

function tellClosed(s: TcpSocket): void {
  s.closed();
}

function afterConnect(this: Req, status: number, handle: TcpHandle): void {
  const was = enter();
  try {
    handle[kSocket].connected(status);
  } finally {
    leave(was);
  }
}

/**
 * A socket whose read callback named the handle's next buffer, until the ticks queued meanwhile have
 * run: should one of them throw, Node drops that name, and the handle reads where the socket does not
 * look. This module's own ticks never throw; readInDoubt is for any other's.
 */
let naming: TcpSocket | undefined;

function named(): void {
  naming = undefined;
}

/** Returns the buffer the handle reads into next, when it changes (Node's onread protocol). */
function onRead(this: TcpHandle): Buffer | undefined {
  const was = enter();
  try {
    const next = this[kSocket].read(streamBaseState[kReadBytesOrError]!);
    if (next !== undefined) {
      naming = this[kSocket];
      // Microtasks run after the ticks queued before them.
      queueMicrotask(named);
    }
    return next;
  } finally {
    leave(was);
  }
}

/**
 * An exception went uncaught. Thrown by a tick as a read callback that named the handle's next buffer
 * returned, it made Node drop that name: the socket stops, before the handle reads again. (One thrown
 * by a microtask queued before `named` stops the socket too, though Node kept the name: a reset more
 * after an internal error.)
 */
export function readInDoubt(): void {
  const s = naming;
  naming = undefined;
  s?.abort();
}

function afterWrite(this: Req, status: number): void {
  const was = enter();
  try {
    this.handle![kSocket].written(this, status);
  } finally {
    leave(was);
  }
}

function afterShutdown(this: Req): void {
  const was = enter();
  try {
    this.handle![kSocket].shutDown();
  } finally {
    leave(was);
  }
}

/** Sockets with a connect or writes waiting for the round's end, in the order they asked. */
const dueSockets: TcpSocket[] = [];

function endOfRound(): void {
  const was = enter();
  try {
    runAll(dueSockets, roundEnds, nextRoundEnd);
  } finally {
    leave(was);
  }
}

function roundEnds(s: TcpSocket): void {
  s.roundEnds();
}

function nextRoundEnd(): void {
  setImmediate(endOfRound);
}

/**
 * Runs `each` on every socket of `queue`, the ones that join it meanwhile too, and empties it. Should
 * one throw, the others still go, when `later` says.
 */
function runAll(queue: TcpSocket[], each: (s: TcpSocket) => void, later: () => void): void {
  let i = 0;
  try {
    for (; i < queue.length; i++) each(queue[i]!);
  } finally {
    if (i < queue.length) {
      queue.splice(0, i + 1);
      later();
    } else empty(queue);
  }
}

/**
 * A tick, run as the callback that queued it returns: what it throws goes on its own, since a tick
 * that throws there makes Node drop the buffer a read callback named for the handle's next read.
 */
function drained(s: TcpSocket): void {
  const was = enter();
  try {
    s.drained();
  } catch (e) {
    setImmediate(rethrow, e);
  } finally {
    leave(was);
  }
}

/**
 * A listening socket. Each connection it accepts goes to `onConnection` as a handle, for a TcpSocket
 * to take (reading nothing until resumed); a failed accept (descriptors out) to `onError`.
 */
export class Listener {
  private readonly handle: TcpHandle = new TCP(tcpWrap.constants.SERVER);
  private counted = false;

  constructor(onConnection: (h: TcpHandle) => void, onError: (code: string) => void) {
    this.handle.onconnection = (err, client) => {
      const was = enter();
      try {
        if (err < 0) onError(getSystemErrorName(err));
        else if (client) onConnection(client);
      } finally {
        leave(was);
      }
    };
  }

  /**
   * Listens on a resolved address and port, or on a socket already bound and listening that the
   * process was given (`fd`); the error code when it cannot. `v6only`: an IPv6 socket's
   * IPV6_V6ONLY, the system's default when undefined.
   */
  listen(
    where: { address: string; port: number; v6only?: boolean | undefined } | { fd: number },
    backlog: number,
  ): string | undefined {
    const h = this.handle;
    let err: number;
    if ("fd" in where) {
      err = h.open(where.fd);
      // A descriptor that is no TCP socket (a file, a unix socket) has no IP address.
      if (err === 0 && !/^IPv[46]$/.test(this.address().family ?? "")) return "ENOTSOCK";
    } else if (where.address.includes(":"))
      err = h.bind6(where.address, where.port, bind6Flags(where.v6only));
    else err = h.bind(where.address, where.port);
    if (err === 0) err = h.listen(backlog);
    if (err !== 0) return getSystemErrorName(err);
    this.counted = true;
    sockets.open++;
    return undefined;
  }

  /** Where it listens (a listening socket always has an address). */
  address(): AddressInfo {
    const out: SockAddr = {};
    this.handle.getsockname(out);
    return out as AddressInfo;
  }

  close(): void {
    if (this.counted) sockets.open--;
    this.counted = false;
    this.handle.close();
  }
}

/** libuv's UV_TCP_IPV6ONLY. */
const UV_TCP_IPV6ONLY = 1;

/**
 * The flags of an IPv6 bind. libuv sets IPV6_V6ONLY either way, where haproxy without v6only or v4v6
 * leaves the system's default (net.ipv6.bindv6only): so that default is read here.
 */
export function bind6Flags(v6only: boolean | undefined): number {
  return (v6only ?? systemV6only()) ? UV_TCP_IPV6ONLY : 0;
}

function systemV6only(): boolean {
  try {
    return readFileSync("/proc/sys/net/ipv6/bindv6only", "utf8").trim() === "1";
  } catch {
    return false;
  }
}
