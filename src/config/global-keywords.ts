// The keywords of the `global` section.
import { execFileSync } from "node:child_process";
import { hostname } from "node:os";
import type { Global, Where } from "./model.js";
import { parseLogTarget } from "./log-target.js";
import { parseTime } from "./duration.js";
import { atoi, atol } from "./c-numbers.js";
import { addCase } from "../http/case-adjust.js";

export interface GlobalContext {
  global: Global;
  /** The environment later lines expand; setenv and friends change it. */
  env: Record<string, string | undefined>;
  words: string[];
  where: Where;
  /** `tight`: haproxy writes this message's place without a blank before the colon. */
  alert(message: string, tight?: boolean): void;
  /** An alert after which the configuration still loads. */
  alertContinuing(message: string, tight?: boolean): void;
  warning(message: string, tight?: boolean): void;
}

type GlobalFn = (c: GlobalContext) => void;

/** haproxy's check of a keyword that takes one argument: a second one is refused. */
const oneArgument = (c: GlobalContext): boolean => atMost(c, 1);

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

/** A check of a keyword's arguments; false once it alerted. */
type ArgCheck = (c: GlobalContext) => boolean;

/** haproxy's check of a keyword that takes at most `max` arguments. */
function atMost(c: GlobalContext, max: number): boolean {
  if (c.words.length <= max + 1) return true;
  c.alert(`'${c.words[0]}' cannot handle unexpected argument '${c.words[max + 1]}'.`);
  return false;
}

/** haproxy reads an absent argument as an empty word. */
const arg1 = (c: GlobalContext): string => c.words[1] ?? "";

const needs =
  (message: (kw: string) => string, max = 1): ArgCheck =>
  (c) => {
    if (!atMost(c, max)) return false;
    if (arg1(c) !== "") return true;
    c.alert(message(c.words[0]!));
    return false;
  };

const flag: ArgCheck = (c) => atMost(c, 0);
/** A keyword that takes one of a few words; `choices` as haproxy lists them in its refusal. */
const oneOf =
  (choices: string, ...words: string[]): ArgCheck =>
  (c) => {
    if (!atMost(c, 1)) return false;
    if (words.includes(arg1(c))) return true;
    c.alert(`'${c.words[0]}' expects either ${choices} but got '${arg1(c)}'.`);
    return false;
  };
const onOff = oneOf("'on' or 'off'", "on", "off");
/** A percentage, which haproxy reads with atoi; `what` as its refusal names it, an empty word read as 0 or not. */
const ratio =
  (what: string, emptyIsZero = false): ArgCheck =>
  (c) => {
    if (!atMost(c, 1)) return false;
    const n = atoi(arg1(c));
    if ((emptyIsZero || arg1(c) !== "") && n >= 0 && n <= 100) return true;
    c.alert(`'${c.words[0]}' expects ${what} between 0 and 100.`);
    return false;
  };
const fdRatio = ratio("an integer argument");
const integer = needs((kw) => `'${kw}' expects an integer argument.`);
const NODE_NAME = /^[A-Za-z0-9._-]+$/;
/** How many of the 64 process or thread numbers `set` names (`all`, `odd`, `even`, N, N-M, N-). */
function processCount(set: string): number {
  if (set === "all") return 64;
  if (set === "odd" || set === "even") return 32;
  const [low, high] = numberRange(set, 64);
  return high - low + 1;
}

/**
 * The numbers `N`, `N-M` or `N-` names, lowest first, as haproxy reads them: the leading digits of
 * each bound (none reads 0), and `N-` runs to `last`.
 */
function numberRange(text: string, last: number): [number, number] {
  const dash = text.indexOf("-");
  const low = parseInt(text, 10) || 0;
  const high = dash < 0 ? low : dash === text.length - 1 ? last : parseInt(text.slice(dash + 1), 10) || 0;
  return low <= high ? [low, high] : [high, low];
}

/** haproxy's objection to a process or thread set, if any. */
function processNumbers(set: string): string | undefined {
  if (set === "all" || set === "odd" || set === "even") return undefined;
  if (!/^[\d]*(-[\d]*)?$/.test(set)) return `'${set}' is not a valid number/range.`;
  const [low, high] = numberRange(set, 64);
  if (low >= 1 && high <= 64) return undefined;
  return `'${set}' is not a valid number/range. It supports numbers from 1 to 64.`;
}

