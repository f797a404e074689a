// Runtime state of backends and servers: who is up, who has a free slot, who waits in which queue.
import { LinkedList, type ListEntry } from "../util/linked-list.js";
import { FreqCtr } from "../stick/freq-ctr.js";
import type { CompiledStickRule } from "../stick/stick-rules.js";
import type { HttpRequestAction, HttpResponseAction, Proxy, Server } from "../config/model.js";
import type { CompiledRule } from "./rules.js";
import type { CompiledTcpRule } from "./tcp-rules.js";
import type { ServerConn } from "./server-conn.js";
import type { Balancer, ServerLookup } from "../balance/balancer.js";
import { RoundRobin } from "../balance/roundrobin.js";
import { LeastConn } from "../balance/leastconn.js";
import { First } from "../balance/first.js";
import { ServerMap, addressHash } from "../balance/map.js";
import { ConsistentHash } from "../balance/chash.js";
import { fullHash, hashKey } from "../balance/hash.js";
import { autoIds } from "../config/server.js";
import { compileBinary } from "../acl/expr.js";
import type { SampleContext } from "../acl/context.js";
import { compileCondition } from "../acl/condition.js";
import { hdrKey, uriKey, urlParamKey } from "../balance/request-key.js";
import { PendingQueue, servedFirst, type Pending } from "./queue.js";
import * as clock from "../util/clock.js";
import type { Endpoint } from "../util/tcp-socket.js";

/** A request waiting for a server slot. `grant` is called once, with the server it may use. */
export interface Waiter extends Pending {
  grant(server: RtServer): void;
  /** Its server went down (option redispatch): it is out of the queue and chooses again. */
  reassign(): void;
  /** The queue's `taken` count when it entered, for its position in the log. */
  taken: number;
  /** A force-persist rule holds it to its server: it stays in that server's queue when the server goes down. */
  forced: boolean;
}

/**
 * What RtBackend.take gives: a server whose slot it took, a queue to wait in, "none" when no server
 * is usable, or the server the request must go to (hashing, a cookie) when its queue is at maxqueue.
 */
export type Taken = RtServer | PendingQueue<Waiter> | "none" | { queueFull: RtServer };

/** Where a server is, and where connections to it leave from. */
export interface ServerAddress {
  address: string;
  source: Endpoint | undefined;
}

export class RtServer {
  readonly name: string;
  /** Resolved address to connect to. */
  address: string;
  /** Where its connections and checks leave from (`source`), resolved; undefined: the kernel's choice. */
  readonly source: Endpoint | undefined;
  readonly port: number;
  readonly weight: number;
  readonly maxconn: number;
  readonly maxqueue: number;
  readonly backup: boolean;
  /** The PROXY protocol header each connection to it starts with (version), if any. */
  readonly sendProxy: 1 | 2 | undefined;
  /** Operational state, driven by health checks through setUp; without `check` always up. */
  get up(): boolean {
    return this.operational;
  }
  private operational: boolean;
  /** `disabled`: in maintenance, never chosen and not checked. */
  readonly maint: boolean;
  /** Connections being served, a tunnel included until it ends. */
  cur = 0;
  /** Requests waiting for this server in particular. */
  readonly queue = new PendingQueue<Waiter>();
  /** Idle keep-alive connections that requests may reuse. */
  readonly idle: ServerConn[] = [];
  /** Live sessions on this server, for `on-marked-down shutdown-sessions`. */
  readonly sessions = new LinkedList<ListEntry & { shutdown(): void }>();
  // Counters (stats/logs): total connections, connect errors, response errors, retries, redispatches.
  total = 0;
  /** Connections made or reused for it in the last second, counted when a configuration reads it. */
  readonly sessRate = new FreqCtr();
  connectErrors = 0;
  retries = 0;
  redispatches = 0;
  // The idle pool's purge rounds (server-conn.ts): when the next one is due (0: none while nothing
  // is idle), the most connections in use since the last one, and the estimate of the need.
  purgeAt = 0;
  maxUsed = 0;
  estNeed = 0;

