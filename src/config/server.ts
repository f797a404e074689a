// `server` and `default-server` lines: the address and the settings that follow it.
import { isIP } from "node:net";
import type { ServerParams } from "./model.js";
import { parseDuration, parseTime } from "./duration.js";
import { parseHostPort, parseSource } from "./address.js";
import { atol } from "./c-numbers.js";
import type { Env } from "./tokenize.js";

export interface Reporter {
  /** `tight`: haproxy writes this message's place without a blank before the colon. */
  alert(message: string, tight?: boolean): void;
  warning(message: string, tight?: boolean): void;
}

/** A server line's reporter: `server` is its name as haproxy's messages give it (or `default-server`). */
export interface ServerReporter extends Reporter {
  server: string;
}

type ParamFn = (p: ServerParams, value: string, r: ServerReporter, name: string, env: Env) => void;

/** haproxy's words for a setting written without its value. */
const MISSING: Record<string, string> = {
  inter: "expects a delay as argument..",
  fastinter: "expects a delay as argument..",
  downinter: "expects a delay as argument..",
  rise: "expects an integer argument..",
  fall: "expects an integer argument..",
  port: "expects a port number as argument..",
  addr: "expects <ipv4|ipv6> as argument..",
  cookie: "expects <value> as argument..",
  id: ": expects an integer argument.",
  source:
    "expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument..",
  "on-marked-down": "expects 'shutdown-sessions' but got ''.",
  "pool-max-conn": "expects <value> as argument..",
  "error-limit": "expects an integer argument..",
};

const int =
  (key: "maxconn" | "maxqueue" | "rise" | "fall", min: number): ParamFn =>
  (p, v, r, name) => {
    // haproxy's for a rise or fall of 0 (its own message's dot, and the one it adds).
    if (min > 0 && /^\d+$/.test(v) && parseInt(v, 10) < min) return r.alert(`'${name}' has to be > 0..`);
    if (!/^\d+$/.test(v) || parseInt(v, 10) < min)
      return r.alert(`'${name}' expects an integer argument >= ${min}, got '${v}'`);
    p[key] = parseInt(v, 10);
  };

const time =
  (key: "inter" | "fastinter" | "downinter"): ParamFn =>
  (p, v, r, name) => {
    const ms = parseDuration(v, (m) => r.warning(m));
    if (typeof ms === "string") return r.alert(`'${name}' : ${ms}`);
    if (ms === 0) return r.alert(`invalid value 0 for argument '${name}' of server ${r.server}..`);
    p[key] = ms;
  };

/** Settings that take a value. */
const VALUED: Record<string, ParamFn> = {
  maxconn: int("maxconn", 0),
  maxqueue: int("maxqueue", 0),
  rise: int("rise", 1),
  fall: int("fall", 1),
  inter: time("inter"),
  fastinter: time("fastinter"),
  downinter: time("downinter"),
  weight: (p, v, r) => {
    const w = /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
    if (!(w >= 0 && w <= 256))
      return r.alert(`weight of server ${r.server} is not within 0 and 256 (${v})..`);
    p.weight = w;
  },
  cookie: (p, v, r) => {
    if (v === "") return r.alert(`'cookie' expects <value> as argument..`);
    p.cookie = v;
  },
  port: (p, v, r) => {
    const n = /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
    if (!(n >= 1 && n <= 65535)) return r.alert(`invalid port '${v}'`);
    p.checkPort = n;
  },
  addr: (p, v, r, _name, env) => {
    const hp = parseHostPort(v, { range: false, env });
    if (typeof hp === "string") return r.alert(hp);
    p.checkAddr = hp.host;
  },
  source: (p, v, r, _name, env) => {
    const src = parseSource(v, env);
    if (typeof src === "string") return r.alert(src);
    if (src.range) return r.alert(`'source ${v}' : a port range is not supported by sluice yet.`);
    p.source = { host: src.host, port: src.port };
  },
  "init-addr": (p, v, r) => {
    // No method at all leaves haproxy's default ones; a comma ends a method, none follows the last;
    // an empty one is read as the address 0.0.0.0.
    if (v === "") return void delete p.initAddr;
    const methods = v
      .replace(/,$/, "")
      .split(",")
      .map((m) => m || "0.0.0.0");
    const bad = methods.find((m) => m !== "libc" && m !== "last" && m !== "none" && isIP(m) === 0);
    if (bad !== undefined)
      return r.alert(
        `'init-addr' : unknown init-addr method '${bad}', supported methods are 'libc', 'last', 'none'..`,
      );
    p.initAddr = methods;
  },
  usesrc: (_p, v, r) => r.alert(`'usesrc ${v}' is not supported by sluice (transparent proxying).`),
  interface: (_p, v, r) => r.alert(`'interface ${v}' is not supported by sluice.`),
  "on-marked-down": (p, v, r) => {
    if (v !== "shutdown-sessions")
      return r.alert(`'on-marked-down' expects 'shutdown-sessions' but got '${v}'.`);
    p.onMarkedDown = v;
  },
  "on-marked-up": (p, v, r) => {
    if (v !== "shutdown-backup-sessions")
      return r.alert(`'on-marked-up' expects 'shutdown-backup-sessions' but got '${v}'.`);
    p.onMarkedUp = v;
  },
  // Read as atol reads.
  id: (p, v, r) => {
    const n = atol(v);
    if (n <= 0) return r.alert(`'id' : custom id has to be > 0.`);
    p.id = n;
  },
};

