// One `bind` line: its addresses, then its options (haproxy 2.6's manual, section 5.1). Each option
// is honoured, or refused with the reason, or, where it could change nothing here, accepted with a
// warning that says why. Values are checked as haproxy checks them, in its words.
import { hasFrontend, type Bind, type Proxy } from "./model.js";
import type { KeywordContext } from "./proxy-keywords.js";
import { expandAddressEnv, parseHostPort } from "./address.js";
import { atoi, atol } from "./c-numbers.js";
import { systemId } from "./global-keywords.js";

/** What the options set on every socket of the line. */
type BindOptions = Omit<Bind, "host" | "port" | "fd" | "written" | "where">;

interface BindLine {
  c: KeywordContext;
  /** `'bind <addresses>' in section '<kind>'`, which opens haproxy's messages about an option. */
  head: string;
  /** The option's argument, when it takes one. */
  value: string | undefined;
  options: BindOptions;
  warn(why: string): void;
}

/** What Sluice refuses and haproxy takes: not said of a line that a backend ignores. */
interface Refusal {
  unsupported: string;
}

const refusal = (line: BindLine, what: string): Refusal => ({ unsupported: `${line.head} : ${what}` });

/** An option's reader: haproxy's alert when it refuses the value, or Sluice's refusal. */
type OptionFn = (line: BindLine, kw: string) => string | Refusal | undefined;

const missing = (line: BindLine, kw: string, what = "missing value"): string =>
  `${line.head} : '${kw}' : ${what}`;

/** A count read with atol into a C int, as haproxy reads backlog and maxconn; undefined when taken. */
function count(line: BindLine, kw: string, min: number, bound: string): string | undefined {
  if (!line.value) return missing(line, kw);
  const n = atoi(line.value);
  if (n < min) return `${line.head} : '${kw}' : invalid value ${n}, must be ${bound}`;
  if (kw === "backlog") line.options.backlog = n;
  else line.options.maxconn = n;
  return undefined;
}

/** haproxy's `all | odd | even | <n>[-[<m>]]` set of processes or threads, numbered 1 to `max`. */
function validSet(text: string, max: number): boolean {
  if (text === "all" || text === "odd" || text === "even") return true;
  const m = /^(\d*)(-?)(\d*)$/.exec(text);
  if (!m || (m[1] === "" && m[3] === "")) return false;
  const low = m[1] === "" ? 1 : Number(m[1]);
  const high = m[3] === "" ? (m[2] === "" ? low : max) : Number(m[3]);
  return low >= 1 && high <= max && low <= high;
}

/** haproxy names the numbers it takes unless the set is no numbers at all. */
const notValidSet = (line: BindLine, what: string, set: string, max: number): string =>
  `${line.head} : '${what}' : '${set}' is not a valid number/range.${/[^\d-]/.test(set) ? "" : ` It supports numbers from 1 to ${max}.`}`;

/** The threads of `thread [<group>/]<set>`, as many as haproxy can have (MAX_THREADS). */
function threadSet(line: BindLine, text: string): string | undefined {
  const set = text.slice(text.indexOf("/") + 1);
  return validSet(set, 64) ? undefined : notValidSet(line, set, set, 64);
}

/** `'a'`, `'a', 'b', and 'c'`: the words a keyword takes, as haproxy lists them. */
function listed(words: string[]): string {
  const quoted = words.map((w) => `'${w}'`);
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")}, and ${quoted.at(-1)!}`;
}

/** A setting of haproxy's stats socket: one of a few words. */
const statsSocketOnly =
  (what: string, words: string[]): OptionFn =>
  (line, kw) => {
    if (!line.value) return missing(line, kw, `missing ${what}`);
    if (!words.includes(line.value))
      return `${line.head} : '${kw}' only supports ${listed(words)} (got '${line.value}')`;
    line.warn(
      `'${kw}' applies to the stats socket only: a frontend's listener ignores it, in haproxy as here`,
    );
    return undefined;
  };

/** What only a UNIX socket takes; Sluice binds TCP sockets only (unix@ and paths are refused). */
const unixOnly =
  (check: (line: BindLine, kw: string) => string | undefined): OptionFn =>
  (line, kw) => {
    const refused = check(line, kw);
    if (refused === undefined)
      line.warn(`'${kw}' applies to UNIX sockets only: a TCP listener ignores it, in haproxy as here`);
    return refused;
  };

