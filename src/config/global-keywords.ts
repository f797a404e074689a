// The keywords of the `global` section.
import type { Global, Where } from "./model.js";
import { parseLogTarget } from "./log-target.js";
import { parseTime } from "./duration.js";
import { atol } from "./c-numbers.js";

export interface GlobalContext {
  global: Global;
  /** The environment later lines expand; setenv and friends change it. */
  env: Record<string, string | undefined>;
  words: string[];
  where: Where;
  /** `tight`: haproxy writes this message's place without a blank before the colon. */
  alert(message: string, tight?: boolean): void;
  /** An alert after which the configuration still loads. */
  alertContinuing(message: string): void;
  warning(message: string, tight?: boolean): void;
}

type GlobalFn = (c: GlobalContext) => void;

const positiveInt =
  (set: (g: Global, n: number) => void, min = 1): GlobalFn =>
  (c) => {
    const v = c.words[1];
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min)
      return c.alert(`'${c.words[0]}' expects an integer argument >= ${min}.`);
    set(c.global, Number(v));
  };

/** haproxy's check of a keyword that takes one argument: a second one is refused. */
function oneArgument(c: GlobalContext): boolean {
  if (c.words.length <= 2) return true;
  c.alert(`'${c.words[0]}' cannot handle unexpected argument '${c.words[2]}'.`);
  return false;
}

/** tune.http.cookielen and tune.http.logurilen: lengths, kept with room for a NUL, as haproxy does. */
function httpLen(c: GlobalContext, key: "cookieLen" | "uriLen"): void {
  if (!oneArgument(c)) return;
  if (c.words[1] === undefined) return c.alert(`'${c.words[0]}' expects an integer argument.`);
  c.global[key] = atol(c.words[1]) + 1;
}

/** maxconnrate and maxsessrate: per second, for the whole process; set once. */
function connRate(c: GlobalContext, key: "connRate" | "sessRate"): void {
  if (!oneArgument(c)) return;
  const kw = c.words[0]!;
  if (c.global[key] !== 0) return c.alertContinuing(`'${kw}' already specified. Continuing.`);
  if (c.words[1] === undefined) return c.alert(`'${kw}' expects an integer argument.`);
  c.global[key] = Math.max(0, atol(c.words[1]));
}

/** Keywords that tune haproxy's internals or process model: accepted, with a warning. */
const NO_EFFECT = [
  "nbthread",
  "cpu-map",
  "chroot",
  "user",
  "group",
  "uid",
  "gid",
  "ulimit-n",
  "master-worker",
  "spread-checks",
  "tune.maxaccept",
  "tune.maxpollevents",
  "tune.recv_enough",
  "tune.rcvbuf.client",
  "tune.rcvbuf.server",
  "tune.sndbuf.client",
  "tune.sndbuf.server",
  "tune.maxrewrite",
  "tune.idletimer",
  "tune.runqueue-depth",
  "noepoll",
  "nopoll",
  "nosplice",
  "nogetaddrinfo",
  "noreuseport",
  "insecure-fork-wanted",
  "expose-experimental-directives",
  "busy-polling",
  "set-dumpable",
  "quiet",
  "zero-warning",
  "localpeer",
  "node",
  "description",
  "ca-base",
  "crt-base",
];

