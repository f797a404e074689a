// `log <target> [len N] [format F] <facility> [level [minlevel]]`
import type { Facility, LogFormat, LogTarget, Where } from "./model.js";
import { parseHostPort } from "./address.js";
import type { Env } from "./tokenize.js";

export const FACILITIES: readonly Facility[] = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "auth2",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "cron2",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
];

export const LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;

const FORMATS: readonly LogFormat[] = [
  "rfc3164",
  "rfc5424",
  "raw",
  "short",
  "iso",
  "timed",
  "priority",
  "local",
];

/** haproxy's default maximum line length for a log target. */
export const DEFAULT_LOG_LEN = 1024;

/**
 * Parses the words after `log`; returns the target or an error message, which haproxy prints after
 * `log : `. `inGlobal`: the global section's line, where `log global` means nothing.
 */
export function parseLogTarget(
  words: string[],
  where: Where,
  env: Env,
  inGlobal = false,
): LogTarget | string {
  const target = words[0];
  const expects = `expects <address> and <facility> ${inGlobal ? "" : "or global"} as arguments`;
  // haproxy wants the address and the facility before it reads either.
  if (target === undefined || words[1] === undefined) return expects;
  const t: LogTarget = {
    kind: "udp",
    len: DEFAULT_LOG_LEN,
    format: "rfc3164",
    facility: "local0",
    level: 7,
    minLevel: 0,
    where,
  };
  if (target === "stdout" || target === "fd@1") t.kind = "stdout";
  else if (target === "stderr" || target === "fd@2") t.kind = "stderr";
  else if (target.startsWith("/") || target.startsWith("unix@")) {
    t.kind = "unix";
    t.path = target.startsWith("/") ? target : target.slice(5);
  } else {
    const addr = target.startsWith("udp@") ? target.slice(4) : target;
    if (/^(ring|fd)@/.test(addr)) return `log target '${target}' is not supported by sluice yet.`;
    const hp = parseHostPort(addr, { range: false, env });
    if (typeof hp === "string") return hp;
    t.host = hp.host === "" ? "0.0.0.0" : hp.host;
    t.port = hp.port ?? 514;
  }
  let i = 1;
  for (;;) {
    const w = words[i];
    if (w === "len") {
      const n = Number(words[i + 1]);
      if (!Number.isInteger(n) || n < 80 || n > 65535)
        return `invalid log length '${words[i + 1] ?? ""}', must be between 80 and 65535`;
      t.len = n;
      i += 2;
    } else if (w === "format") {
      const f = words[i + 1] as LogFormat;
      if (!FORMATS.includes(f)) return `unknown log format '${words[i + 1] ?? ""}'`;
      t.format = f;
      i += 2;
    } else if (w === "sample") {
      return `'sample' on a log line is not supported by sluice yet.`;
    } else break;
  }
  const fac = words[i];
  if (fac === undefined) return expects;
  if (!FACILITIES.includes(fac as Facility)) return `unknown log facility '${fac}'`;
  t.facility = fac as Facility;
  const lvl = words[i + 1];
  if (lvl !== undefined) {
    const n = LEVELS.indexOf(lvl as (typeof LEVELS)[number]);
    if (n < 0) return `unknown optional log level '${lvl}'`;
    t.level = n;
  }
  const minlvl = words[i + 2];
  if (minlvl !== undefined) {
    const n = LEVELS.indexOf(minlvl as (typeof LEVELS)[number]);
    if (n < 0) return `unknown optional minimum log level '${minlvl}'`;
    t.minLevel = n;
  }
  if (words.length > i + 3) return `cannot handle unexpected argument '${words[i + 3]}'`;
  return t;
}
