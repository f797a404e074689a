// Where a condition is evaluated, and which samples haproxy declares usable there: its check places,
// as far as http rules and use_backend go, for its warnings about ACLs that cannot be evaluated where
// they are used. (At run time the fetches themselves find their sample there or not: fetch.ts.)
import type { AclSpec, Condition } from "../config/model.js";
import type { FetchUse } from "./fetch.js";
import { fetchUse } from "./fetch.js";
import { predefinedAcl } from "./predefined.js";

export type Place =
  | "tcp-request connection"
  | "tcp-request session"
  | "tcp-request content"
  | "http-request"
  | "http-response"
  | "use-backend"
  | "use-server"
  | "persist";

// haproxy's check-place bits that matter here, in its order (a message names the lowest one).
const FE_CON_ACC = 1 << 0;
const FE_SES_ACC = 1 << 1;
const FE_REQ_CNT = 1 << 2;
const FE_HRQ = 1 << 3;
const FE_SET_BCK = 1 << 5;
const BE_REQ_CNT = 1 << 6;
const BE_HRQ = 1 << 7;
const BE_SET_SRV = 1 << 9;
const BE_HRS = 1 << 12;
const FE_HRS = 1 << 16;

const NAMES: [number, string][] = [
  [FE_CON_ACC, "frontend tcp-request connection rule"],
  [FE_SES_ACC, "frontend tcp-request session rule"],
  [FE_REQ_CNT, "frontend tcp-request content rule"],
  [FE_HRQ, "frontend http-request header rule"],
  [FE_SET_BCK, "frontend use-backend rule"],
  [BE_REQ_CNT, "backend tcp-request content rule"],
  [BE_HRQ, "backend http-request header rule"],
  [BE_SET_SRV, "backend use-server, balance or stick-match rule"],
  [BE_HRS, "backend http-response header rule"],
  [FE_HRS, "frontend http-response header rule"],
];

const STREAM = FE_REQ_CNT | FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV | BE_HRS | FE_HRS;

const USABLE: Record<FetchUse, number> = {
  req: FE_REQ_CNT | FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV,
  buffer: FE_REQ_CNT | FE_HRQ | FE_SET_BCK | BE_REQ_CNT | BE_HRQ | BE_SET_SRV,
  res: BE_HRS | FE_HRS,
  be: BE_REQ_CNT | BE_HRQ | BE_SET_SRV | BE_HRS | FE_HRS,
  srv: BE_HRS | FE_HRS,
  srvconn: BE_HRS | FE_HRS,
  any: STREAM,
  conn: FE_CON_ACC | FE_SES_ACC | STREAM,
};

/** A sample of this source can be had at `where` (placeBits). */
export const reachable = (use: FetchUse, where: number): boolean => (USABLE[use] & where) !== 0;

/** The fetch keyword can yield a sample at `where` (placeBits). */
export const usableAt = (fetch: string, where: number): boolean => reachable(fetchUse(fetch), where);

/** The check places of a rule of this kind in a proxy with a frontend side, a backend side or both. */
export function placeBits(place: Place, fe: boolean, be: boolean): number {
  if (place === "tcp-request connection") return FE_CON_ACC;
  if (place === "tcp-request session") return FE_SES_ACC;
  if (place === "tcp-request content") return (fe ? FE_REQ_CNT : 0) | (be ? BE_REQ_CNT : 0);
  if (place === "use-backend") return FE_SET_BCK;
  if (place === "use-server") return BE_SET_SRV;
  // haproxy checks them where backend content rules run, the first place past use_backend.
  if (place === "persist") return BE_REQ_CNT;
  if (place === "http-request") return (fe ? FE_HRQ : 0) | (be ? BE_HRQ : 0);
  return (fe ? FE_HRS : 0) | (be ? BE_HRS : 0);
}

/** The keyword of an ACL line as haproxy names it: the fetch without its arguments. */
export const keyword = (spec: AclSpec): string => /^[^(,]*/.exec(spec.fetch)![0];

/** The ACL lines of a condition's terms: a named ACL's own lines, else the predefined one's. */
const termSpecs = (cond: Condition, acls: Map<string, AclSpec[]>): AclSpec[][] =>
  cond.groups.flat().map((t) => (t.anon ? [t.anon] : (acls.get(t.name!) ?? [predefinedAcl(t.name!)!])));

/** The fetch keywords a condition reads. */
export const conditionFetches = (cond: Condition, acls: Map<string, AclSpec[]>): string[] =>
  termSpecs(cond, acls).flat().map(keyword);

/**
 * haproxy's warning for a condition used at `where` (placeBits) when one of its ACLs cannot be
 * evaluated there at all, or else involves a keyword that cannot; undefined when all can. A
 * tcp-request rule's warnings name the rule (`tcpRule`, e.g. "tcp-request connection").
 */
export function placeWarning(
  cond: Condition,
  acls: Map<string, AclSpec[]>,
  where: number,
  tcpRule?: string,
): string | undefined {
  const place = NAMES.find(([bit]) => (where & bit) !== 0)![1];
  const inRule = tcpRule === undefined ? "" : ` in '${tcpRule}'`;
  const specs = termSpecs(cond, acls);
  const terms = cond.groups.flat().map((t, i) => ({ name: t.anon ? undefined : t.name, specs: specs[i]! }));
  for (const t of terms) {
    if (t.specs.some((s) => usableAt(keyword(s), where))) continue;
    return t.name === undefined
      ? `anonymous acl will never match${inRule} because it uses keyword '${keyword(t.specs[0]!)}' which is incompatible with '${place}'`
      : `acl '${t.name}' will never match${inRule} because it only involves keywords that are incompatible with '${place}'`;
  }
  for (const t of terms)
    for (const s of t.specs) {
      if (usableAt(keyword(s), where)) continue;
      const kws = tcpRule === undefined ? "keywords" : "keyword";
      return t.name === undefined
        ? `anonymous acl involves keyword '${keyword(s)}' which is incompatible with '${place}'`
        : `acl '${t.name}' involves ${kws} '${keyword(s)}' which is incompatible with '${place}'`;
    }
  return undefined;
}
