// File descriptors: the process's limit, and how many of them Sluice holds. haproxy sizes its
// maxconn from the limit and raises the limit with setrlimit(2) to what its maxconn needs; Node.js
// has no setrlimit, so the process asks util-linux's prlimit(1) to change its own soft limit.
import { readdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** The sockets Sluice holds open (clients, servers, checks, listeners), counted as they open and close. */
export const sockets = { open: 0 };

/** Descriptors the process held besides the counted sockets when it last looked (files, pipes, libuv's own). */
let others = 0;

/** Descriptors in use now. */
export function fdsInUse(): number {
  return others + sockets.open;
}

/** Counts the descriptors that are not sockets Sluice counts (once at start, and after a log file opens). */
export function countOtherFds(): void {
  try {
    // The listing holds its own descriptor while it reads.
    others = Math.max(0, readdirSync("/proc/self/fd").length - 1 - sockets.open);
  } catch {
    others = 0;
  }
}

export interface FdLimit {
  soft: number;
  hard: number;
}

/** RLIMIT_NOFILE as Linux shows it, or undefined where /proc is not. */
export function fdLimit(): FdLimit | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const n = (v: string): number => (v === "unlimited" ? Infinity : Number(v));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

/** Sets the soft limit to `n` (up to the hard one); true when the limit is then `n`. */
export function setSoftFdLimit(n: number): boolean {
  const now = fdLimit();
  if (!now || n > now.hard) return false;
  if (now.soft === n) return true;
  const hard = now.hard === Infinity ? "unlimited" : String(now.hard);
  const r = spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${n}:${hard}`], {
    stdio: "ignore",
    timeout: 5000,
  });
  return r.status === 0 && fdLimit()?.soft === n;
}