/**
 * Every server's number, as haproxy assigns them: its `id`, else the lowest number from the
 * position counter on that no `id` took (the counter moves on one per server either way). The
 * consistent hash ring places servers by number, and `balance first` takes them in its order.
 */
export function autoIds(items: readonly { id?: number }[]): number[] {
  const used = new Set<number>();
  for (const s of items) if (s.id !== undefined) used.add(s.id);
  let next = 1;
  return items.map((s) => {
    let id = s.id;
    if (id === undefined) {
      while (used.has(next)) next++;
      id = next;
      used.add(id);
    }
    next++;
    return id;
  });
}

/** Settings that are a single word. */
const FLAGS: Record<string, (p: ServerParams) => void> = {
  check: (p) => (p.check = true),
  "no-check": (p) => (p.check = false),
  backup: (p) => (p.backup = true),
  "no-backup": (p) => (p.backup = false),
  disabled: (p) => (p.disabled = true),
  enabled: (p) => (p.disabled = false),
  "send-proxy": (p) => (p.sendProxyV1 = true),
  "send-proxy-v2": (p) => (p.sendProxyV2 = true),
  "no-send-proxy": (p) => (p.sendProxyV1 = false),
  "no-send-proxy-v2": (p) => (p.sendProxyV2 = false),
};

/** Settings that tune haproxy internals only: checked as haproxy checks them, then accepted with a warning. */
const NO_EFFECT_VALUED: Record<string, (v: string) => string | undefined> = {
  "pool-max-conn": (v) => (atol(v) < -1 ? `'pool-max-conn' must be >= -1.` : undefined),
  "pool-purge-delay": (v) => {
    const ms = parseTime(v, "ms");
    return typeof ms === "object"
      ? `unexpected character '${ms.bad}' in argument to <pool-purge-delay>..`
      : undefined;
  },
  "pool-low-conn": () => undefined,
  "error-limit": (v) => (atol(v) < 1 ? `error-limit has to be > 0..` : undefined),
};

/** Applies the words after the address (or after `default-server`) to `p`. */
export function parseServerParams(words: string[], p: ServerParams, r: ServerReporter, env: Env): void {
  for (let i = 0; i < words.length; i++) {
    const kw = words[i]!;
    const flag = FLAGS[kw];
    if (flag) {
      flag(p);
      continue;
    }
    const fn = VALUED[kw];
    const noEffect = NO_EFFECT_VALUED[kw];
    if (fn || noEffect) {
      // haproxy reads a missing init-addr as no method: the default ones.
      const v = words[i + 1] ?? (kw === "init-addr" ? "" : undefined);
      if (v === undefined) {
        r.alert(`'${kw}' ${MISSING[kw] ?? "expects an argument."}`);
        return;
      }
      i++;
      if (fn) fn(p, v, r, kw, env);
      else {
        const bad = noEffect!(v);
        if (bad !== undefined) return r.alert(bad);
        r.warning(`'${kw}' has no effect in sluice; ignored.`);
      }
      continue;
    }
    r.alert(`unknown keyword '${kw}' (or not supported by sluice yet) on server line.`);
    return;
  }
}
