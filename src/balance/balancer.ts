// Server choice for a backend. Each algorithm sees only usable servers (up, weight > 0, not full).
export interface Candidate {
  /** Effective weight, 1..256; a server of weight 0 is never offered. */
  readonly weight: number;
  /** Connections the server serves now (a tunnel counts until it ends). */
  readonly cur: number;
}

export interface Balancer<S extends Candidate> {
  /** Picks one of `servers` (all usable), or undefined when the list is empty. */
  pick(servers: readonly S[]): S | undefined;
}
