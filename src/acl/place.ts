// Where a condition is evaluated, and which samples haproxy declares usable there: its check places,
// as far as http rules and use_backend go, for its warnings about ACLs that cannot be evaluated where
// they are used. (At run time the fetches themselves find their sample there or not: fetch.ts.)
import type { AclSpec, Condition } from "../config/model.js";
import type { FetchUse } from "./fetch.js";
import { fetchUse } from "./fetch.js";
import { predefinedAcl } from "./predefined.js";

export type Place = "http-request" | "http-response" | "use-backend" | "use-server" | "persist";

// haproxy's check-place bits that matter here, in its order (a message names the lowest one).
const FE_HRQ = 1 << 3;
const FE_SET_BCK = 1 << 5;
const BE_REQ_CNT = 1 << 6;
const BE_HRQ = 1 << 7;
const BE_SET_SRV = 1 << 9;
const BE_HRS = 1 << 12;
const FE_HRS = 1 << 16;

const NAMES: [number, string][] = [
  [FE_HRQ, "frontend http-request header rule"],
  [FE_SET_BCK, "frontend use-backend rule"],
  [BE_REQ_CNT, "backend tcp-request content rule"],
  [BE_HRQ, "backend http-request header rule"],
  [BE_SET_SRV, "backend use-server, balance or stick-match rule"],
  [BE_HRS, "backend http-response header rule"],
  [FE_HRS, "frontend http-response header rule"],
];

const USABLE: Record<FetchUse, number> = {
  req: FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV,
  buffer: FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV,
  res: BE_HRS | FE_HRS,
  be: BE_REQ_CNT | BE_HRQ | BE_SET_SRV | BE_HRS | FE_HRS,
  any: FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV | BE_HRS | FE_HRS,
};

/** The check places of a rule of this kind in a proxy with a frontend side, a backend side or both. */
export function placeBits(place: Place, fe: boolean, be: boolean): number {
  if (place === "use-backend") return FE_SET_BCK;
  if (place === "use-server") return BE_SET_SRV;
  // haproxy checks them where backend content rules run, the first place past use_backend.
  if (place === "persist") return BE_REQ_CNT;
  if (place === "http-request") return (fe ? FE_HRQ : 0) | (be ? BE_HRQ : 0);
  return (fe ? FE_HRS : 0) | (be ? BE_HRS : 0);
}

/** The keyword of an ACL line as haproxy names it: the fetch without its arguments. */
const keyword = (spec: AclSpec): string => /^[^(,]*/.exec(spec.fetch)![0];

/**
 * haproxy's warning for a condition used at `where` (placeBits) when one of its ACLs cannot be
 * evaluated there at all, or else involves a keyword that cannot; undefined when all can.
 */
export function placeWarning(
  cond: Condition,
  acls: Map<string, AclSpec[]>,
  where: number,
): string | undefined {
  const place = NAMES.find(([bit]) => (where & bit) !== 0)![1];
  const terms = cond.groups.flat().map((t) => {
    const specs = t.anon ? [t.anon] : (acls.get(t.name!) ?? [predefinedAcl(t.name!)!]);
    return { name: t.anon ? undefined : t.name, specs };
  });
  for (const t of terms) {
    const val = t.specs.reduce((v, s) => v | USABLE[fetchUse(keyword(s))], 0);
    if ((val & where) !== 0) continue;
    return t.name === undefined
      ? `anonymous acl will never match because it uses keyword '${keyword(t.specs[0]!)}' which is incompatible with '${place}'`
      : `acl '${t.name}' will never match because it only involves keywords that are incompatible with '${place}'`;
  }
  for (const t of terms)
    for (const s of t.specs) {
      if ((USABLE[fetchUse(keyword(s))] & where) !== 0) continue;
      return t.name === undefined
        ? `anonymous acl involves keyword '${keyword(s)}' which is incompatible with '${place}'`
        : `acl '${t.name}' involves keywords '${keyword(s)}' which is incompatible with '${place}'`;
    }
  return undefined;
}
