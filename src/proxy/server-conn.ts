// A connection to a server. Its socket's listeners are installed once and forward to whichever
// session owns the connection now, so that handing a kept-alive connection from one request to the
// next, or through the idle pool, costs no listener churn. An idle connection has no owner: any
// sign of life from the server (data, FIN, error) then simply closes it.
import net from "node:net";
import type { RtServer } from "./backend.js";
import { closeAsHaproxy } from "../util/close.js";
import { lastRead, readBuffer } from "../util/shared-read.js";

/** What a session does with events of the server connection it owns. */
export interface ConnOwner {
  onServerConnect(): void;
  onServerData(chunk: Buffer): void;
  onServerEnd(): void;
  onServerClose(): void;
  onServerDrain(): void;
}

const kConn = Symbol("sluice.serverConn");

/** A socket in use points to its connection; a spare one to none, so that nothing old stays alive. */
type ConnSocket = net.Socket & { [kConn]: ServerConn | undefined };

export class ServerConn {
  owner: ConnOwner | null;
  /** It has carried a second request: proof that the server keeps connections (http-reuse aggressive). */
  reused = false;
  /** The socket's error code, if it failed (EMFILE tells the runtime that descriptors ran out). */
  error: string | undefined;
  /** Closed by close() with nothing left in it: its socket may serve another connection. */
  recycle = false;
  readonly socket: ConnSocket;

  constructor(
    readonly server: RtServer,
    owner: ConnOwner,
  ) {
    this.owner = owner;
    const to = { host: server.address, port: server.port };
    const keepAlive = server.backend.px.srvTcpKa;
    let s = spare.pop();
    if (s) {
      s.setKeepAlive(keepAlive);
      s.connect(to);
    } else s = newSocket(to, keepAlive);
    s[kConn] = this;
    this.socket = s;
  }

  /**
   * Ends the connection as haproxy does (closeAsHaproxy). With `reuse`, the socket object, if
   * nothing is left in it, then serves the next connection: Node lets a socket connect again once
   * it has emitted 'close', and that spares building a stream, its states and its listeners per
   * request (http-server-close opens one connection per request).
   */
  close(reuse = false): void {
    const s = this.socket;
    this.recycle =
      reuse &&
      !s.connecting &&
      !s.destroyed &&
      !s.isPaused() &&
      s.readableLength === 0 &&
      s.writableLength === 0;
    closeAsHaproxy(s);
  }

  get usable(): boolean {
    const s = this.socket;
    return !s.destroyed && s.writable && s.readable;
  }
}

/** Closed sockets waiting to connect again; a few hundred cover the connections opened per tick. */
const spare: ConnSocket[] = [];
const SPARE_MAX = 256;

/**
 * Server sockets read into the shared buffer (util/shared-read.ts). The option is read by the
 * socket's constructor, which net.connect calls (socket.connect ignores it); a spare socket keeps
 * it when it connects again.
 */
const READ: net.OnReadOpts = { buffer: readBuffer, callback: onRead };

function newSocket(to: { host: string; port: number }, keepAlive: boolean): ConnSocket {
  const s = net.connect({ ...to, allowHalfOpen: true, noDelay: true, keepAlive, onread: READ }) as ConnSocket;
  s.on("connect", onConnect);
  s.on("end", onEnd);
  s.on("close", onClose);
  s.on("drain", onDrain);
  s.on("error", onError);
  return s;
}

/** The connection of a socket in use: only those have a handle to emit events. */
function conn(s: net.Socket): ServerConn {
  return (s as ConnSocket)[kConn]!;
}

function onConnect(this: net.Socket): void {
  conn(this).owner?.onServerConnect();
}

function onRead(this: net.Socket, n: number): boolean {
  const c = conn(this);
  if (c.owner) c.owner.onServerData(lastRead(n));
  else c.close();
  return true;
}

function onEnd(this: net.Socket): void {
  const c = conn(this);
  if (c.owner) c.owner.onServerEnd();
  else c.close();
}

function onClose(this: net.Socket): void {
  const c = conn(this);
  const owner = c.owner;
  c.owner = null;
  removeIdle(c);
  owner?.onServerClose();
  if (c.recycle && spare.length < SPARE_MAX && c.error === undefined) {
    c.socket[kConn] = undefined;
    spare.push(c.socket);
  }
}

function onDrain(this: net.Socket): void {
  conn(this).owner?.onServerDrain();
}

function onError(this: net.Socket, err: NodeJS.ErrnoException): void {
  // 'close' follows and tells the owner; the code says why.
  conn(this).error = err.code;
}

function removeIdle(c: ServerConn): void {
  const idle = c.server.idle;
  const i = idle.indexOf(c);
  if (i >= 0) idle.splice(i, 1);
}

/** The interval of the idle pool's purge rounds (haproxy's pool-purge-delay default). */
export const IDLE_PURGE_MS = 5000;

/** Puts an owned, healthy connection in its server's idle pool. */
export function park(c: ServerConn): void {
  c.owner = null;
  // The first idle connection starts the server's purge rounds.
  if (c.server.purgeAt === 0) c.server.purgeAt = Date.now() + IDLE_PURGE_MS;
  // It may have been paused for backpressure: an idle connection must see the server's FIN.
  // (resume() on a flowing socket is not free: it schedules a read.)
  if (c.socket.isPaused()) c.socket.resume();
  c.server.idle.push(c);
}

/**
 * Takes the most recently parked live connection of `server` (only one that was already reused
 * when `provenOnly`), or undefined.
 */
export function unpark(server: RtServer, owner: ConnOwner, provenOnly: boolean): ServerConn | undefined {
  const idle = server.idle;
  for (let i = idle.length - 1; i >= 0; i--) {
    const c = idle[i]!;
    if (!c.usable) {
      idle.splice(i, 1);
      c.close();
      continue;
    }
    if (provenOnly && !c.reused) continue;
    if (i === idle.length - 1) idle.pop();
    else idle.splice(i, 1);
    c.owner = owner;
    c.reused = true;
    return c;
  }
  return undefined;
}

/**
 * Runs the purge rounds that are due, as haproxy 2.6 does every pool-purge-delay for a server with
 * idle connections: it closes half (rounded up) of those beyond what is needed, the need being the
 * most connections in use since the last round, or the estimate of it, which decays by half each
 * round. A lone idle connection thus outlives three rounds (about 15 s).
 */
export function purgeIdle(servers: Iterable<RtServer>, now: number): void {
  for (const s of servers) {
    if (s.purgeAt === 0 || now < s.purgeAt) continue;
    const idle = s.idle;
    if (idle.length > 0) {
      const exceed = s.cur + idle.length - Math.max(s.maxUsed, s.estNeed);
      s.estNeed = Math.max(Math.floor((s.estNeed + s.maxUsed) / 2), s.maxUsed);
      s.maxUsed = s.cur;
      // Oldest first: the pool is a stack, so the stale ones sit at the bottom.
      if (exceed > 0) for (const c of idle.splice(0, Math.ceil(exceed / 2))) c.close();
    }
    // Due IDLE_PURGE_MS after this one was due: the runtime's one-second ticks add no drift.
    s.purgeAt = idle.length > 0 ? s.purgeAt + IDLE_PURGE_MS : 0;
  }
}