/** The CPUs a list of words names (N, N-M, N-; haproxy reads the leading digits of each). */
function cpuSet(words: string[]): { count: number; problem?: string } {
  const cpus = new Set<number>();
  for (const w of words) {
    if (!/^\d/.test(w)) return { count: 0, problem: `'${w}' is not a CPU range.` };
    const [low, high] = numberRange(w, 1023);
    if (high >= 1024) return { count: 0, problem: `supports CPU numbers from 0 to 1023.` };
    for (let n = low; n <= high; n++) cpus.add(n);
  }
  return { count: cpus.size };
}

/**
 * Keywords that tune haproxy's internals or process model: their arguments checked as haproxy
 * checks them, then accepted with a warning.
 */
const NO_EFFECT: Record<string, ArgCheck> = {
  nbthread: (c) => {
    if (!atMost(c, 1)) return false;
    const v = arg1(c);
    if (!/^[-+]?\d+$/.test(v)) {
      c.alert(`'nbthread' passed a missing or unparsable integer value in '${v}'`);
      return false;
    }
    if (Number(v) >= 1 && Number(v) <= 64) return true;
    c.alert(`'nbthread' value must be between 1 and 64 (was ${Number(v)})`);
    return false;
  },
  "cpu-map": (c) => {
    if (arg1(c) === "" || (c.words[2] ?? "") === "") {
      c.alert(
        `cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63.`,
      );
      return false;
    }
    const auto = arg1(c).startsWith("auto:");
    const [proc, thread] = arg1(c)
      .slice(auto ? 5 : 0)
      .split("/", 2) as [string, string | undefined];
    const cpus = cpuSet(c.words.slice(2));
    const problem =
      processNumbers(proc) ?? (thread === undefined ? undefined : processNumbers(thread)) ?? cpus.problem;
    if (problem !== undefined) {
      c.alert(`cpu-map : ${problem}`);
      return false;
    }
    const count = (set: string | undefined): number => (set === undefined ? 0 : processCount(set));
    if (!auto || count(proc) === cpus.count || count(thread) === cpus.count) return true;
    c.alert(`cpu-map : PROC/THREAD range and CPU sets must have the same size to be automatically bound`);
    return false;
  },
  "master-worker": (c) => {
    if (!atMost(c, 1)) return false;
    if (arg1(c) === "" || arg1(c) === "no-exit-on-failure") return true;
    c.alert(`'master-worker' only supports 'no-exit-on-failure' option.`);
    return false;
  },
  "tune.maxaccept": integer,
  nokqueue: flag,
  noevports: flag,
  "no-memory-trimming": flag,
  "numa-cpu-mapping": () => true,
  "fd-hard-limit": integer,
  maxpipes: integer,
  // haproxy 2.6 says so of extra words, and loads the configuration all the same.
  "mworker-max-reloads": (c) => {
    if (c.words.length > 2)
      c.alertContinuing(`'mworker-max-reloads' cannot handle unexpected argument '${c.words[2]}'.`);
    return true;
  },
  "tune.pipesize": integer,
  "tune.buffers.limit": integer,
  "tune.buffers.reserve": integer,
  "tune.idle-pool.shared": onOff,
  "tune.sched.low-latency": onOff,
  "tune.fail-alloc": ratio("a numeric value", true),
  "profiling.tasks": oneOf("'on', 'auto', or 'off'", "on", "auto", "off"),
  // Read with strtol, its words past the first ignored.
  "tune.pattern.cache-size": (c) => {
    if (arg1(c) !== "" && !arg1(c).startsWith("-")) return true;
    c.alert(`'tune.pattern.cache-size' expects a positive numeric value`);
    return false;
  },
  "tune.maxpollevents": integer,
  "tune.recv_enough": integer,
  "tune.rcvbuf.client": integer,
  "tune.rcvbuf.server": integer,
  "tune.sndbuf.client": integer,
  "tune.sndbuf.server": integer,
  "tune.runqueue-depth": integer,
  "tune.idletimer": (c) => {
    if (!atMost(c, 1)) return false;
    const ms = arg1(c) === "" ? "missing" : parseTime(arg1(c), "ms", (m) => c.warning(m));
    if (typeof ms === "object") {
      c.alert(`unexpected character '${ms.bad}' in argument to <tune.idletimer>.`);
      return false;
    }
    if (typeof ms === "number" && ms <= 65535) return true;
    c.alert(`'tune.idletimer' expects a timer value between 0 and 65535 ms.`);
    return false;
  },
  noepoll: flag,
  nopoll: flag,
  nosplice: flag,
  nogetaddrinfo: flag,
  noreuseport: flag,
  "insecure-fork-wanted": flag,
  "insecure-setuid-wanted": flag,
  "busy-polling": flag,
  "set-dumpable": flag,
  "zero-warning": flag,
  localpeer: needs((kw) => `'${kw}' expects a name as an argument.`),
  node: (c) => {
    if (!atMost(c, 1)) return false;
    if (NODE_NAME.test(arg1(c))) return true;
    c.alert(
      `'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).`,
    );
    return false;
  },
  description: needs((kw) => `'${kw}' expects a string argument.`, Infinity),
  "ca-base": needs((kw) => `global statement '${kw}' expects a directory path as an argument.`),
  "crt-base": needs((kw) => `global statement '${kw}' expects a directory path as an argument.`),
};

