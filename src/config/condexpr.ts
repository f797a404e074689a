// haproxy's condition grammar for `.if`/`.elif` and `-cc`: predicates, `!`, `&&`, `||`, parentheses.
import type { Env } from "./tokenize.js";
import { VERSION } from "../version.js";

/** Features this build advertises to `feature(NAME)`, as haproxy lists them in `-vv`. */
export const FEATURES: readonly string[] = ["TPROXY", "LINUX_TPROXY", "GETADDRINFO", "POLL", "EPOLL"];

export class CondExprError extends Error {}

/** Evaluates an expression given as the words that follow `.if` (joined as haproxy does). */
export function evalCondExpr(words: string[], env: Env): boolean {
  const p = new Parser(words.join(" "), env);
  const v = p.orExpr();
  p.skipBlanks();
  if (!p.atEnd()) throw new CondExprError(`unparsable conditional expression '${p.rest()}'`);
  return v;
}

/** haproxy compares versions by their numeric parts: "2.6" < "2.6.1" < "2.10". */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

class Parser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly env: Env,
  ) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }
  rest(): string {
    return this.s.slice(this.i);
  }
  skipBlanks(): void {
    while (this.s[this.i] === " " || this.s[this.i] === "\t") this.i++;
  }
  private eat(tok: string): boolean {
    this.skipBlanks();
    if (this.s.startsWith(tok, this.i)) {
      this.i += tok.length;
      return true;
    }
    return false;
  }

  orExpr(): boolean {
    let v = this.andExpr();
    while (this.eat("||")) {
      const r = this.andExpr();
      v = v || r;
    }
    return v;
  }

  private andExpr(): boolean {
    let v = this.term();
    while (this.eat("&&")) {
      const r = this.term();
      v = v && r;
    }
    return v;
  }

  private term(): boolean {
    if (this.eat("!")) return !this.term();
    if (this.eat("(")) {
      const v = this.orExpr();
      if (!this.eat(")")) throw new CondExprError(`expected ')' in conditional expression`);
      return v;
    }
    this.skipBlanks();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.rest());
    if (m && this.s[this.i + m[0].length] === "(") {
      this.i += m[0].length + 1;
      const args = this.args();
      return this.predicate(m[0], args);
    }
    const w = /^[^\s()&|!]*/.exec(this.rest())![0];
    if (w === "") throw new CondExprError(`unparsable conditional expression '${this.rest()}'`);
    this.i += w.length;
    // A bare word is true when it is a non-zero number; any other word is an error in haproxy.
    if (/^-?\d+$/.test(w)) return parseInt(w, 10) !== 0;
    throw new CondExprError(`unparsable conditional expression '${w}'`);
  }

  private args(): string[] {
    const args: string[] = [];
    let cur = "";
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) throw new CondExprError(`missing closing ')' in conditional expression`);
      if (c === ")") {
        args.push(cur);
        return args;
      }
      if (c === ",") {
        args.push(cur);
        cur = "";
      } else cur += c;
    }
  }

  private predicate(name: string, args: string[]): boolean {
    const need = (n: number): void => {
      if (args.length !== n || (n === 1 && args[0] === ""))
        throw new CondExprError(`'${name}' expects ${n} argument${n > 1 ? "s" : ""}`);
    };
    switch (name) {
      case "defined":
        need(1);
        return this.env[args[0]!] !== undefined;
      case "feature":
        need(1);
        return FEATURES.includes(args[0]!);
      case "streq":
        need(2);
        return args[0] === args[1];
      case "strneq":
        need(2);
        return args[0] !== args[1];
      case "version_atleast":
        need(1);
        return compareVersions(VERSION.haproxy, args[0]!) >= 0;
      case "version_before":
        need(1);
        return compareVersions(VERSION.haproxy, args[0]!) < 0;
      case "openssl_version_atleast":
      case "openssl_version_before":
        need(1);
        return false;
      default:
        throw new CondExprError(`unknown conditional expression predicate '${name}'`);
    }
  }
}
