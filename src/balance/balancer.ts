// Server choice for a backend. Each algorithm sees only usable servers (up, weight > 0, not full).
export interface Candidate {
  /** Effective weight, 1..256; a server of weight 0 is never offered. */
  readonly weight: number;
  /** Connections the server serves now (a tunnel counts until it ends). */
  readonly cur: number;
}

/**
 * What the algorithms that keep their own view of a backend's servers read: roundrobin's turns and
 * the map-based ones' table follow weights and states as they change.
 */
export interface PooledServer {
  /** User weight, 0..256. */
  readonly weight: number;
  readonly backup: boolean;
  /** UP, not in maintenance, weight > 0. */
  readonly usable: boolean;
  /** At maxconn, or requests wait for it already: passed over. */
  readonly saturated: boolean;
}

export interface Balancer<S extends Candidate> {
  /** Picks one of `servers` (all usable), or undefined when the list is empty. */
  pick(servers: readonly S[]): S | undefined;
}