export const GLOBAL_KEYWORDS: Record<string, GlobalFn> = {
  maxconn: positiveInt((g, n) => (g.maxconn = n)),
  "tune.bufsize": positiveInt((g, n) => (g.bufsize = n), 1024),
  "tune.http.maxhdr": positiveInt((g, n) => (g.maxhdr = n)),
  daemon: (c) => {
    c.global.daemon = true;
    c.warning(`'daemon' is ignored: sluice always stays in the foreground (use your service manager).`);
  },
  "hard-stop-after": (c) => {
    const v = c.words[1];
    // haproxy's messages end with a newline of their own: a blank line follows them.
    if (v === undefined) return c.alert(`'hard-stop-after' expects <time> as argument.\n`);
    const ms = parseTime(v, "ms", (m) => c.warning(m));
    if (ms === "over")
      return c.alert(
        `timer overflow in argument '${v}' to 'hard-stop-after' (maximum value is 2147483647 ms or ~24.8 days)`,
      );
    if (typeof ms === "object")
      return c.alert(`unexpected character '${ms.bad}' in argument to <hard-stop-after>.\n`);
    c.global.hardStopAfter = ms;
  },
  "tune.http.cookielen": (c) => httpLen(c, "cookieLen"),
  "tune.http.logurilen": (c) => httpLen(c, "uriLen"),
  "tune.comp.maxlevel": (c) => {
    if (!oneArgument(c)) return;
    const v = c.words[1] === undefined ? 0 : atol(c.words[1]);
    if (v < 1 || v > 9) return c.alert(`'tune.comp.maxlevel' expects a numeric value between 1 and 9`);
    c.global.compMaxLevel = v;
  },
  maxcomprate: (c) => {
    if (!oneArgument(c)) return;
    if (c.words[1] === undefined) return c.alert(`'maxcomprate' expects an integer argument in kb/s.`);
    c.global.compRate = Math.max(0, atol(c.words[1]) * 1024);
  },
  maxcompcpuusage: (c) => {
    if (!oneArgument(c)) return;
    const minIdle = c.words[1] === undefined ? -1 : 100 - atol(c.words[1]);
    if (minIdle < 0 || minIdle > 100)
      return c.alert(`'maxcompcpuusage' expects an integer argument between 0 and 100.`);
    c.global.compMinIdle = minIdle;
  },
  maxconnrate: (c) => connRate(c, "connRate"),
  maxsessrate: (c) => connRate(c, "sessRate"),
  maxzlibmem: (c) => {
    if (!oneArgument(c)) return;
    if (c.words[1] === undefined) return c.alert(`'maxzlibmem' expects an integer argument.`);
    c.warning(`'maxzlibmem' has no effect in sluice (each piece of a body is compressed alone); ignored.`);
  },
  pidfile: (c) => {
    if (c.words[1] === undefined) return c.alert(`'pidfile' expects a file name as an argument.`);
    c.global.pidfile = c.words[1];
  },
  log: (c) => {
    const t = parseLogTarget(c.words.slice(1), c.where, c.env, true);
    if (typeof t === "string") c.alert(`log : ${t}`);
    else c.global.logs.push(t);
  },
  "log-tag": (c) => {
    if (c.words[1] === undefined) return c.alert(`'log-tag' expects a tag for use in syslog.`);
    c.global.logTag = c.words[1];
  },
  "log-send-hostname": (c) => {
    c.global.hostname = c.words[1] ?? (process.env.HOSTNAME || "localhost");
  },
  hostname: (c) => {
    if (c.words[1] === undefined) return c.alert(`'hostname' expects a name.`);
    c.global.hostname = c.words[1];
  },
  setenv: (c) => {
    if (c.words.length !== 3) return c.alert(`'setenv' expects a name and a value.`, true);
    c.env[c.words[1]!] = c.words[2]!;
  },
  presetenv: (c) => {
    if (c.words.length !== 3) return c.alert(`'presetenv' expects a name and a value.`, true);
    c.env[c.words[1]!] ??= c.words[2]!;
  },
  unsetenv: (c) => {
    for (const name of c.words.slice(1)) delete c.env[name];
  },
  resetenv: (c) => {
    const keep = new Set(c.words.slice(1));
    for (const name of Object.keys(c.env)) if (!keep.has(name)) delete c.env[name];
  },
};

for (const kw of NO_EFFECT)
  GLOBAL_KEYWORDS[kw] = (c) => c.warning(`'${kw}' has no effect in sluice; ignored.`);
