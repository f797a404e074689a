// How haproxy ends a connection it opened (to a server, or for a health check): it marks every
// such socket for an RST at close (SO_LINGER 0), which leaves no TIME_WAIT on the proxy's side,
// and clears the mark once it has read the peer's FIN.

/** What closeAsHaproxy needs to know of a socket: net.Socket's names. */
export interface Closable {
  readonly connecting: boolean;
  readonly destroyed: boolean;
  readonly readableEnded: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  destroy(): void;
  resetAndDestroy(): void;
}

/**
 * Closes `s` with an RST, unless the peer's FIN has been read. Our own FIN does not spare it (a
 * tunnel's server side that timeout server-fin ends is reset), but libuv cannot reset a socket
 * whose shutdown is still pending (it fails with EINVAL and leaks the handle): that one gets a
 * plain close. A socket still connecting is simply dropped.
 */
export function closeAsHaproxy(s: Closable): void {
  if (s.connecting || s.destroyed || s.readableEnded || (s.writableEnded && !s.writableFinished)) s.destroy();
  else s.resetAndDestroy();
}
