// silent-drop (http-request, http-response, tcp-request connection, session and content). haproxy
// makes the client's connection vanish: with TCP_REPAIR its close sends nothing at all (else a TTL
// of 1 keeps its RST from passing the first router). Its client then sees an established connection
// for as long as it stays quiet; whatever it sends next meets an RST from haproxy's kernel, which
// has no such socket any more. Node.js can set neither option on a socket, and every close of ours
// sends a FIN or an RST. So the socket is kept, nothing leaves by it, and it is reset when the
// client sends anything or its FIN (haproxy's kernel's answer), or else, for want of a silent close,
// once the client has been quiet for the frontend's timeout client: where haproxy's client would
// wait for ever, ours meets that RST. The sockets kept are bounded: past global maxconn of them, the
// oldest goes first.
import type { ClientSocket } from "./client-socket.js";

/** How long a dropped client is kept without timeout client (haproxy's would wait for ever). */
const DEFAULT_HOLD_MS = 30_000;

export class SilentDrops {
  private readonly held = new Set<ClientSocket>();

  constructor(private readonly limit: number) {}

  /** Takes `s` from its session (if it had one): silent from now on, reset `holdMs` from now at most. */
  drop(s: ClientSocket, holdMs: number | undefined): void {
    s.session = undefined;
    // A client already gone leaves nothing to keep.
    if (s.destroyed) return;
    s.discardHeld();
    if (this.held.size >= this.limit) this.release(this.held.values().next().value!);
    this.held.add(s);
    const release = (): void => this.release(s);
    s.greeting = { onData: release, onEnd: release, onClose: () => this.held.delete(s) };
    s.linger = setTimeout(release, holdMs || DEFAULT_HOLD_MS);
    s.resume();
  }

  /** The stop: every socket kept is reset now. */
  releaseAll(): void {
    for (const s of this.held) this.release(s);
  }

  private release(s: ClientSocket): void {
    this.held.delete(s);
    clearTimeout(s.linger);
    s.resetAndDestroy();
  }
}
