// Dates as haproxy writes them with glibc: http_date's, and ltime's and utime's strftime formats in
// the C locale, with the time zone glibc finds from TZ (a zoneinfo file or a POSIX rule).
import { readFileSync } from "node:fs";
import type { Converter } from "./converters.js";
import type { Arg } from "./args.js";
import { Sample, T, TRASH_SIZE, toBig } from "./sample.js";

const str = (s: Sample, v: string): boolean => (s.setStr(v), true);

/** Broken-down time, as C's struct tm. */
interface Tm {
  year: number;
  mon: number;
  mday: number;
  hour: number;
  min: number;
  sec: number;
  wday: number;
  yday: number;
  isdst: boolean;
  gmtoff: number;
  zone: string;
  /** The date it was made from (for %s). */
  t: bigint;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1 to 12). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** The date of a day count from 1970-01-01: year, month (1 to 12), day. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

export function breakDown(t: bigint, info: ZoneInfo): Tm {
  const local = t + BigInt(info.off);
  let days = local / 86400n;
  let secs = local % 86400n;
  if (secs < 0n) {
    secs += 86400n;
    days -= 1n;
  }
  const d = Number(days);
  const s = Number(secs);
  const [year, mon, mday] = civilFromDays(d);
  return {
    year,
    mon: mon - 1,
    mday,
    hour: Math.floor(s / 3600),
    min: Math.floor(s / 60) % 60,
    sec: s % 60,
    wday: (((d + 4) % 7) + 7) % 7,
    yday: d - daysFromCivil(year, 1, 1),
    isdst: info.dst,
    gmtoff: info.off,
    zone: info.abbr,
    t,
  };
}

/** What a time zone says at an instant: its offset east of UTC, DST or not, and its abbreviation. */
interface ZoneInfo {
  off: number;
  dst: boolean;
  abbr: string;
}

type Zone = (t: bigint) => ZoneInfo;

/** gmtime's zone: glibc names it GMT. */
const GMT: ZoneInfo = { off: 0, dst: false, abbr: "GMT" };
const utcZone: Zone = () => ({ off: 0, dst: false, abbr: "UTC" });

/** A POSIX TZ rule's transition date: Jn, n or Mm.w.d, and the local time it happens at. */
interface RuleDate {
  kind: "J" | "n" | "M";
  a: number;
  b: number;
  c: number;
  time: number;
}

interface PosixRule {
  std: ZoneInfo;
  dst?: ZoneInfo;
  start: RuleDate;
  end: RuleDate;
}

/**
 * glibc's compute_change: when a rule's change happens in a year, in seconds since the epoch. As
 * glibc, a year up to 1970 counts from 1970-01-01, and the days before the year are counted in
 * 32-bit arithmetic (wrapping for far years); the weekday is the year's own (Zeller's congruence).
 */
function ruleChange(r: RuleDate, year: number, off: number): number {
  let t = 0;
  if (year > 1970)
    t =
      ((Math.imul(year - 1970, 365) +
        Math.trunc((year - 1969) / 4) -
        Math.trunc((year - 1901) / 100) +
        Math.trunc((year - 1601) / 400)) |
        0) *
      86400;
  const leap = isLeap(year);
  if (r.kind === "J") t += (r.a - 1 + (r.a >= 60 && leap ? 1 : 0)) * 86400;
  else if (r.kind === "n") t += r.a * 86400;
  else {
    const before = daysFromCivil(2001, r.a, 1) - daysFromCivil(2001, 1, 1) + (leap && r.a > 2 ? 1 : 0);
    const mlen = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][r.a - 1]!;
    t += before * 86400;
    const m1 = ((r.a + 9) % 12) + 1;
    const yy0 = r.a <= 2 ? year - 1 : year;
    const yy1 = Math.trunc(yy0 / 100);
    const yy2 = yy0 % 100;
    let dow =
      (Math.trunc((26 * m1 - 2) / 10) + 1 + yy2 + Math.trunc(yy2 / 4) + Math.trunc(yy1 / 4) - 2 * yy1) % 7;
    if (dow < 0) dow += 7;
    let d = r.c - dow;
    if (d < 0) d += 7;
    for (let i = 1; i < r.b && d + 7 < mlen; i++) d += 7;
    t += d * 86400;
  }
  return t - off + r.time;
}