/** `uid`, `gid`: a number (anything else is warned about and left out, as haproxy does). */
function numericId(c: GlobalContext, key: "uid" | "gid", already: string, named: string): void {
  if (!atMost(c, 1)) return;
  if (c.global[key] !== 0) return c.alertContinuing(already);
  const v = arg1(c);
  if (v === "") return c.alert(`'${c.words[0]}' expects an integer argument.`);
  if (!/^[-+]?\d+$/.test(v))
    return c.warning(
      ` ${key}: string '${v}' is not a number.\n   | You might want to use the '${named}' parameter to use a system ${named} name.`,
    );
  c.global[key] = Number(v);
}

/** `user`, `group`: a name the system's databases know (getent asks them as getpwnam would). */
function namedId(c: GlobalContext, key: "uid" | "gid", already: string): void {
  if (!atMost(c, 1)) return;
  if (c.global[key] !== 0) return c.alertContinuing(already);
  const db = key === "uid" ? "passwd" : "group";
  const id = systemId(db, arg1(c));
  if (id === undefined)
    return c.alert(`cannot find ${key === "uid" ? "user" : "group"} id for '${arg1(c)}' (0:Success)`);
  c.global[key] = id;
}

export function systemId(db: "passwd" | "group", name: string): number | undefined {
  if (name === "") return undefined;
  try {
    const entry = execFileSync("getent", [db, name], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    // name:password:id:... The name must be the one asked: getent also answers to a number.
    const [found, , id] = entry.split(":");
    return found === name && id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined;
  } catch {
    return undefined;
  }
}

export const GLOBAL_KEYWORDS: Record<string, GlobalFn> = {
  // haproxy takes any words after it.
  "expose-experimental-directives": (c) => void (c.global.experimental = true),
  maxconn: (c) => {
    if (!oneArgument(c)) return;
    if (c.global.maxconn !== undefined) return c.alertContinuing(`'maxconn' already specified. Continuing.`);
    if (!integer(c)) return;
    const n = atol(arg1(c));
    // haproxy takes a negative value here and fails at start; zero (or no number) leaves it derived.
    if (n < 0) return c.alert(`'maxconn' expects a positive integer argument.`);
    if (n > 0) c.global.maxconn = n;
  },
  "tune.bufsize": (c) => {
    if (!integer(c)) return;
    // Rounded up as haproxy rounds it, for the alignment of its buffers.
    const n = Math.ceil(atol(arg1(c)) / 16) * 16;
    if (n <= 0) return c.alert(`'tune.bufsize' expects a positive integer argument.`);
    // haproxy 2.6.12 fails at start below about 350 bytes, its own error messages no longer fitting,
    // and runs from there up; Sluice, untried with buffers that small, refuses them.
    if (n < 1024) return c.alert(`'tune.bufsize' expects an integer argument >= 1024.`);
    c.global.bufsize = n;
  },
  "tune.http.maxhdr": (c) => {
    if (!integer(c)) return;
    const n = atoi(arg1(c));
    if (n < 1 || n > 32767) return c.alert(`'tune.http.maxhdr' expects a numeric value between 1 and 32767`);
    // haproxy then cannot read its own error messages back, and fails at start; Sluice says why.
    if (n < 5)
      return c.alert(
        `'tune.http.maxhdr' ${n} leaves no room for the headers of haproxy's own responses: haproxy 2.6 fails to start below 5.`,
      );
    c.global.maxhdr = n;
  },
  "ulimit-n": (c) => {
    if (integer(c)) c.global.ulimitN = atol(arg1(c)) || undefined;
  },
  // haproxy 2.6 always fails to start when it cannot set the descriptor limit it needs; so does Sluice.
  "strict-limits": (c) => void flag(c),
  "tune.pool-low-fd-ratio": (c) => {
    if (fdRatio(c)) c.global.poolLowFdRatio = atoi(arg1(c));
  },
  "tune.pool-high-fd-ratio": (c) => {
    if (fdRatio(c)) c.global.poolHighFdRatio = atoi(arg1(c));
  },
  "tune.maxrewrite": (c) => {
    if (!integer(c)) return;
    const v = atol(arg1(c));
    if (v < 0) return c.alert(`'tune.maxrewrite' expects a positive integer argument.`);
    c.global.maxrewrite = v;
  },
  "spread-checks": (c) => {
    if (!atMost(c, 1)) return;
    if (c.global.spreadChecks !== 0)
      return c.alertContinuing(`spread-checks already specified. Continuing.`, true);
    if (arg1(c) === "") return c.alert(`'spread-checks' expects an integer argument (0..50).`, true);
    const v = atol(arg1(c));
    if (v < 0 || v > 50) return c.alert(`'spread-checks' needs a positive value in range 0..50.`, true);
    c.global.spreadChecks = v;
  },
  "max-spread-checks": (c) => {
    if (!atMost(c, 1)) return;
    const v = arg1(c);
    if (v === "") return c.alert(`'max-spread-checks' expects an integer argument (0..50).`, true);
    const ms = parseTime(v, "ms", (m) => c.warning(m));
    if (ms === "over")
      return c.alert(
        `timer overflow in argument <${v}> to <max-spread-checks>, maximum value is 2147483647 ms (~24.8 days).`,
        true,
      );
    if (typeof ms === "object")
      return c.alert(
        `unsupported character '${ms.bad}' in 'max-spread-checks' (wants an integer delay).`,
        true,
      );
    c.global.maxSpreadChecks = ms;
  },
  daemon: (c) => {
    if (atMost(c, 0)) c.global.daemon = true;
  },
  "h1-accept-payload-with-any-method": (c) => {
    if (atMost(c, 0)) c.global.payloadWithAnyMethod = true;
  },
  "h1-case-adjust": (c) => {
    const [, from, to] = c.words;
    if (!from || !to) return c.alert(`'h1-case-adjust' expects <from> and <to> as argument.`);
    if (!atMost(c, 2)) return;
    const problem = addCase(c.global.caseAdjust, from, to);
    if (problem) c.alert(problem);
  },
  "h1-case-adjust-file": (c) => {
    if (!arg1(c)) return c.alert(`'h1-case-adjust-file' expects <file> as argument.`);
    if (atMost(c, 1)) c.global.caseAdjustFile = arg1(c);
  },
  quiet: (c) => {
    if (atMost(c, 0)) c.global.quiet = true;
  },
  uid: (c) => numericId(c, "uid", `user/uid already specified. Continuing.`, "user"),
  gid: (c) => numericId(c, "gid", `group/gid already specified. Continuing.`, "group"),
  user: (c) => namedId(c, "uid", `user/uid already specified. Continuing.`),
  group: (c) => namedId(c, "gid", `gid/group was already specified. Continuing.`),
  chroot: (c) => {
    if (!needs((kw) => `'${kw}' expects a directory as an argument.`)(c)) return;
    c.alert(`'chroot' is not supported by sluice: Node.js cannot change its root directory.`);
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
    if (!oneArgument(c)) return;
    if (c.global.pidfile !== undefined) return c.alertContinuing(`'pidfile' already specified. Continuing.`);
    if (arg1(c) === "") return c.alert(`'pidfile' expects a file name as an argument.`);
    c.global.pidfile = arg1(c);
  },
  log: (c) => {
    const t = parseLogTarget(c.words.slice(1), c.where, c.env, true);
    if (typeof t === "string") c.alert(`log : ${t}`);
    else c.global.logs.push(t);
  },
  "log-tag": (c) => {
    if (!oneArgument(c)) return;
    if (arg1(c) === "") return c.alert(`'log-tag' expects a tag for use in syslog.`);
    c.global.logTag = arg1(c);
  },
  "log-send-hostname": (c) => {
    // Without a name, the system's, as haproxy's gethostname().
    c.global.hostname = c.words[1] ?? hostname();
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

for (const [kw, check] of Object.entries(NO_EFFECT))
  GLOBAL_KEYWORDS[kw] = (c) => {
    if (check(c)) c.warning(`'${kw}' has no effect in sluice; ignored.`);
  };
