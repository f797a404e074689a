// The header before each log line, per `log ... format <f>`, as haproxy 2.6 writes it:
//
//   rfc3164   <PRI>Mmm dd hh:mm:ss [hostname ]tag[pid]: (hostname only with log-send-hostname/hostname)
//   local     <PRI>Mmm dd hh:mm:ss tag[pid]:
//   rfc5424   <PRI>1 yyyy-mm-ddThh:mm:ss.uuuuuu+hh:mm hostname|- tag pid - -
//   priority  <PRI>
//   short     <LEVEL>                       (severity only, no facility: systemd's form)
//   timed     <LEVEL>yyyy-mm-ddThh:mm:ss.uuuuuu+hh:mm
//   iso       yyyy-mm-ddThh:mm:ss.uuuuuu+hh:mm
//   raw       (nothing)
//
// PRI is facility * 8 + level. Times are local, cached per second.
import type { Facility, LogFormat } from "../config/model.js";
import { FACILITIES } from "../config/log-target.js";
import { pad2 } from "./format.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Syslog severities by haproxy's names. */
export const LEVEL = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;

export function facilityCode(f: Facility): number {
  return FACILITIES.indexOf(f);
}

export function priority(f: Facility, level: number): number {
  return facilityCode(f) * 8 + level;
}

/** `2026-11-24T06:08:51.` and `+01:00` for one second, local time. */
let isoSec = NaN;
let isoPrefix = "";
let isoZone = "";
function isoParts(sec: number): void {
  if (sec === isoSec) return;
  const d = new Date(sec * 1000);
  isoPrefix =
    d.getFullYear() +
    "-" +
    pad2(d.getMonth() + 1) +
    "-" +
    pad2(d.getDate()) +
    "T" +
    pad2(d.getHours()) +
    ":" +
    pad2(d.getMinutes()) +
    ":" +
    pad2(d.getSeconds()) +
    ".";
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  isoZone = (off < 0 ? "-" : "+") + pad2(Math.floor(a / 60)) + ":" + pad2(a % 60);
  isoSec = sec;
}

/** ISO 8601 with microseconds and the local offset, as haproxy's rfc5424/iso/timed headers. */
export function isoTimestamp(us: number): string {
  const sec = Math.floor(us / 1e6);
  isoParts(sec);
  const frac = "" + (us - sec * 1e6);
  return isoPrefix + "000000".slice(frac.length) + frac + isoZone;
}

let bsdSec = NaN;
let bsdStr = "";
/** `Nov 24 06:08:51` (day space-padded), local time. */
export function bsdTimestamp(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== bsdSec) {
    const d = new Date(sec * 1000);
    const day = d.getDate();
    bsdStr =
      MONTHS[d.getMonth()] +
      (day < 10 ? "  " : " ") +
      day +
      " " +
      pad2(d.getHours()) +
      ":" +
      pad2(d.getMinutes()) +
      ":" +
      pad2(d.getSeconds());
    bsdSec = sec;
  }
  return bsdStr;
}

/** Microseconds since the epoch, from the monotonic clock anchored at process start. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export interface HeaderIdentity {
  /** `log-send-hostname`/`hostname`; undefined: rfc3164 omits it, rfc5424 prints "-". */
  hostname: string | undefined;
  tag: string;
  pid: number;
}

/**
 * Builds header strings for one identity. Per-format constant tails are computed once; the date part
 * comes from a per-second cache.
 */
export class SyslogHeaders {
  private readonly bsdTail: string;
  private readonly localTail: string;
  private readonly rfc5424Tail: string;

  constructor(id: HeaderIdentity) {
    const host = id.hostname === undefined || id.hostname === "" ? undefined : id.hostname;
    this.bsdTail = " " + (host ? host + " " : "") + id.tag + "[" + id.pid + "]: ";
    this.localTail = " " + id.tag + "[" + id.pid + "]: ";
    this.rfc5424Tail = " " + (host ?? "-") + " " + id.tag + " " + id.pid + " - - ";
  }

  /** The header for a message at `level` on a target of `format` and `facility`, at time `ms`/`us`. */
  header(format: LogFormat, facilityCode: number, level: number, ms: number, us?: number): string {
    switch (format) {
      case "raw":
        return "";
      case "rfc3164":
        return "<" + (facilityCode * 8 + level) + ">" + bsdTimestamp(ms) + this.bsdTail;
      case "local":
        return "<" + (facilityCode * 8 + level) + ">" + bsdTimestamp(ms) + this.localTail;
      case "rfc5424":
        return "<" + (facilityCode * 8 + level) + ">1 " + isoTimestamp(us ?? ms * 1000) + this.rfc5424Tail;
      case "priority":
        return "<" + (facilityCode * 8 + level) + ">";
      case "short":
        return "<" + level + ">";
      case "timed":
        return "<" + level + ">" + isoTimestamp(us ?? ms * 1000) + " ";
      case "iso":
        return isoTimestamp(us ?? ms * 1000) + " ";
    }
  }
}
