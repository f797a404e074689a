// haproxy's address forms for `bind`, `server`, `addr` and log targets.
import { isIP } from "node:net";
import type { Network } from "./model.js";
import type { Env } from "./tokenize.js";

export interface HostPort {
  host: string;
  /** The first port, or undefined when none was written. */
  port?: number;
  /** The last port of a `low-high` range (bind only); equals port otherwise. */
  portEnd?: number;
  /** `fd@N`: an inherited file descriptor. */
  fd?: number;
}

/**
 * haproxy expands `$NAME` and `${NAME}` in every address, quoted or not, after the line's own
 * expansion: no `${NAME-default}` here (the `-...` stays, and fails as an address), an unset name
 * is empty, and a `$` followed by no name disappears.
 */
export function expandAddressEnv(text: string, env: Env): string {
  if (!text.includes("$")) return text;
  return text.replace(/\$(\{?)([A-Za-z0-9_]*)(\}?)/g, (_m, open: string, name: string, close: string) => {
    const value = env[name] ?? "";
    // A `}` belongs to the name only when a `{` opened it.
    return open !== "" ? value : value + close;
  });
}

/**
 * Parses `host:port`, `[v6]:port`, `*:port`, `:port`, `ipv4@..`, `ipv6@..`, `fd@N` once `env` is
 * expanded. Returns an error string. `anyPort`: port 0 is taken (a source address's: the kernel chooses).
 */
export function parseHostPort(
  text: string,
  opts: { range: boolean; anyPort?: boolean; env: Env },
): HostPort | string {
  let s = expandAddressEnv(text, opts.env);
  const at = /^([a-z0-9]+)@/.exec(s);
  if (at) {
    const family = at[1]!;
    s = s.slice(at[0].length);
    if (family === "fd") {
      if (!/^\d+$/.test(s)) return `invalid file descriptor '${s}' in '${text}'`;
      return { host: "", fd: parseInt(s, 10) };
    }
    if (family !== "ipv4" && family !== "ipv6" && family !== "tcp" && family !== "tcp4" && family !== "tcp6")
      return `address family '${family}@' is not supported in '${text}'`;
  }
  let host: string;
  let portText: string | undefined;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return `invalid address '${text}': missing ']'`;
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return `invalid address '${text}'`;
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const colon = s.lastIndexOf(":");
    // More than one colon without brackets: a bare IPv6 address with the port after the last colon.
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
  }
  if (host === "*" || host === "0.0.0.0") host = host === "*" ? "" : "0.0.0.0";
  if (host.includes(":") && isIP(host) !== 6) return `invalid address: '${host}' in '${text}'`;
  if (portText === undefined || portText === "") return { host };
  const m = opts.range ? /^(\d+)(?:-(\d+))?$/.exec(portText) : /^(\d+)$/.exec(portText);
  if (!m) return `invalid port '${portText}'`;
  const port = parseInt(m[1]!, 10);
  const portEnd = m[2] !== undefined ? parseInt(m[2], 10) : port;
  if (port < (opts.anyPort ? 0 : 1) || port > 65535) return `invalid port '${m[1]}'`;
  if (portEnd < port || portEnd > 65535) return `invalid port range '${portText}'`;
  return { host, port, portEnd };
}

/**
 * `source <addr>[:<port>]`: where connections to servers leave from (port 0 or none: any), or an
 * error; `range` when a port range was given (the callers refuse it in their own words).
 */
export function parseSource(text: string, env: Env): { host: string; port: number; range: boolean } | string {
  const hp = parseHostPort(text, { range: true, anyPort: true, env });
  if (typeof hp === "string") return `'source ${text}' : ${hp}`;
  if (hp.fd !== undefined) return `'source ${text}' : a file descriptor is not acceptable here`;
  return { host: hp.host === "" ? "0.0.0.0" : hp.host, port: hp.port ?? 0, range: hp.port !== hp.portEnd };
}

/** Parses a network as haproxy writes them (CIDR or dotted mask); an error string otherwise. */
export function parseNetwork(text: string): Network | string {
  const [address, mask] = text.split("/", 2) as [string, string | undefined];
  const v = isIP(address);
  if (v === 0) return `invalid network '${text}'`;
  const family = v === 4 ? "ipv4" : "ipv6";
  const max = v === 4 ? 32 : 128;
  if (mask === undefined) return { address, prefix: max, family };
  if (/^\d+$/.test(mask) && Number(mask) <= max) return { address, prefix: Number(mask), family };
  if (v === 4 && isIP(mask) === 4) {
    // A dotted mask must be ones then zeros: 255.255.0.0, not 255.0.255.0.
    const bits = mask
      .split(".")
      .map((part) => Number(part).toString(2).padStart(8, "0"))
      .join("");
    if (/^1*0*$/.test(bits))
      return { address, prefix: bits.indexOf("0") < 0 ? 32 : bits.indexOf("0"), family };
  }
  return `invalid network mask in '${text}'`;
}
