// Sample fetches of the proxies' and servers' state, as haproxy 2.6 gives them: connections served and
// slots free (be_conn, connslots, srv_conn...), queues, whether a server is up, the proxies' and servers'
// numbers, their sessions' and requests' rates (fe_sess_rate...), the servers' weights, the bind the client
// came in by (dst_conn, so_id, so_name), the timeouts in force, and the stream's queue priority. A
// backend or server argument is resolved once the configuration is read (its refusals are haproxy's);
// without one, the proxy of the expression.
import type { Arg } from "./args.js";
import type { Converter } from "./converters.js";
import type { BackendState, FrontendState, ListenerState, SampleContext, ServerState } from "./context.js";
import { RATES, noteRead } from "../log/reads.js";
import type { FetchDef } from "./fetch-def.js";
import type { Sample } from "./sample.js";
import { T } from "./sample.js";
import { findProxy, findServer, ownProxy, proxyError } from "./scope.js";

type Read = (ctx: SampleContext, smp: Sample) => boolean;

const proxyName = (args: Arg[], side: "backend" | "frontend", keyword: string): string | undefined => {
  const name = String(args[0] ?? "");
  const px = findProxy(name, side, keyword);
  if (!px || "error" in px) return undefined;
  return name === "" ? ownProxy() : px.name;
};

/**
 * An integer computed from the proxy an argument names (or the expression's own), a backend or a
 * frontend. A `rate` is counted only where a configuration reads one: compiling it says so.
 */
function proxyInt<S extends "backend" | "frontend">(
  side: S,
  name: string,
  f: (px: S extends "backend" ? BackendState : FrontendState) => number,
  rate = false,
): FetchDef {
  type State = S extends "backend" ? BackendState : FrontendState;
  return {
    name,
    args: ["str"],
    min: 0,
    out: T.Int,
    use: "conn",
    resolve: (args) => proxyError(args, side, name),
    make: (args) => {
      if (rate) noteRead(RATES);
      const id = proxyName(args, side, name);
      return (ctx, smp) => {
        const px = id === undefined ? undefined : (ctx.state?.[side](id) as State | undefined);
        if (px === undefined) return false;
        smp.setInt(f(px));
        return true;
      };
    },
  };
}

const backendInt = (name: string, f: (be: BackendState) => number, rate = false): FetchDef =>
  proxyInt("backend", name, f, rate);
const frontendInt = (name: string, f: (fe: FrontendState) => number, rate = false): FetchDef =>
  proxyInt("frontend", name, f, rate);

/** A value of the bind the client connected to. */
function listenerValue(name: string, out: T, set: (l: ListenerState, smp: Sample) => boolean): FetchDef {
  return {
    name,
    args: [],
    min: 0,
    out,
    use: "conn",
    make: () => (ctx, smp) => ctx.listener !== undefined && set(ctx.listener, smp),
  };
}

/** A value of the server `[<backend>/]<server>` names. */
function serverValue(name: string, out: T, f: (s: ServerState) => number, rate = false): FetchDef {
  return {
    name,
    args: ["str"],
    min: 1,
    out,
    use: "conn",
    resolve: (args) => {
      const s = findServer(String(args[0] ?? ""), name);
      return s && "error" in s ? s.error : undefined;
    },
    make: (args) => {
      if (rate) noteRead(RATES);
      const s = findServer(String(args[0] ?? ""), name);
      const at = s && !("error" in s) ? s : undefined;
      return (ctx, smp) => {
        const srv = at && ctx.state?.backend(at.backend)?.servers.find((x) => x.name === at.server);
        if (srv === undefined) return false;
        smp.setInt(f(srv), out);
        return true;
      };
    },
  };
}

/** Requests waiting for the backend: its own queue and its servers'. */
const pending = (be: BackendState): number =>
  be.servers.reduce((n, s) => n + s.queue.length, be.queue.length);

const usable = (be: BackendState): { active: number; backup: number } => {
  let active = 0;
  let backup = 0;
  for (const s of be.servers) {
    if (!s.up) continue;
    if (s.backup) backup++;
    else active++;
  }
  return { active, backup };
};