const systemName = (db: "passwd" | "group", what: "user" | "group"): OptionFn =>
  unixOnly((line, kw) => {
    if (!line.value) return missing(line, kw, `missing ${what} name`);
    if (systemId(db, line.value) === undefined)
      return `${line.head} : '${kw}' : unknown ${what} name '${line.value}'`;
    return undefined;
  });

/** Options that take a value, by name. */
const VALUED: Record<string, OptionFn> = {
  name: (line, kw) => {
    if (!line.value) return missing(line, kw, "missing name");
    line.options.name = line.value;
    return undefined;
  },
  id: (line, kw) => {
    if (!line.value) return missing(line, kw, "expects an integer argument");
    if (!/^\s*[+-]?\d+$/.test(line.value))
      return missing(line, kw, `expects an integer argument, found '${line.value}'`);
    const id = Number(line.value);
    if (id <= 0) return missing(line, kw, "custom id has to be > 0");
    line.options.id = id;
    return undefined;
  },
  backlog: (line, kw) => count(line, kw, 0, "> 0"),
  maxconn: (line, kw) => count(line, kw, 0, ">= 0"),
  nice: (line, kw) => {
    if (!line.value) return missing(line, kw);
    const n = atol(line.value);
    if (n < -1024 || n > 1024) return missing(line, kw, `invalid value ${n}, allowed range is -1024..1024`);
    line.warn(
      `'nice' has no effect in sluice, which has no scheduler to weigh connections against one another`,
    );
    return undefined;
  },
  process: (line, kw) => {
    const [procs, threads] = (line.value ?? "").split("/", 2) as [string, string | undefined];
    if (!validSet(procs, 1)) return notValidSet(line, kw, procs, 1);
    const instead = threads === undefined ? "" : ` Please use 'thread ${threads}' instead.`;
    line.c.warning(
      `${line.head} : 'process ${line.value}' on 'bind' lines is deprecated and will be removed in 2.7.${instead}`,
    );
    return threads === undefined ? undefined : threadSet(line, threads);
  },
  thread: (line) => {
    const refused = threadSet(line, line.value ?? "");
    if (refused === undefined)
      line.warn(
        `'thread' has no effect in sluice, which runs one thread: it takes every listener's connections`,
      );
    return refused;
  },
  shards: (line, kw) => {
    if (!line.value) return missing(line, kw);
    if (line.value !== "by-thread" && !(atol(line.value) >= 1 && atol(line.value) <= 64))
      return missing(line, kw, `invalid value ${atol(line.value)}, allowed range is 1..64 or 'by-thread'`);
    // One shard is what Sluice does: one socket per address.
    if (line.value === "1") return undefined;
    return refusal(
      line,
      `'shards ${line.value}' is not supported by sluice yet: it runs one thread, and opens one socket per address.`,
    );
  },
  proto: (line, kw) => {
    if (!line.value) return missing(line, kw);
    if (line.value === "h1" || line.value === "none") {
      line.options.proto = line.value;
      return undefined;
    }
    if (line.value === "h2")
      return refusal(line, `'proto h2' is not supported by sluice yet: it speaks HTTP/1 only.`);
    return `${line.head} : 'proto' :  unknown MUX protocol '${line.value}'`;
  },
  level: statsSocketOnly("level", ["user", "operator", "admin"]),
  "expose-fd": statsSocketOnly("fd type", ["listeners"]),
  "severity-output": statsSocketOnly("severity format", ["none", "number", "string"]),
  mode: unixOnly((line, kw) =>
    /^[0-7]+$/.test(line.value ?? "")
      ? undefined
      : missing(line, kw, `missing or invalid mode '${line.value ?? ""}' (octal integer expected)`),
  ),
  uid: unixOnly((line, kw) => (line.value ? undefined : missing(line, kw))),
  gid: unixOnly((line, kw) => (line.value ? undefined : missing(line, kw))),
  user: systemName("passwd", "user"),
  group: systemName("group", "group"),
};

/** What Node.js cannot ask of a socket: the option it would set. */
const SOCKET_OPTIONS: Record<string, string> = {
  interface: "SO_BINDTODEVICE",
  mss: "TCP_MAXSEG",
  transparent: "IP_TRANSPARENT",
  namespace: "a network namespace (setns)",
  "tcp-ut": "TCP_USER_TIMEOUT",
};

/** Options without a value that Node.js cannot set either, and that change only when things happen. */
const TIMING_ONLY: Record<string, string> = {
  "defer-accept":
    "Node.js cannot set TCP_DEFER_ACCEPT, so a connection is accepted at its handshake rather than at its first data (only its accept date and the start of its timeouts differ)",
  tfo: "Node.js cannot set TCP_FASTOPEN, so data a client sends with its SYN is read once the handshake is done (one round trip later)",
};