  constructor(
    readonly backend: RtBackend,
    readonly cfg: Server,
    at: ServerAddress,
    readonly id: number,
  ) {
    this.name = cfg.name;
    this.address = at.address;
    this.source = at.source;
    this.port = cfg.port;
    this.weight = cfg.weight;
    this.maxconn = cfg.maxconn;
    this.maxqueue = cfg.maxqueue;
    this.backup = cfg.backup;
    this.maint = cfg.disabled;
    this.sendProxy = cfg.sendProxyV2 ? 2 : cfg.sendProxyV1 ? 1 : undefined;
    this.operational = !cfg.disabled;
  }

  /** A health check brought it up or down; its backend's balancer follows. */
  setUp(up: boolean): void {
    this.operational = up;
    this.backend.stateChanged(this, up);
  }

  get usable(): boolean {
    return this.up && !this.maint && this.weight > 0;
  }

  get full(): boolean {
    return this.maxconn > 0 && this.cur >= this.maxconn;
  }

  /** No new request may take a slot now: full, or others wait for it already. */
  get saturated(): boolean {
    return this.full || this.queue.length > 0;
  }
}

export class RtBackend {
  readonly name: string;
  readonly servers: readonly RtServer[];
  readonly queue = new PendingQueue<Waiter>();
  /** Connections served by this backend now (beconn). */
  cur = 0;
  get id(): number {
    return this.px.id;
  }
  total = 0;
  /** Streams given to it in the last second, counted when a configuration reads it. */
  readonly sessRate = new FreqCtr();
  requestRules: CompiledRule<HttpRequestAction>[] = [];
  redirectRules: CompiledRule<HttpRequestAction>[] = [];
  responseRules: CompiledRule<HttpResponseAction>[] = [];
  afterRules: CompiledRule<HttpResponseAction>[] = [];
  tcpContent: CompiledTcpRule[] = [];
  stickRules: CompiledStickRule[] = [];
  /** roundrobin, leastconn and first keep their own order of the servers. */
  private readonly lb: Balancer<RtServer> | undefined;
  /** static-rr and the hashing algorithms: haproxy's table of servers, or its ring (hash-type consistent). */
  private readonly lookup: ServerLookup<RtServer> | undefined;
  /** roundrobin, static-rr and first: while requests wait in the backend's queue, so do new ones. */
  private readonly queueBehind: boolean;
  /**
   * haproxy's kind of algorithm: round robin (roundrobin, static-rr, random), by connections
   * (leastconn, first), or a hash of the request (source, uri, url_param, hdr, hash).
   */
  readonly lbKind: "rr" | "conn" | "hash";
  /** balance random: how many servers are drawn for each request (0: another algorithm). */
  private readonly draws: number;
  /** balance hdr(name): the header's lower-case name, as the header walk compares it. */
  private readonly hdrName: Buffer | undefined;
  /** balance hash <expr>: the expression, as bytes to hash, and where its sample lives. */
  private readonly sample: ReturnType<typeof compileBinary> | undefined;
  /** `use-server` rules, in order. */
  private readonly serverRules: { server: RtServer; cond: (ctx: SampleContext) => boolean }[];
  /** `force-persist` and `ignore-persist` rules, in order. */
  private readonly persistRules: { kind: "force" | "ignore"; cond: (ctx: SampleContext) => boolean }[];

  /** `addresses`: the resolved addresses of each server of `px`, in order. */
  constructor(
    readonly px: Proxy,
    addresses: readonly ServerAddress[],
  ) {
    this.name = px.name;
    const ids = autoIds(px.servers);
    this.servers = px.servers.map((s, i) => new RtServer(this, s, addresses[i]!, ids[i]!));
    const b = px.balance;
    this.draws = typeof b === "object" && "random" in b ? b.random : 0;
    if (b === "roundrobin") this.lb = new RoundRobin(this.servers, px.allbackups);
    else if (b === "leastconn") this.lb = new LeastConn(this.servers, px.allbackups);
    else if (b === "first") this.lb = new First(this.servers, px.allbackups);
    else if (this.draws > 0 || (b !== "static-rr" && px.hashType.method === "consistent"))
      this.lookup = new ConsistentHash(this.servers, px.allbackups, px.hashBalanceFactor);
    else this.lookup = new ServerMap(this.servers, px.allbackups);
    this.hdrName = typeof b === "object" && "hdr" in b ? Buffer.from(b.hdr, "latin1") : undefined;
    this.sample = typeof b === "object" && "hash" in b ? compileBinary(b.hash, px.where) : undefined;
    this.queueBehind = b === "roundrobin" || b === "static-rr" || b === "first";
    this.lbKind =
      b === "roundrobin" || b === "static-rr" || this.draws > 0
        ? "rr"
        : b === "leastconn" || b === "first"
          ? "conn"
          : "hash";
    this.serverRules = px.useServers.map((u) => ({
      server: this.servers.find((s) => s.name === u.server)!,
      cond: compileCondition(u.cond, px.acls),
    }));
    this.persistRules = px.persistRules.map((r) => ({
      kind: r.kind,
      cond: compileCondition(r.cond, px.acls),
    }));
  }