/**
 * Connections the backend's servers can still take: those a request may go to (the active ones, or
 * the first backup, or every backup with `option allbackups`), -1 when one of them has no maxconn.
 */
function connFree(be: BackendState): number {
  const { active } = usable(be);
  const firstBackup = be.servers.find((s) => s.up && s.backup);
  let free = 0;
  for (const s of be.servers) {
    if (!s.up || (s.backup && (active > 0 || (s !== firstBackup && !be.px.allbackups)))) continue;
    if (s.maxconn === 0) return -1;
    free += Math.max(0, s.maxconn - s.cur);
  }
  return free;
}

/** Slots left in connections and queues of every server up; -1 when one is unlimited in either. */
function connSlots(be: BackendState): number {
  let slots = 0;
  for (const s of be.servers) {
    if (!s.up) continue;
    if (s.maxconn === 0 || s.maxqueue === 0) return -1;
    slots += s.maxconn - s.cur + s.maxqueue - s.queue.length;
  }
  return slots;
}

/** The current backend's timeout (ms; 0 when it has none), read past use_backend. */
function backendTimeout(name: string, which: "server" | "tunnel"): FetchDef {
  return {
    name,
    args: [],
    min: 0,
    out: T.Int,
    use: "be",
    make: () => (ctx, smp) => {
      const be = ctx.state?.backend(ctx.beName);
      if (be === undefined) return false;
      smp.setInt(be.px.timeouts[which] ?? 0);
      return true;
    },
  };
}

const int =
  (f: (ctx: SampleContext) => number | undefined): (() => Read) =>
  () =>
  (ctx, smp) => {
    const v = f(ctx);
    if (v === undefined) return false;
    smp.setInt(v);
    return true;
  };

