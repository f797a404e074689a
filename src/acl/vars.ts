// Variables (`set-var(txn.name)`, `%[var(txn.name)]`), in haproxy's scopes: `proc` for the process
// (here: the loaded configuration), `sess` for the client's connection, `txn` for one request and
// its response, `req` and `res` for one side of it (haproxy keeps them in one store, emptied when the
// response begins), and `check` for health checks, which run no rules here: such a variable is
// never set nor found.
import { Sample, T } from "./sample.js";
import type { Arg } from "./args.js";
import type { SampleContext } from "./context.js";

export const enum Scope {
  Proc,
  Sess,
  Txn,
  Req,
  Res,
  Check,
}

/** A variable name as rules and fetches refer to it. */
export interface VarRef {
  scope: Scope;
  name: string;
}

/** A stored value; a variable of no type exists but is unset (haproxy's SMP_T_ANY). */
export interface Stored {
  type: T | undefined;
  str: string | undefined;
  num: number;
}

export type VarMap = Map<string, Stored>;

/** set-var's conditions, as flags. */
export const enum Cond {
  IfExists = 1,
  IfNotExists = 2,
  IfEmpty = 4,
  IfNotEmpty = 8,
  IfSet = 16,
  IfNotSet = 32,
  IfGt = 64,
  IfLt = 128,
}

export const CONDITIONS: ReadonlyMap<string, Cond> = new Map([
  ["ifexists", Cond.IfExists],
  ["ifnotexists", Cond.IfNotExists],
  ["ifempty", Cond.IfEmpty],
  ["ifnotempty", Cond.IfNotEmpty],
  ["ifset", Cond.IfSet],
  ["ifnotset", Cond.IfNotSet],
  ["ifgt", Cond.IfGt],
  ["iflt", Cond.IfLt],
]);

const SCOPES: [string, Scope][] = [
  ["proc.", Scope.Proc],
  ["sess.", Scope.Sess],
  ["txn.", Scope.Txn],
  ["req.", Scope.Req],
  ["res.", Scope.Res],
  ["check.", Scope.Check],
];

/**
 * `scope.name`, or haproxy's reason for refusing it; `after`: what follows the name where it was
 * written (haproxy's message quotes a bad character with everything after it).
 */
export function parseVarName(text: string, after = ""): VarRef | string {
  if (text === "") return "Empty variable name cannot be accepted";
  const found = SCOPES.find(([prefix]) => text.length > prefix.length && text.startsWith(prefix));
  if (!found)
    return `invalid variable name '${text}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'`;
  const name = text.slice(found[0].length);
  const bad = name.search(/[^A-Za-z0-9_.]/);
  if (bad >= 0) return `invalid syntax at char '${name.slice(bad)}${after}'`;
  return { scope: found[1], name };
}

/** One stream's view of the variables. */
export class Vars {
  private sess: VarMap | undefined;
  private txn: VarMap | undefined;
  private reqres: VarMap | undefined;
  private reqresScope: Scope.Req | Scope.Res = Scope.Req;
  /** No stream holds the request (haproxy could not read it): only proc and sess are there. */
  private noStream = false;

  /**
   * `proc`: the process's variables. haproxy registers each `proc` name as it reads the configuration,
   * so that every one a rule can name exists, set or not: here a missing one counts as existing.
   */
  constructor(private readonly proc: VarMap) {}

  /** A new request on the connection: its own txn and req variables. */
  newTransaction(): void {
    this.txn = this.reqres = undefined;
    this.reqresScope = Scope.Req;
    this.noStream = false;
  }

  /** A request that could not be read is logged without a stream. */
  streamless(): void {
    this.noStream = true;
  }

  /** The response begins: the request's variables are gone, the response's start empty. */
  responseStarts(): void {
    if (this.reqresScope === Scope.Res) return;
    this.reqres = undefined;
    this.reqresScope = Scope.Res;
  }

  /** Puts the variable's value in `smp`, or `def` as a string when it is unset; false when neither. */
  get(ref: VarRef, smp: Sample, def: string | undefined): boolean {
    const map = this.store(ref.scope, false);
    // A scope not reachable here has no default either.
    if (map === null) return false;
    const v = map?.get(ref.name);
    if (v === undefined || v.type === undefined) {
      if (def === undefined) return false;
      smp.setStr(def);
      return true;
    }
    if (v.str !== undefined) smp.setStr(v.str, v.type);
    else smp.setInt(v.num, v.type);
    return true;
  }

  /** set-var, with its conditions, as haproxy's var_set decides. */
  set(ref: VarRef, smp: Sample, cond: number): void {
    const map = this.store(ref.scope, true);
    if (!map) return;
    let v = map.get(ref.name);
    const exists = v !== undefined || ref.scope === Scope.Proc;
    if (cond & (exists ? Cond.IfNotExists : Cond.IfExists)) return;
    if (v === undefined) {
      // Created before the other conditions are weighed: it then exists, unset.
      v = { type: undefined, str: undefined, num: 0 };
      map.set(ref.name, v);
    }
    if ((cond & Cond.IfSet && v.type === undefined) || (cond & Cond.IfNotSet && v.type !== undefined)) return;
    // Only text and bytes can be empty.
    const sized = smp.type === T.Str || smp.type === T.Bin;
    if (cond & Cond.IfEmpty && !sized) return;
    if (smp.type === T.Int && v.type === T.Int) {
      if ((cond & Cond.IfGt && !(v.num > smp.num)) || (cond & Cond.IfLt && !(v.num < smp.num))) return;
    }
    if (smp.type === T.Int || smp.type === T.Bool) {
      v.type = smp.type;
      v.str = undefined;
      v.num = smp.num;
      return;
    }
    const s = smp.rawBytes();
    if (sized && ((cond & Cond.IfNotEmpty && s === "") || (cond & Cond.IfEmpty && s !== ""))) return;
    v.type = smp.type;
    v.str = s;
  }

  unset(ref: VarRef): void {
    this.store(ref.scope, false)?.delete(ref.name);
  }

  /** The scope's variables; null when the scope is not reachable here, undefined while it has none. */
  private store(scope: Scope, create: true): VarMap | null;
  private store(scope: Scope, create: false): VarMap | null | undefined;
  private store(scope: Scope, create: boolean): VarMap | null | undefined {
    switch (scope) {
      case Scope.Proc:
        return this.proc;
      case Scope.Sess:
        return create ? (this.sess ??= new Map()) : this.sess;
      case Scope.Txn:
        if (this.noStream) return null;
        return create ? (this.txn ??= new Map()) : this.txn;
      case Scope.Req:
      case Scope.Res:
        if (this.noStream || scope !== this.reqresScope) return null;
        return create ? (this.reqres ??= new Map()) : this.reqres;
      case Scope.Check:
        return null;
    }
  }
}

/** A converter's argument that names a variable: its reference; undefined for a literal (or none). */
export function varArgument(arg: Arg | undefined): VarRef | undefined {
  if (arg === undefined || arg === "") return undefined;
  const ref = parseVarName(String(arg));
  return typeof ref === "string" ? undefined : ref;
}

const argSample = new Sample();

/** A variable's value in the stream (one shared sample, read before the next call); undefined when unset. */
export function varValue(ref: VarRef, ctx: SampleContext): Sample | undefined {
  return ctx.vars?.get(ref, argSample, undefined) ? argSample : undefined;
}

/** A variable's value as text, or undefined when there is no variable or it is not set. */
export function varText(ref: VarRef | undefined, ctx: SampleContext): string | undefined {
  return ref === undefined ? undefined : varValue(ref, ctx)?.getStr();
}
