// The keyword of the actions on general purpose counters and tags, read as haproxy 2.6 reads it:
// `sc-inc-gpc(<idx>,<sc-id>)` and `sc-set-gpt(<idx>,<sc-id>)` for the arrays, `sc-inc-gpc0(<sc-id>)`,
// `sc-inc-gpc1(<sc-id>)` and `sc-set-gpt0(<sc-id>)` for the legacy data types. Numbers are read as
// strtol reads them, what follows the closing parenthesis is ignored; the refusals in haproxy's words
// (which the legacy counters' own name the whole keyword where the others name the family).
import { strtol10 } from "./c-numbers.js";
import { toU32 } from "../acl/sample.js";

/** Where an action counts or tags: the index (legacy: gpt0 and gpc0 are 0, gpc1 1) and the slot. */
export interface GpTarget {
  idx: number;
  slot: number;
  legacy: boolean;
}

/** haproxy keeps 3 slots (MAX_SESS_STKCTR). */
const MAX_SLOT = 2;

/** The family a keyword belongs to, longest name first as haproxy's keyword lookup matches them. */
export function gpFamily(kw: string): "sc-inc-gpc" | "sc-set-gpt" | undefined {
  return kw.startsWith("sc-inc-gpc") ? "sc-inc-gpc" : kw.startsWith("sc-set-gpt") ? "sc-set-gpt" : undefined;
}

/**
 * What `kw` (one of gpFamily's) names, haproxy's refusal in its bare words, or `negative`: a negative
 * slot, which haproxy takes and then reads out of its slots' array.
 */
export type GpRead = GpTarget | { bad: string } | { negative: true };

export function gpTarget(kw: string): GpRead {
  const inc = kw.startsWith("sc-inc-gpc");
  const legacyName = inc
    ? kw[10] === "0" || kw[10] === "1"
      ? kw.slice(0, 11)
      : undefined
    : kw.startsWith("sc-set-gpt0")
      ? "sc-set-gpt0"
      : undefined;
  if (legacyName !== undefined) return legacyTarget(kw, legacyName, inc);
  const base = inc ? "sc-inc-gpc" : "sc-set-gpt";
  const what = inc ? "gpc" : "gpt";
  const expects = `Expects ${base}(<${what.toUpperCase()} ID>,<Track ID>)`;
  if (kw[base.length] !== "(") return { bad: `invalid ${what} ID '${kw}'. ${expects}` };
  const rest = kw.slice(base.length + 1);
  const idx = strtol10(rest);
  if (rest[idx.end] !== ",") return { bad: `Missing ${what} ID '${kw}'. ${expects}` };
  const after = rest.slice(idx.end + 1);
  const slot = strtol10(after);
  if (after[slot.end] !== ")") return { bad: `invalid stick table track ID '${kw}'. ${expects}` };
  return (
    checkSlot(slot.value | 0, ` '${kw}'`) ?? { idx: toU32(idx.value), slot: slot.value | 0, legacy: false }
  );
}

/** sc-inc-gpc0(N), sc-inc-gpc1(N), sc-set-gpt0(N): slot 0 without parentheses. */
function legacyTarget(kw: string, name: string, inc: boolean): GpRead {
  const idx = name === "sc-inc-gpc1" ? 1 : 0;
  const rest = kw.slice(name.length);
  // haproxy names the keyword in sc-set-gpt0's refusals only.
  const named = inc ? "" : ` '${kw}'`;
  if (rest === "") return { idx, slot: 0, legacy: true };
  const slot = rest[0] === "(" ? strtol10(rest.slice(1)) : undefined;
  if (slot === undefined || rest[slot.end + 1] !== ")")
    return { bad: `invalid stick table track ID${named}. Expects ${inc ? kw : name}(<Track ID>)` };
  return checkSlot(slot.value | 0, named) ?? { idx, slot: slot.value | 0, legacy: true };
}

function checkSlot(slot: number, named: string): Exclude<GpRead, GpTarget> | undefined {
  if (slot > MAX_SLOT)
    return { bad: `invalid stick table track ID${named}. The max allowed ID is ${MAX_SLOT}` };
  return slot < 0 ? { negative: true } : undefined;
}
