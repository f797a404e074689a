// A client's connection. It is accepted before it has a session (past maxconn it waits, unread);
// once its session starts, every event goes to it. Before that, a bind with accept-proxy reads the
// PROXY protocol header (a greeting); after a silent drop, what SilentDrops makes of its events.
import type { Session } from "./session.js";
import type { Endpoint } from "./proxy-protocol.js";
import type { StkCtrs } from "../stick/track.js";
import type { ListenerState } from "../acl/context.js";
import { TcpSocket, type SockAddr, type TcpHandle } from "../util/tcp-socket.js";
import type { Ends } from "./client-ends.js";

/**
 * A bind's listening socket: its number, its name, the connections it has now (dst_conn), and those
 * accepted and waiting unread for a slot, which stand for its kernel's queue of `backlog`.
 */
export class BindState implements ListenerState {
  cur = 0;
  waiting = 0;
  constructor(
    readonly id: number,
    readonly name: string | undefined,
    /** Its own `maxconn`; 0: none, its frontend's and the global one still apply. */
    readonly maxconn: number,
    readonly backlog: number,
  ) {}

  /** At its own maxconn: haproxy stops accepting on it until one of its connections ends. */
  full(): boolean {
    return this.maxconn > 0 && this.cur >= this.maxconn;
  }

  /** haproxy names an unnamed listener by its number in log lines. */
  get logName(): string {
    return this.name ?? String(this.id);
  }
}

/** What hears of a connection without a session: its PROXY header before one, a silent drop after. */
export interface Greeting {
  onData(chunk: Buffer): void;
  onEnd(): void;
  onClose(): void;
}

export class ClientSocket extends TcpSocket {
  session: Session | undefined;
  greeting: Greeting | undefined;
  /** It must send a PROXY protocol header first (accept-proxy, tcp-request connection expect-proxy). */
  mustGreet = false;
  /** When a connection that had to send a PROXY header was accepted, before its header came. */
  acceptedAt: number | undefined;
  /** The addresses a PROXY protocol header gave, standing for the socket's own. */
  proxied: { src?: Endpoint; dst?: Endpoint } | undefined;
  /** Bytes that came after the greeting, for the session. */
  early: Buffer | undefined;
  /** What its connection's rules track, made when the configuration has stick tables. */
  stk: StkCtrs | undefined;
  /**
   * After the session: the time the client has to take our last bytes and close (a lingering
   * close), or the time a silently dropped connection is kept.
   */
  linger: NodeJS.Timeout | undefined;

  constructor(
    handle: TcpHandle,
    /** The bind it came in by. */
    readonly listener: BindState,
  ) {
    super(handle);
  }

  /** What tcp-request connection set-src and set-dst made of the connection's own ends. */
  private moved: { src: SockAddr; dst: SockAddr } | undefined;

  /** A connection's rules changed its ends: they stand for the socket's own from now on (fc_src too). */
  moveEnds(e: Ends): void {
    this.moved = { src: { address: e.src, port: e.srcPort }, dst: { address: e.dst, port: e.dstPort } };
  }

  override peer(): SockAddr {
    return this.moved?.src ?? super.peer();
  }

  override local(): SockAddr {
    return this.moved?.dst ?? super.local();
  }

  /** Who the client is: the source a PROXY header gave, else the socket's peer. */
  source(): SockAddr {
    return this.proxied?.src ?? this.peer();
  }

  /** What the client connected to: the destination a PROXY header gave, else the socket's own address. */
  destination(): SockAddr {
    return this.proxied?.dst ?? this.local();
  }

  protected onData(chunk: Buffer): void {
    if (this.greeting) return this.greeting.onData(chunk);
    this.session!.onClientData(chunk);
  }

  protected onEnd(): void {
    if (this.greeting) return this.greeting.onEnd();
    this.session!.onClientEnd();
  }

  protected onClose(): void {
    if (this.linger) clearTimeout(this.linger);
    if (this.greeting) return this.greeting.onClose();
    this.session?.onClientClose();
  }

  protected onDrain(): void {
    this.session!.onClientDrain();
  }
}