  /** The first force-persist or ignore-persist rule whose condition holds: what it says. */
  persistRule(ctx: SampleContext): "force" | "ignore" | undefined {
    for (const r of this.persistRules) if (r.cond(ctx)) return r.kind;
    return undefined;
  }

  /**
   * The server of the first `use-server` rule whose condition holds and whose server is not DOWN
   * (or any, with option persist or a force-persist rule); haproxy goes on past a DOWN one.
   */
  ruledServer(ctx: SampleContext, force: boolean): RtServer | undefined {
    for (const r of this.serverRules)
      if (r.cond(ctx) && ((r.server.up && !r.server.maint) || this.px.persist || force)) return r.server;
    return undefined;
  }

  /** RtServer.setUp: the balancer takes `s` in or out of its order. */
  stateChanged(s: RtServer, up: boolean): void {
    const order = this.lb ?? this.lookup!;
    if (up) order.up(s);
    else order.down(s);
  }

  /** Usable servers (nbsrv): active ones, or backups when no active one is up. */
  usableCount(): number {
    const { active, backup } = this.serverCounts();
    return active > 0 ? active : backup;
  }

  /** haproxy's srv_act and srv_bck: the servers taking traffic (UP, not in maintenance, weight > 0). */
  serverCounts(): { active: number; backup: number } {
    let active = 0;
    let backup = 0;
    for (const s of this.servers) {
      if (!s.usable) continue;
      if (s.backup) backup++;
      else active++;
    }
    return { active, backup };
  }

  /**
   * Takes a slot on a server for a new request, or says why not: a queue to wait in when every
   * usable server is full (or, hashing, when the client's server is), "none" when no server is
   * usable at all, `queueFull` when the client's server has `maxqueue` requests waiting already.
   * `avoid` is a server not to pick (redispatch), unless it is the only one; a hash on haproxy's
   * table picks the same server again, on its ring the next one.
   */
  take(avoid: RtServer | undefined, ctx: SampleContext, http: boolean): Taken {
    if (this.usableCount() === 0) return "none";
    // haproxy takes requests waiting for the backend (some being served) as proof that every server
    // is full, and does not ask the algorithm: a round robin's turns do not move.
    if (this.queueBehind && this.queue.length > 0 && this.queue.length !== this.cur) return this.queue;
    if (this.draws > 0) return this.takeRandom(avoid);
    if (this.lookup) return this.takeMapped(avoid, ctx, http);
    const s = this.lb!.pick(avoid);
    return s ? this.takeOn(s) : this.queue;
  }

  private takeMapped(avoid: RtServer | undefined, ctx: SampleContext, http: boolean): Taken {
    const lookup = this.lookup!;
    const hash = this.hashOf(ctx, http);
    // static-rr, and hashing without its key: the servers in turn.
    if (hash === undefined) {
      const s = lookup.rotate(avoid);
      return s ? this.takeOn(s) : this.queue;
    }
    const s = lookup.hashed(hash, avoid);
    return s ? this.takeOn(s) : "none";
  }

  /**
   * balance random: of `draws` servers drawn at random on the ring (so by weight), the one serving
   * the fewest requests per unit of weight; the backend's queue when it is full.
   */
  private takeRandom(avoid: RtServer | undefined): Taken {
    let best: RtServer | undefined;
    for (let i = 0; i < this.draws; i++) {
      const s = this.lookup!.hashed((Math.random() * 0x100000000) >>> 0, avoid);
      if (!s) break;
      if (!best || s === best || s.cur * best.weight <= best.cur * s.weight) best = s;
    }
    return best && !best.saturated ? this.takeOn(best) : this.queue;
  }