/** Which half of a POSIX rule holds at t, for the UTC year of t (glibc's __tz_compute). */
function ruleAt(rule: PosixRule, t: bigint): ZoneInfo {
  const dst = rule.dst;
  if (!dst) return rule.std;
  const year = breakDown(t, GMT).year;
  const start = ruleChange(rule.start, year, rule.std.off);
  const end = ruleChange(rule.end, year, dst.off);
  const n = Number(t);
  const inDst = start > end ? n < end || n >= start : n >= start && n < end;
  return inDst ? dst : rule.std;
}

/** Parses a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"); undefined when it is none. */
function parsePosixTz(s: string): PosixRule | undefined {
  let i = 0;
  const name = (): string | undefined => {
    if (s[i] === "<") {
      const e = s.indexOf(">", i);
      if (e < 0) return undefined;
      const n = s.slice(i + 1, e);
      i = e + 1;
      return n;
    }
    const m = /^[A-Za-z]{3,}/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  const hms = (): number | undefined => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    const v = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === "-" ? -v : v;
  };
  const date = (): RuleDate | undefined => {
    const m = /^(?:J(\d+)|(\d+)|M(\d+)\.(\d)\.(\d))/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    let time = 7200;
    if (s[i] === "/") {
      i++;
      const v = hms();
      if (v === undefined) return undefined;
      time = v;
    }
    if (m[1] !== undefined) return { kind: "J", a: Number(m[1]), b: 0, c: 0, time };
    if (m[2] !== undefined) return { kind: "n", a: Number(m[2]), b: 0, c: 0, time };
    return { kind: "M", a: Number(m[3]), b: Number(m[4]), c: Number(m[5]), time };
  };
  const stdName = name();
  const stdOff = hms();
  if (stdName === undefined || stdOff === undefined) return undefined;
  const std = { off: -stdOff, dst: false, abbr: stdName };
  // glibc's default rules when none are given: the US ones.
  const us = (): [RuleDate, RuleDate] => [
    { kind: "M", a: 3, b: 2, c: 0, time: 7200 },
    { kind: "M", a: 11, b: 1, c: 0, time: 7200 },
  ];
  if (i >= s.length) return { std, start: us()[0], end: us()[1] };
  const dstName = name();
  if (dstName === undefined) return undefined;
  let dstOff = std.off + 3600;
  if (i < s.length && s[i] !== ",") {
    const v = hms();
    if (v === undefined) return undefined;
    dstOff = -v;
  }
  const dst = { off: dstOff, dst: true, abbr: dstName };
  if (i >= s.length) return { std, dst, start: us()[0], end: us()[1] };
  i++;
  const start = date();
  if (start === undefined || s[i] !== ",") return undefined;
  i++;
  const end = date();
  if (end === undefined) return undefined;
  return { std, dst, start, end };
}

