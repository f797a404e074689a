// A connection to a server. Whichever session owns it now gets its events, so that handing a
// kept-alive connection from one request to the next, or through the idle pool, costs nothing. An
// idle connection has no owner: any sign of life from the server (data, FIN, error) then simply
// closes it.
import type { RtServer } from "./backend.js";
import { TcpSocket, type SockAddr } from "../util/tcp-socket.js";
import { closeAsHaproxy } from "../util/close.js";

/** What a session does with events of the server connection it owns. */
export interface ConnOwner {
  onServerConnect(): void;
  onServerData(chunk: Buffer): void;
  onServerEnd(): void;
  onServerClose(): void;
  onServerDrain(): void;
}

export class ServerConn extends TcpSocket {
  owner: ConnOwner | null;
  /** It has carried a second request: proof that the server keeps connections (http-reuse aggressive). */
  reused = false;
  /** Its session keeps it for itself (it carries an NTLM or Negotiate authentication). */
  boundToSession = false;
  /** Its own address, once asked for (%bi, %bp). */
  private sourceAddr: SockAddr | undefined;

  constructor(
    readonly server: RtServer,
    owner: ConnOwner,
  ) {
    super();
    this.owner = owner;
    if (server.backend.px.srvTcpKa) this.setKeepAlive(true);
    this.connect(server.address, server.port, server.source);
  }

  /** Its own address (asked of the kernel once). */
  source(): SockAddr {
    return (this.sourceAddr ??= this.local());
  }

  /** Ends the connection as haproxy does (closeAsHaproxy). */
  close(): void {
    closeAsHaproxy(this);
  }

  get usable(): boolean {
    return !this.destroyed && !this.writableEnded && !this.readableEnded;
  }

  protected override onConnect(): void {
    this.owner?.onServerConnect();
  }

  protected onData(chunk: Buffer): void {
    if (this.owner) this.owner.onServerData(chunk);
    else this.close();
  }

  protected onEnd(): void {
    if (this.owner) this.owner.onServerEnd();
    else this.close();
  }

  protected onClose(): void {
    const owner = this.owner;
    this.owner = null;
    removeIdle(this);
    owner?.onServerClose();
  }

  protected onDrain(): void {
    this.owner?.onServerDrain();
  }
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
  if (c.isPaused()) c.resume();
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