export function stateFetches(): FetchDef[] {
  return [
    backendInt("be_conn", (be) => be.cur),
    backendInt("be_conn_free", connFree),
    backendInt("connslots", connSlots),
    backendInt("queue", pending),
    backendInt("avg_queue", (be) => {
      const { active, backup } = usable(be);
      // The servers in use: the active ones, else the first backup alone (every one with allbackups).
      const n = active > 0 ? active : backup > 0 && !be.px.allbackups ? 1 : backup;
      const waiting = pending(be);
      // With no server to take them, haproxy counts the queue twice.
      return n > 0 ? Math.floor((waiting + n - 1) / n) : waiting * 2;
    }),
    frontendInt("fe_conn", (fe) => fe.cur),
    frontendInt("fe_sess_rate", (fe) => fe.sessRate.read(performance.now(), 1000), true),
    frontendInt("fe_req_rate", (fe) => fe.reqRate.read(performance.now(), 1000), true),
    backendInt("be_sess_rate", (be) => be.sessRate.read(performance.now(), 1000), true),
    serverValue("srv_conn", T.Int, (s) => s.cur),
    serverValue("srv_conn_free", T.Int, (s) => (s.maxconn === 0 ? -1 : Math.max(0, s.maxconn - s.cur))),
    serverValue("srv_queue", T.Int, (s) => s.queue.length),
    serverValue("srv_is_up", T.Bool, (s) => (s.up ? 1 : 0)),
    serverValue("srv_sess_rate", T.Int, (s) => s.sessRate.read(performance.now(), 1000), true),
    // Nothing changes a weight at run time (no slowstart, no `set weight`): all three are the one configured.
    serverValue("srv_weight", T.Int, (s) => s.weight),
    serverValue("srv_iweight", T.Int, (s) => s.weight),
    serverValue("srv_uweight", T.Int, (s) => s.weight),
    listenerValue("dst_conn", T.Int, (l, smp) => (smp.setInt(l.cur), true)),
    listenerValue("so_id", T.Int, (l, smp) => (smp.setInt(l.id), true)),
    listenerValue("so_name", T.Str, (l, smp) => l.name !== undefined && (smp.setStr(l.name), true)),
    {
      name: "fe_id",
      args: [],
      min: 0,
      out: T.Int,
      use: "conn",
      make: int((ctx) => ctx.state?.frontend(ctx.feName)?.id),
    },
    {
      name: "fe_defbe",
      args: [],
      min: 0,
      out: T.Str,
      use: "conn",
      make: () => (ctx, smp) => {
        const be = ctx.state?.frontend(ctx.feName)?.defaultBackend;
        if (be === undefined) return false;
        smp.setStr(be.name);
        return true;
      },
    },
    {
      name: "fe_client_timeout",
      args: [],
      min: 0,
      out: T.Int,
      use: "conn",
      make: int((ctx) => {
        const fe = ctx.state?.frontend(ctx.feName);
        return fe && (fe.px.timeouts.client ?? 0);
      }),
    },
    {
      name: "be_id",
      args: [],
      min: 0,
      out: T.Int,
      use: "be",
      make: int((ctx) => ctx.state?.backend(ctx.beName)?.id),
    },
    {
      name: "srv_id",
      args: [],
      min: 0,
      out: T.Int,
      use: "srv",
      make: int((ctx) => ctx.state?.backend(ctx.beName)?.servers.find((s) => s.name === ctx.srvName)?.id),
    },
    backendTimeout("be_server_timeout", "server"),
    backendTimeout("be_tunnel_timeout", "tunnel"),
    // The stream's own: a set-timeout's, else the backend's once the server's connection is made
    // (haproxy sets it then; a tunnel's only at the tunnel's start).
    {
      name: "cur_server_timeout",
      args: [],
      min: 0,
      out: T.Int,
      use: "be",
      make: int((ctx) => {
        const set = ctx.streamTimeouts?.server;
        if (set !== undefined) return set;
        return ctx.res === undefined ? 0 : (ctx.state?.backend(ctx.beName)?.px.timeouts.server ?? 0);
      }),
    },
    {
      name: "cur_tunnel_timeout",
      args: [],
      min: 0,
      out: T.Int,
      use: "be",
      make: int((ctx) => ctx.streamTimeouts?.tunnel ?? 0),
    },
    // The stream's place in a queue, as set-priority-class and -offset left it (0 before); none
    // without a stream (a connection's or a session's rules).
    {
      name: "prio_class",
      args: [],
      min: 0,
      out: T.Int,
      use: "conn",
      make: int((ctx) => ctx.priorityClass),
    },
    {
      name: "prio_offset",
      args: [],
      min: 0,
      out: T.Int,
      use: "conn",
      make: int((ctx) => ctx.priorityOffset),
    },
  ];
}

/**
 * The converters that read the state of what their sample names: `nbsrv` (a backend's usable
 * servers) and `srv_queue` (`[<backend>/]<server>`'s queue, the expression's own proxy when no
 * backend is named, if it is one). Names resolved per request, as haproxy does; none: no sample.
 */
export function stateConverters(): [string, Converter][] {
  return [
    [
      "nbsrv",
      {
        args: [],
        min: 0,
        in: "str",
        out: T.Int,
        make: () => (smp, ctx) => {
          const n = ctx.nbsrv(smp.getStr());
          return n >= 0 && (smp.setInt(n), true);
        },
      },
    ],
    [
      "srv_queue",
      {
        args: [],
        min: 0,
        in: "str",
        out: T.Int,
        make: () => {
          const own = findProxy("", "backend", "srv_queue");
          const ownBackend = own && !("error" in own) ? ownProxy() : undefined;
          return (smp, ctx) => {
            const s = smp.getStr();
            const slash = s.indexOf("/");
            const be = slash < 0 ? ownBackend : s.slice(0, slash);
            const name = s.slice(slash + 1);
            const srv =
              be === undefined ? undefined : ctx.state?.backend(be)?.servers.find((x) => x.name === name);
            return srv !== undefined && (smp.setInt(srv.queue.length), true);
          };
        },
      },
    ],
  ];
}