/** A TZif file's zone: its transitions, then its footer's POSIX rule past the last one. */
function parseTzif(buf: Buffer): Zone | undefined {
  if (buf.length < 44 || buf.toString("latin1", 0, 4) !== "TZif") return undefined;
  const counts = (at: number): number[] => [0, 1, 2, 3, 4, 5].map((k) => buf.readUInt32BE(at + 20 + 4 * k));
  let c = counts(0);
  let p = 44;
  let tsize = 4;
  // A version 2 file repeats its data with 64-bit times after the 32-bit block: that one is read.
  if (buf[4]! >= 0x32) {
    p += c[3]! * 5 + c[4]! * 6 + c[5]! + c[2]! * 8 + c[1]! + c[0]!;
    c = counts(p);
    p += 44;
    tsize = 8;
  }
  const [isut, isstd, leap, timecnt, typecnt, charcnt] = c as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const times: number[] = [];
  for (let k = 0; k < timecnt; k++, p += tsize)
    times.push(tsize === 8 ? Number(buf.readBigInt64BE(p)) : buf.readInt32BE(p));
  const idx = [...buf.subarray(p, p + timecnt)];
  p += timecnt;
  const raw: [number, boolean, number][] = [];
  for (let k = 0; k < typecnt; k++, p += 6) raw.push([buf.readInt32BE(p), buf[p + 4] !== 0, buf[p + 5]!]);
  const chars = buf.toString("latin1", p, p + charcnt);
  p += charcnt + leap * (tsize + 4) + isstd + isut;
  const types = raw.map(([off, dst, ai]): ZoneInfo => ({
    off,
    dst,
    abbr: chars.slice(ai, chars.indexOf("\0", ai)),
  }));
  const footer = tsize === 8 ? buf.toString("latin1", p).split("\n")[1] : undefined;
  const rule = footer ? parsePosixTz(footer) : undefined;
  const initial = types.find((ty) => !ty.dst) ?? types[0] ?? utcZone(0n);
  return (t) => {
    const n = Number(t);
    if (times.length === 0 || n < times[0]!) return rule && times.length === 0 ? ruleAt(rule, t) : initial;
    if (n >= times[times.length - 1]! && rule) return ruleAt(rule, t);
    let lo = 0;
    let hi = times.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (times[mid]! <= n) lo = mid;
      else hi = mid - 1;
    }
    return types[idx[lo]!] ?? initial;
  };
}

