// `stick` rules: a backend's memory of which server served which key. Before a server is chosen,
// `match` (and `on`) rules send the request to the server its key's entry names, unless something
// chose one already (a use-server rule, a persistence cookie); `store-request` (and `on`) rules
// note the key, `store-response` rules take one from the response, and once a server has answered,
// each noted key's entry names that server. As haproxy 2.6 does it, per table only the first
// storing rule that applies counts.
import type { Condition, Proxy, StickRule } from "../config/model.js";
import { compileCondition } from "../acl/index.js";
import { parseFetch, type FetchImpl } from "../acl/fetch.js";
import { Sample } from "../acl/sample.js";
import type { SampleContext } from "../acl/context.js";
import { findTable } from "../acl/scope.js";
import type { StickTable } from "./table.js";
import { empty } from "../util/array.js";

export interface CompiledStickRule {
  kind: StickRule["kind"];
  table: StickTable;
  key: FetchImpl;
  cond: ((ctx: SampleContext) => boolean) | undefined;
}

/** What a request noted, to be stored once a server answers it. */
export interface PendingStore {
  table: StickTable;
  key: string;
  /** Noted by a store-response rule. */
  response: boolean;
}

/** haproxy keeps at most this many per request. */
const MAX_STORES = 8;

export function compileStickRules(px: Proxy): CompiledStickRule[] {
  return px.stickRules.map((r) => ({
    kind: r.kind,
    // The configuration's reading made sure it exists.
    table: findTable(r.table, 0, "stick") as StickTable,
    key: parseFetch(r.expr, r.where, false, { responseSide: r.kind === "store-response" }).impl,
    cond: r.cond ? compileCondition(r.cond as Condition, px.acls) : undefined,
  }));
}

const smp = new Sample();

/** A server of the backend, as an entry names it: by name, else by id. */
export interface NamedServer {
  readonly name: string;
  readonly id: number;
}

/**
 * The request side: the server the first matching entry names (undefined if none, or if `assigned`),
 * with the keys to store noted in `stores`.
 */
export function stickRequest<S extends NamedServer>(
  rules: CompiledStickRule[],
  ctx: SampleContext,
  servers: readonly S[],
  assigned: boolean,
  usable: (s: S) => boolean,
  stores: PendingStore[],
): S | undefined {
  let chosen: S | undefined;
  const now = Date.now();
  for (const r of rules) {
    if (r.kind === "store-response") continue;
    const storing = r.kind !== "match";
    if (storing && stores.some((s) => s.table === r.table)) continue;
    if (r.cond && !r.cond(ctx)) continue;
    const key = r.key.first(ctx, smp) ? r.table.keyOf(smp) : undefined;
    if (key === undefined) continue;
    if (r.kind !== "store-request") {
      const e = r.table.lookup(key, now);
      if (e) {
        if (!assigned && !chosen) {
          const srv = servers.find((s) => s.name === e.server) ?? servers.find((s) => s.id === e.serverId);
          if (srv && usable(srv)) chosen = srv;
        }
        r.table.touch(e, now);
      }
    }
    if (storing && stores.length < MAX_STORES) stores.push({ table: r.table, key, response: false });
  }
  return chosen;
}

/** The response side: the store-response rules' keys, then every noted key's entry names `server`. */
export function stickResponse(
  rules: CompiledStickRule[],
  ctx: SampleContext,
  server: NamedServer,
  stores: PendingStore[],
): void {
  for (const r of rules) {
    if (r.kind !== "store-response" || stores.some((s) => s.response && s.table === r.table)) continue;
    if (r.cond && !r.cond(ctx)) continue;
    const key = r.key.first(ctx, smp) ? r.table.keyOf(smp) : undefined;
    if (key !== undefined && stores.length < MAX_STORES) stores.push({ table: r.table, key, response: true });
  }
  const now = Date.now();
  for (const s of stores) {
    const e = s.table.get(s.key, now);
    if (!e) continue;
    e.server = server.name;
    e.serverId = server.id;
    s.table.touch(e, now);
  }
  empty(stores);
}
