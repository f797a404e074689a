// A client's connection. It is accepted before it has a session (past maxconn it waits, unread);
// once its session starts, every event goes to it.
import type { Session } from "./session.js";
import { TcpSocket } from "../util/tcp-socket.js";

export class ClientSocket extends TcpSocket {
  session: Session | undefined;
  /** After the session: the time the client has to take our last bytes and close (a lingering close). */
  linger: NodeJS.Timeout | undefined;

  protected onData(chunk: Buffer): void {
    this.session!.onClientData(chunk);
  }

  protected onEnd(): void {
    this.session!.onClientEnd();
  }

  protected onClose(): void {
    if (this.linger) clearTimeout(this.linger);
    this.session?.onClientClose();
  }

  protected onDrain(): void {
    this.session!.onClientDrain();
  }
}