function fileZone(path: string): Zone | undefined {
  try {
    return parseTzif(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** The process's local time zone as glibc finds it from TZ: a zoneinfo file, or a POSIX rule. */
export function loadZone(tz: string | undefined): Zone {
  if (tz === undefined) return fileZone("/etc/localtime") ?? utcZone;
  const name = tz.startsWith(":") ? tz.slice(1) : tz;
  if (name === "") return utcZone;
  const file = fileZone(name.startsWith("/") ? name : `/usr/share/zoneinfo/${name}`);
  if (file) return file;
  const rule = parsePosixTz(name);
  return rule ? (t) => ruleAt(rule, t) : utcZone;
}

let localZone: Zone | undefined;
/** haproxy's libc reads TZ once: so does Sluice, on first use. */
export const local = (): Zone => (localZone ??= loadZone(process.env.TZ));

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** glibc's ISO 8601 week days: days since the Monday of the year's first week (negative before). */
const isoWeekDays = (yday: number, wday: number): number => yday - ((yday - wday + 4 + 378) % 7) + 3;

function isoWeek(tm: Tm): [number, number] {
  let year = tm.year;
  let days = isoWeekDays(tm.yday, tm.wday);
  if (days < 0) {
    year--;
    days = isoWeekDays(tm.yday + (isLeap(year) ? 366 : 365), tm.wday);
  } else {
    const d = isoWeekDays(tm.yday - (isLeap(year) ? 366 : 365), tm.wday);
    if (d >= 0) {
      year++;
      days = d;
    }
  }
  return [year, Math.floor(days / 7) + 1];
}

/** One conversion's flags: glibc's pad character (_ - 0, "" when none), case changes, width (-1: none). */
interface Spec {
  pad: string;
  upper: boolean;
  swap: boolean;
  width: number;
}

/** The width glibc gives any output (its `add`): zeros before it with the 0 flag, spaces otherwise. */
function widen(s: string, spec: Spec, width = spec.width): string {
  if (width <= s.length) return s;
  return (spec.pad === "0" ? "0" : " ").repeat(width - s.length) + s;
}

/**
 * glibc's number padding: up to `digits` characters, spaces with _, zeros after the sign otherwise,
 * none with -; what is left of the width then pads as for any output (spaces with -).
 */
function padded(v: number | bigint, digits: number, spec: Spec): string {
  const neg = v < 0;
  const abs = (neg ? -v : v).toString();
  const padding = digits - abs.length - (neg ? 1 : 0);
  if (spec.pad === "-" || padding <= 0) return widen((neg ? "-" : "") + abs, spec);
  if (spec.pad === "_") {
    const body = (neg ? "-" : "") + abs;
    return " ".repeat(padding) + widen(body, spec, spec.width > padding ? spec.width - padding : 0);
  }
  return (neg ? "-" : "") + "0".repeat(padding) + abs;
}

/**
 * DO_NUMBER: at least `digits` digits, or the width's (so a width pads with zeros by default);
 * %e, %k and %l (spacePad) with spaces unless 0 or - says otherwise.
 */
function number(v: number | bigint, digits: number, spec: Spec, spacePad = false): string {
  const pad = spacePad && spec.pad !== "0" && spec.pad !== "-" ? "_" : spec.pad;
  return padded(v, Math.max(digits, spec.width), pad === spec.pad ? spec : { ...spec, pad });
}

/** Conversions that take no E or O modifier, and those that refuse E or O. */
const NO_MODIFIER = "aADF";
const NO_E = "bBhdeGgHIjklmMSUVWw";
const NO_O = "cxXY";

/** glibc's strftime in the C locale; a bad conversion is copied as it is written, padded and ^ applied. */
export function strftime(fmt: string, tm: Tm, mktime: () => bigint): string {
  let out = "";
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== "%") {
      out += fmt[i];
      continue;
    }
    let j = i + 1;
    const spec: Spec = { pad: "", upper: false, swap: false, width: -1 };
    for (; j < fmt.length && "_-0^#".includes(fmt[j]!); j++) {
      if (fmt[j] === "^") spec.upper = true;
      else if (fmt[j] === "#") spec.swap = true;
      else spec.pad = fmt[j]!;
    }
    const w = /^\d+/.exec(fmt.slice(j));
    if (w) {
      spec.width = Number(w[0]);
      j += w[0].length;
    }
    let mod = "";
    if (fmt[j] === "E" || fmt[j] === "O") mod = fmt[j++]!;
    const c = fmt[j];
    const bad =
      c === undefined ||
      (mod !== "" && NO_MODIFIER.includes(c)) ||
      (mod === "E" && NO_E.includes(c)) ||
      (mod === "O" && NO_O.includes(c));
    const v = bad ? undefined : conversion(c, tm, spec, mktime);
    out += v ?? widen(spec.upper ? fmt.slice(i, j + 1).toUpperCase() : fmt.slice(i, j + 1), spec);
    i = j;
  }
  return out;
}

/** Names: ^ uppercases; # uppercases them too, but lowercases %p and %Z (whatever ^ says). */
function text(s: string, spec: Spec, swapLower = false): string {
  if (spec.swap) s = swapLower ? s.toLowerCase() : s.toUpperCase();
  else if (spec.upper) s = s.toUpperCase();
  return widen(s, spec);
}

function conversion(c: string, tm: Tm, spec: Spec, mktime: () => bigint): string | undefined {
  // A composite (%c, %D, %T...) is made without the flags, then padded; ^ uppercases it, # does not.
  const sub = (f: string): string => {
    const s = widen(strftime(f, tm, mktime), spec);
    return spec.upper ? s.toUpperCase() : s;
  };
  const hour12 = tm.hour % 12 || 12;
  switch (c) {
    case "a":
      return text(DAYS[tm.wday]!.slice(0, 3), spec);
    case "A":
      return text(DAYS[tm.wday]!, spec);
    case "b":
    case "h":
      return text(MONTHS[tm.mon]!.slice(0, 3), spec);
    case "B":
      return text(MONTHS[tm.mon]!, spec);
    case "c":
      return sub("%a %b %e %H:%M:%S %Y");
    case "C":
      return number(Math.floor(tm.year / 100), 1, spec);
    case "d":
      return number(tm.mday, 2, spec);
    case "D":
    case "x":
      return sub("%m/%d/%y");
    case "e":
      return number(tm.mday, 2, spec, true);
    case "F":
      return sub("%Y-%m-%d");
    case "g":
      return number(((isoWeek(tm)[0] % 100) + 100) % 100, 2, spec);
    case "G":
      return number(isoWeek(tm)[0], 1, spec);
    case "H":
      return number(tm.hour, 2, spec);
    case "I":
      return number(hour12, 2, spec);
    case "j":
      return number(tm.yday + 1, 3, spec);
    case "k":
      return number(tm.hour, 2, spec, true);
    case "l":
      return number(hour12, 2, spec, true);
    case "m":
      return number(tm.mon + 1, 2, spec);
    case "M":
      return number(tm.min, 2, spec);
    case "n":
      return widen("\n", spec);
    case "t":
      return widen("\t", spec);
    case "p":
      return text(tm.hour > 11 ? "PM" : "AM", spec, true);
    case "P":
      return widen(tm.hour > 11 ? "pm" : "am", spec);
    case "r":
      return sub("%I:%M:%S %p");
    case "R":
      return sub("%H:%M");
    case "s":
      // Its digits are only its own: a width pads it as any output.
      return padded(mktime(), 1, spec);
    case "S":
      return number(tm.sec, 2, spec);
    case "T":
    case "X":
      return sub("%H:%M:%S");
    case "u":
      return number(((tm.wday + 6) % 7) + 1, 1, spec);
    case "U":
      return number(Math.floor((tm.yday - tm.wday + 7) / 7), 2, spec);
    case "V":
      return number(isoWeek(tm)[1], 2, spec);
    case "w":
      return number(tm.wday, 1, spec);
    case "W":
      return number(Math.floor((tm.yday - ((tm.wday - 1 + 7) % 7) + 7) / 7), 2, spec);
    case "y":
      return number(((tm.year % 100) + 100) % 100, 2, spec);
    case "Y":
      return number(tm.year, 1, spec);
    case "z": {
      // The sign is an output of its own, padded to the width as the number after it is.
      const m = Math.trunc(Math.abs(tm.gmtoff) / 60);
      return widen(tm.gmtoff < 0 ? "-" : "+", spec) + number(Math.floor(m / 60) * 100 + (m % 60), 4, spec);
    }
    case "Z":
      return text(tm.zone, spec, true);
    case "%":
      return widen("%", spec);
    default:
      return undefined;
  }
}

/** haproxy keeps 55 bits of the date (against negative dates), then adds the offset. */
const dateOf = (n: number, offset: Arg | undefined): bigint =>
  (toBig(n) & 0x7fffffffffffffn) + BigInt(offset ?? 0);

/** ltime and utime: strftime's output, empty when it does not fit haproxy's buffer. */
export const timeFormat = (zone: () => Zone | undefined): Converter => ({
  args: ["str", "int"],
  min: 1,
  in: "int",
  out: T.Str,
  make: (args) => {
    const fmt = String(args[0]);
    // The time zone's file is read now, with the configuration, not in the middle of a request.
    local();
    return (smp) => {
      const t = dateOf(smp.num, args[1]);
      const z = zone();
      const tm = breakDown(t, z ? z(t) : GMT);
      // strftime's %s is mktime's: the fields read back as local time.
      const mktime = (): bigint => {
        if (z) return t;
        const info = local()(t);
        return t - BigInt(info.dst ? info.off - 3600 : info.off);
      };
      const out = strftime(fmt, tm, mktime);
      return str(smp, Buffer.byteLength(out, "latin1") < TRASH_SIZE ? out : "");
    };
  },
});

/** C's %0Nd: the sign, then zeros up to N characters in all. */
const zeroPad = (v: number, n: number): string =>
  (v < 0 ? "-" : "") + String(Math.abs(v)).padStart(n - (v < 0 ? 1 : 0), "0");

export const UNITS: Record<string, bigint> = { s: 1n, ms: 1000n, us: 1000000n };

/**
 * http_date: an IMF-fixdate, the offset added first; in ms or us the fraction follows the seconds
 * unpadded (haproxy's "%d"), the date being masked only after the division.
 */
export function httpDate(n: number, offset: number, unit: bigint): string {
  let v = BigInt.asIntN(64, toBig(n) + BigInt(offset));
  const frac = v % unit;
  v /= unit;
  const tm = breakDown(v & 0x7fffffffffffffn, GMT);
  const date = `${DAYS[tm.wday]!.slice(0, 3)}, ${zeroPad(tm.mday, 2)} ${MONTHS[tm.mon]!.slice(0, 3)} ${zeroPad(tm.year, 4)}`;
  const time = `${zeroPad(tm.hour, 2)}:${zeroPad(tm.min, 2)}:${zeroPad(tm.sec, 2)}`;
  return unit === 1n ? `${date} ${time} GMT` : `${date} ${time}.${frac} GMT`;
}