/** haproxy's TLS options of a bind line (and `ssl` itself). */
const TLS = new Set(
  (
    "ssl allow-0rtt alpn ca-file ca-ignore-err ca-sign-file ca-sign-pass ca-verify-file ciphers ciphersuites " +
    "crl-file crt crt-ignore-err crt-list curves ecdhe force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 " +
    "force-tlsv13 generate-certificates no-ca-names no-sslv3 no-tls-tickets no-tlsv10 no-tlsv11 no-tlsv12 " +
    "no-tlsv13 npn prefer-client-ciphers ssl-max-ver ssl-min-ver strict-sni tls-ticket-keys verify"
  ).split(" "),
);

/**
 * `bind <addr>[,<addr>...] [option...]`: one Bind per socket, each with the line's options. The
 * first refused option ends the line, which binds nothing then.
 */
export function parseBind(c: KeywordContext, p: Proxy): void {
  const spec = c.words[1];
  if (spec === undefined)
    return c.alert(`'bind' expects [addr1]:port1[-end1]{,[addr]:port[-end]}... as arguments.`);
  const head = `'bind ${spec}' in section '${p.kind}'`;
  const options: BindOptions = {};
  const warnings: string[] = [];
  const line: BindLine = { c, head, value: undefined, options, warn: (why) => warnings.push(why) };
  for (let i = 2; i < c.words.length; i++) {
    const kw = c.words[i]!;
    const refused = option(line, kw, () => c.words[++i]);
    if (typeof refused === "string") return c.alert(refused);
    if (refused !== undefined) return c.unsupported(refused.unsupported);
  }
  const binds: Bind[] = [];
  for (const part of spec.split(",")) {
    if (expandAddressEnv(part, c.global.env).startsWith("/"))
      return c.unsupported(`'bind' : '${part}' is a UNIX socket's path: sluice binds TCP sockets only.`);
    const hp = parseHostPort(part, { range: true, env: c.global.env });
    if (typeof hp === "string") return c.alert(`'bind' : ${hp}`);
    const common = { written: part, where: c.where, ...options };
    if (hp.fd !== undefined) binds.push({ host: "", port: 0, fd: hp.fd, ...common });
    else if (hp.port === undefined) return c.alert(`'bind' : missing port specification in '${part}'`);
    else for (let port = hp.port; port <= hp.portEnd!; port++) binds.push({ host: hp.host, port, ...common });
  }
  if (options.id !== undefined) {
    if (binds.length > 1) return c.alert(`${head} : 'id' can only be used with a single socket`);
    const same = p.binds.find((b) => b.id === options.id);
    if (same)
      return c.alert(
        `${head} : 'id' : custom id ${options.id} already used at ${same.where.file}:${same.where.line} ('bind ${same.written}')`,
      );
  }
  // haproxy already says that a backend ignores the whole line.
  if (hasFrontend(p)) for (const why of warnings) c.warning(`${head} : ${why}; ignored.`);
  p.binds.push(...binds);
}

/** Reads one option (`next` takes its value); what refuses it, if anything. */
function option(line: BindLine, kw: string, next: () => string | undefined): string | Refusal | undefined {
  if (kw === "accept-proxy") {
    line.options.acceptProxy = true;
    return undefined;
  }
  // v6only wins over v4v6 whatever their order, as in haproxy.
  if (kw === "v6only" || kw === "v4v6") {
    line.options.v6only = kw === "v6only" || line.options.v6only === true;
    return undefined;
  }
  const valued = VALUED[kw];
  if (valued) {
    line.value = next();
    return valued(line, kw);
  }
  if (TIMING_ONLY[kw] !== undefined) {
    line.warn(`'${kw}' has no effect in sluice: ${TIMING_ONLY[kw]}`);
    return undefined;
  }
  const sockopt = SOCKET_OPTIONS[kw];
  if (sockopt !== undefined)
    return refusal(line, `'${kw}' is not supported by sluice: Node.js cannot set ${sockopt} on a socket.`);
  if (TLS.has(kw)) return refusal(line, `'${kw}' is a TLS setting, and TLS is not supported by sluice yet.`);
  if (kw === "accept-netscaler-cip")
    return refusal(line, `'${kw}' is not supported by sluice yet: it reads no NetScaler Client IP header.`);
  if (kw.startsWith("quic-")) return refusal(line, `'${kw}' is not supported by sluice: it speaks no QUIC.`);
  return `${line.head}: unknown keyword '${kw}'.`;
}
