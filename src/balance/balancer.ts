// Server choice for a backend: roundrobin, leastconn and first keep their own view of the servers,
// as haproxy's lb_fwrr, lb_fwlc and lb_fas do, and are told when a server comes and goes.

/** What the algorithms read of a server. */
export interface PooledServer {
  /** Its number in the backend (haproxy's puid): the ring's places, `first`'s order. */
  readonly id: number;
  /** User weight, 0..256. */
  readonly weight: number;
  readonly backup: boolean;
  /** UP, not in maintenance, weight > 0. */
  readonly usable: boolean;
  /** At maxconn, or requests wait for it already: passed over. */
  readonly saturated: boolean;
}

export interface Balancer<S extends PooledServer> {
  /**
   * The server for a new request, passing over `avoid` (a redispatch) unless it is the only one;
   * undefined when every one is saturated. Without a usable active server and without allbackups,
   * the first usable backup, saturated or not (its own queue then takes the request).
   */
  pick(avoid: S | undefined): S | undefined;
  /** `s` became usable (a health check brought it up). */
  up(s: S): void;
  /** `s` is no longer usable. */
  down(s: S): void;
  /** `s` took a request or let one go. */
  loadChanged(s: S): void;
}

/** static-rr and the hashing algorithms: haproxy's table of servers, or its consistent hash ring. */
export interface ServerLookup<S extends PooledServer> {
  /** The server for a hash; the ring passes over `avoid`, the table gives the same server again. */
  hashed(hash: number, avoid: S | undefined): S | undefined;
  /** The servers in turn, passing over saturated ones: static-rr, or hashing without a key. */
  rotate(avoid: S | undefined): S | undefined;
  up(s: S): void;
  down(s: S): void;
}

/**
 * haproxy's ebtree order: by key, equal keys in the order they came. Trees hold a few servers, and
 * change at every pick: they move their elements by hand (splice makes an array of what it removes).
 */
export function insertByKey<T extends { key: number }>(tree: T[], item: T): void {
  let i = tree.length;
  tree.push(item);
  for (; i > 0 && tree[i - 1]!.key > item.key; i--) tree[i] = tree[i - 1]!;
  tree[i] = item;
}

/** Takes `item` out of `tree`, if it is there. */
export function removeFrom<T>(tree: T[], item: T): void {
  const i = tree.indexOf(item);
  if (i < 0) return;
  for (let j = i + 1; j < tree.length; j++) tree[j - 1] = tree[j]!;
  tree.pop();
}

/**
 * haproxy's choice of servers for a request: the active ones while one is usable, else the first
 * usable backup alone (without allbackups), else every backup; undefined when none is usable.
 */
export function serving<S extends PooledServer>(
  servers: readonly S[],
  allbackups: boolean,
): "active" | "backup" | S | undefined {
  let firstBackup: S | undefined;
  for (const s of servers) {
    if (!s.usable) continue;
    if (!s.backup) return "active";
    firstBackup ??= s;
  }
  return firstBackup && !allbackups ? firstBackup : firstBackup && "backup";
}
