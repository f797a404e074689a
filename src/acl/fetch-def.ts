// What a module of sample fetches hands fetch.ts's table: a keyword, its arguments, what it gives,
// and how it reads one transaction.
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";
import type { FetchImpl, FetchUse, MatchName } from "./fetch.js";
import type { Matcher } from "./match.js";
import type { Sample, T } from "./sample.js";

export interface FetchDef {
  name: string;
  /** Argument types, in order; the first `min` are mandatory. */
  args: ("str" | "int")[];
  min: number;
  out: T;
  /** Where its sample exists; "any" when not said. */
  use?: FetchUse;
  /** How an ACL matches it when the ACL names no method; when not said, by its type. */
  match?: MatchName;
  /** A legacy ACL keyword (its errors say "ACL keyword"), not a sample fetch ("fetch method"); by default, a name without a dot is one. */
  acl?: boolean;
  /** Why its arguments cannot be taken (haproxy's "invalid args"), or undefined. */
  check?(args: Arg[]): string | undefined;
  /** haproxy's refusal of an argument naming something that does not exist, found past parsing. */
  resolve?(args: Arg[]): string | undefined;
  /** http_auth_group: how an ACL matches its patterns (haproxy's "auth" method), or why it cannot. */
  groups?(args: Arg[], patterns: string[]): Matcher | string;
  /** Sets `smp` to the sample; false when there is none. */
  make(args: Arg[]): (ctx: SampleContext, smp: Sample) => boolean;
  /** In an ACL, every value in turn (a cursor in `smp`), where `make` gives one. */
  each?(args: Arg[]): FetchImpl;
  /** It has haproxy's derived ACL keywords too (<name>_beg, _dir, ...: DERIVED). */
  derived?: true;
}