  /**
   * A slot on a server the request must go to (its hash, its cookie), whatever its weight, or a
   * place in that server's queue.
   */
  takeOn(s: RtServer): Taken {
    if (!s.saturated) {
      this.acquire(s);
      return s;
    }
    return s.maxqueue > 0 && s.queue.length >= s.maxqueue ? { queueFull: s } : s.queue;
  }

  /** What the hashing algorithm hashes for this request, hashed; undefined for static-rr or no key. */
  private hashOf(ctx: SampleContext, http: boolean): number | undefined {
    const b = this.px.balance;
    if (b === "static-rr") return undefined;
    // With a single server in use haproxy hashes nothing (url_param aside): 0, even without a key.
    if (!(typeof b === "object" && "urlParam" in b) && this.inUse() === 1) return 0;
    const h = b === "source" ? addressHash(ctx.src) : this.keyHash(ctx, http);
    return h !== undefined && this.px.hashType.avalanche ? fullHash(h) : h;
  }

  /** balance uri, url_param, hdr or hash <expr>: the hash of the key, undefined without one. */
  private keyHash(ctx: SampleContext, http: boolean): number | undefined {
    const b = this.px.balance;
    let key: string | undefined;
    if (this.sample) {
      // Outside mode http a fetch of the request finds nothing (haproxy's does not either).
      if (http || this.sample.use === "any" || this.sample.use === "be") key = this.sample.fetch(ctx);
    } else if (typeof b === "object" && http) {
      const req = ctx.req;
      key =
        "uri" in b
          ? uriKey(req.uri, b.uri)
          : "urlParam" in b
            ? urlParamKey(req.uri, b.urlParam)
            : hdrKey(req, this.hdrName!);
    }
    return key === undefined ? undefined : hashKey(this.px.hashType.fn, key);
  }

  /** haproxy's tot_used: the active servers in use, else the first backup alone or every backup. */
  private inUse(): number {
    const { active, backup } = this.serverCounts();
    if (active > 0) return active;
    return backup > 0 && !this.px.allbackups ? 1 : backup;
  }

  private acquire(s: RtServer): void {
    s.cur++;
    s.total++;
    if (s.cur > s.maxUsed) s.maxUsed = s.cur;
    this.lb?.loadChanged(s);
  }

  /** Gives a slot back and hands it to the first waiter of the server's or the backend's queue. */
  release(s: RtServer): void {
    s.cur--;
    this.lb?.loadChanged(s);
    this.dispatch(s);
  }

  /**
   * Serves waiting requests in queue order while `s` has free slots, the first of its own queue's
   * and of the backend's (the server's on a tie): those waiting for it in particular whatever its
   * state (as haproxy's), the backend's only while it is usable.
   */
  dispatch(s: RtServer): void {
    const now = clock.now();
    while (!s.full) {
      const a = s.queue.peek(now);
      const b = s.usable ? this.queue.peek(now) : undefined;
      const w = a && (!b || servedFirst(a, b, now)) ? s.queue.shift(now) : this.queue.shift(now);
      if (!w) return;
      this.acquire(s);
      w.grant(s);
    }
  }

  /**
   * `s` went down: with option redispatch, the requests waiting for it in particular (hashing, a
   * cookie) choose again, as haproxy's do, unless option persist or a force-persist rule keeps
   * them; how many did.
   */
  redistribute(s: RtServer): number {
    if (!this.px.redispatch || this.px.persist) return 0;
    const waiting = s.queue.takeAll((w) => w.forced);
    // They choose once the DOWN has been said (haproxy wakes them up afterwards).
    if (waiting.length > 0) setImmediate(() => waiting.forEach((w) => w.reassign()));
    return waiting.length;
  }

  /** Queued requests of the backend and of all its servers. */
  queued(): number {
    let n = this.queue.length;
    for (const s of this.servers) n += s.queue.length;
    return n;
  }
}
