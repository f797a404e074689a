// Compiled http-request / http-response rules and their evaluation, in declaration order.
import type {
  CaptureAction,
  HttpRequestAction,
  HttpResponseAction,
  HttpRule,
  PatternAction,
  Proxy,
  ReplySpec,
  StrictMode,
  VarAction,
  Where,
} from "../config/model.js";
import { hasFrontend } from "../config/model.js";
import { ConfigError } from "../config/errors.js";
import { ruleReason } from "../http/errors.js";
import { outgoingVersion } from "../http/parse.js";
import { compileCondition } from "../acl/index.js";
import { compileLogFormat, formatFor, type LogFormat } from "../log/log-format.js";
import { parseFetch, type FetchImpl } from "../acl/fetch.js";
import { Sample, sampleInt } from "../acl/sample.js";
import { MAX_TIMER_MS } from "../config/duration.js";
import { parseVarName, type VarRef } from "../acl/vars.js";
import { expandReplacement } from "../acl/replacement.js";
import { argumentPurpose, logFormatArgument, type RedirectAction } from "../config/rules.js";
import { wireText } from "../http/chars.js";
import type { SampleContext } from "../acl/context.js";
import { authorityRange, pathStart } from "../acl/uri.js";
import type { HttpHead } from "../http/message.js";
import { headerIndex, headerValue } from "../http/parse.js";
import { HeadEdits } from "../http/serialize.js";
import { normalizedTarget } from "../http/uri-normalizers.js";
import type { StickTable } from "../stick/table.js";
import { findTable, inDefaults } from "../acl/scope.js";
import { stickExpression, stickRule } from "../stick/track.js";
import { setEnd } from "./client-ends.js";
import { setPriority } from "./queue-priority.js";
import { patternRefs, type PatternRefs } from "../acl/pattern-ref.js";

export type Cond = (ctx: SampleContext) => boolean;

export interface CompiledRule<A> {
  action: A;
  cond: Cond | undefined;
  /** replace-header's, replace-value's and replace-path's (-pathq, -uri) regex, compiled once. */
  regex?: RegExp;
  /** The action's log-format argument: a header's value, a replacement, a path, a method, a target. */
  format?: LogFormat;
  /** A reply's parts built for each request: its `lf-string` body, its `hdr` lines. */
  reply?: { body: LogFormat | undefined; hdrs: { name: string; value: LogFormat }[] };
  /** set-var's, set-var-fmt's and unset-var's variable. */
  ref?: VarRef;
  /** set-var's sample expression, track-sc's key, sc-set-gpt0's value when not a number. */
  fetch?: FetchImpl;
  /** track-sc's table. */
  table?: StickTable;
  /** add-acl's, del-acl's, set-map's and del-map's key (set-map's value is its `format`). */
  key?: LogFormat;
  /** The pattern files these find theirs among as they run, as haproxy does. */
  patterns?: PatternRefs;
  /** http-request auth's verdict, its realm the rule's or the proxy's name. */
  auth?: Verdict;
  /** Where it is written: last_rule_file and last_rule_line once it ends its rules. */
  where: Where;
}

/** What the request rules decided: go on, or answer the client now. */
export type Verdict =
  | { kind: "continue" }
  | ({ kind: "deny" | "tarpit" | "return" } & ReplySpec & BuiltReply)
  | { kind: "redirect"; status: number; location: string; cookie?: string }
  /** A rule's rewrite that the buffer cannot hold. */
  | { kind: "failed" }
  /** normalize-uri's `strict` found a malformed percent-encoding: haproxy's 400. */
  | { kind: "invalid" }
  /** A normalizer needed more room than haproxy's buffer gives it: a 500, whatever the strict mode. */
  | { kind: "resource" }
  /** http-request reject: the connection closes, nothing answered. */
  | { kind: "reject" }
  /** http-request or http-response silent-drop: the client's connection is given up without a word. */
  | { kind: "silent-drop" }
  /** http-request auth: a 401 with a Basic challenge for this realm. */
  | { kind: "auth"; realm: string }
  /** http-request wait-for-body: the rules go on from rule `next` once the body is in (or enough of it). */
  | { kind: "wait"; next: number; time: number; atLeast: number };

export const CONTINUE: Verdict = { kind: "continue" };
const REWRITE_FAILED: Verdict = { kind: "failed" };
const INVALID_URI: Verdict = { kind: "invalid" };
const NO_ROOM: Verdict = { kind: "resource" };
const REJECT: Verdict = { kind: "reject" };
const SILENT_DROP: Verdict = { kind: "silent-drop" };

/**
 * One set of a proxy's rules, compiled: those of the named defaults section it uses first (they read
 * that section's ACLs and name its tables, proxies and servers, as haproxy has them), then its own.
 * `compile` takes where the rules are and the proxy they run in.
 */
export function withDefaults<C>(px: Proxy, compile: (from: Proxy, as: Proxy) => C[]): C[] {
  const own = compile(px, px);
  const d = px.defaultsRules?.holder;
  if (!d) return own;
  const side = hasFrontend(px) ? "frontend" : "backend";
  return [...inDefaults(d, side, () => compile(d, { ...px, acls: d.acls })), ...own];
}

/** The rules of one side (`http-request` or `http-response`) of a proxy, compiled. */
export function compileRules<A extends HttpRequestAction | HttpResponseAction>(
  rules: HttpRule<A>[],
  px: Proxy,
  side: "request" | "response",
): CompiledRule<A>[] {
  return rules.map((r) => {
    const a = r.action;
    // haproxy reads these arguments as log-format strings (checked as the rule was parsed).
    const text = logFormatArgument(a);
    const fail = (m: string): never => {
      throw new ConfigError(m, r.where);
    };
    const format = text === undefined ? undefined : compileLogFormat(text, side, fail, argumentPurpose(a));
    let reply: CompiledRule<A>["reply"];
    if ("status" in a && (a.lf !== undefined || a.hdrs)) {
      const hdrs = (a.hdrs ?? []).map((h) => ({
        name: h.name,
        value: compileLogFormat(h.value, side, fail),
      }));
      reply = { body: a.lf === undefined ? undefined : compileLogFormat(a.lf, side, fail), hdrs };
    }
    // Checked as the rule was read.
    const regex = "regex" in a ? new RegExp(a.regex) : undefined;
    const cond = r.cond ? compileCondition(r.cond, px.acls) : undefined;
    const ref = isVarAction(a) ? (parseVarName(a.name) as VarRef) : undefined;
    const expr =
      "expr" in a
        ? a.expr
        : a.kind === "set-timeout"
          ? typeof a.time === "string"
            ? a.time
            : undefined
          : a.kind === "track-sc" || a.kind === "sc-inc-gpc" || a.kind === "sc-set-gpt"
            ? stickExpression(a)
            : undefined;
    const fetch =
      expr === undefined
        ? undefined
        : parseFetch(expr, r.where, false, { responseSide: side === "response" }).impl;
    // The configuration's reading made sure it exists.
    const table = a.kind === "track-sc" ? (findTable(a.table, 0, a.kind) as StickTable) : undefined;
    const auth: Verdict | undefined =
      a.kind === "auth" ? { kind: "auth", realm: a.realm ?? px.name } : undefined;
    // Bytes as a sample's, as its value's are (logFormatArgument): a pattern file is read as bytes too.
    const key = isPatternAction(a) ? compileLogFormat(wireText(a.key), side, fail) : undefined;
    const patterns = isPatternAction(a) ? patternRefs() : undefined;
    // Every rule has the same fields, set or not: the loops that run them see one shape.
    return { action: a, cond, regex, format, reply, ref, fetch, table, key, patterns, auth, where: r.where };
  });
}

/**
 * A proxy's http-request, http-response or http-after-response rules, compiled after those of its
 * named defaults section (withDefaults). haproxy runs the two lists as two rulesets: strict mode is
 * on again for the proxy's own rules, which a rule added after the defaults' says.
 */
export function compileHttpRules<A extends HttpRequestAction | HttpResponseAction>(
  px: Proxy,
  rules: (from: Proxy) => HttpRule<A>[],
  side: "request" | "response",
): CompiledRule<A>[] {
  return withDefaults(px, (from, as) => {
    const compiled = compileRules(rules(from), as, side);
    const last = compiled.at(-1);
    if (from !== px && last && compiled.some((r) => r.action.kind === "strict-mode"))
      // With compileRules' fields, in its order: the loops see one shape.
      compiled.push({
        action: STRICT_AGAIN as A,
        cond: undefined,
        regex: undefined,
        format: undefined,
        reply: undefined,
        ref: undefined,
        fetch: undefined,
        table: undefined,
        key: undefined,
        patterns: undefined,
        auth: undefined,
        where: last.where,
      });
    return compiled;
  });
}

const STRICT_AGAIN: StrictMode = { kind: "strict-mode", on: true };

/** What rules act on: header edits that later rules and ACLs must see are applied by re-parsing the head (rare). */
export interface RuleContext extends SampleContext {
  /** The rule that last ended its list of rules (allow, deny, redirect...), as last_rule_* read it. */
  lastRule: Where | undefined;
  /**
   * Applies the edits to the head; false, the head left as it was, when it no longer fits in a
   * buffer or cannot be read back (haproxy's failed rewrite, which its default strict mode answers
   * with a 500).
   */
  reparse(edits: HeadEdits): boolean;
  /** A rewrite failed (haproxy's failed_rewrites), whether strict mode makes it the end of the rules or not. */
  countFailedRewrite(): void;
  /**
   * `http-request strict-mode off` is in force: a failed rewrite skips its rule. Each ruleset starts
   * strict; the state lasts across a wait for the body.
   */
  softRewrites: boolean;
  /**
   * http-request wait-for-body: whether to wait, the body being neither all in, nor `atLeast` bytes
   * of it (when not 0), nor a buffer's worth, with a client still sending.
   */
  bodyAwaited(atLeast: number): boolean;
  /** http-request set-timeout: this stream's timeout server or tunnel, in milliseconds. */
  setStreamTimeout(name: "server" | "tunnel", ms: number): void;
  /** http-request disable-l7-retry: only a connection failure may have this request sent again. */
  disableL7Retry(): void;
  /** http-request early-hint: a 103 with these header lines, sent to the client now. */
  earlyHints(lines: string[]): void;
}

export function evalRequestRules(
  rules: CompiledRule<HttpRequestAction>[],
  ctx: RuleContext,
  edits: HeadEdits,
  from = 0,
  final = true,
): Verdict {
  if (from === 0) ctx.softRewrites = false;
  let hints: string[] | undefined;
  for (let i = from; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.cond && !r.cond(ctx)) continue;
    const a = r.action;
    // The verdict of a rule that ends the list, which it then names (not the redirect keyword's).
    const ends = (v: Verdict): Verdict => {
      if (final) ctx.lastRule = r.where;
      return v;
    };
    switch (a.kind) {
      case "wait-for-body":
        if (ctx.bodyAwaited(a.atLeast))
          return { kind: "wait", next: i + 1, time: a.time, atLeast: a.atLeast };
        break;
      case "allow":
        return ends(CONTINUE);
      case "reject":
        return ends(REJECT);
      case "silent-drop":
        return ends(SILENT_DROP);
      case "set-nice":
        break;
      case "auth":
        return ends(r.auth!);
      case "deny":
      case "tarpit":
      case "return":
        return ends(r.reply ? builtReply(a, r.reply, ctx) : a);
      case "redirect": {
        const v = redirectVerdict(a, r, ctx);
        if (v === undefined) break;
        return ends(v);
      }
      case "early-hint": {
        (hints ??= []).push(`${a.name.toLowerCase()}: ${formatFor(r.format!, ctx)}`);
        // haproxy gathers a run of early-hint rules into one 103; a condition starts another.
        const next = rules[i + 1];
        if (next === undefined || next.action.kind !== "early-hint" || next.cond !== undefined) {
          ctx.earlyHints(hints);
          hints = undefined;
        }
        break;
      }
      case "set-var":
      case "set-var-fmt":
      case "unset-var":
        setVar(a, r, ctx);
        break;
      case "track-sc":
      case "sc-inc-gpc":
      case "sc-set-gpt":
        stickRule(ctx, a, r.fetch, r.table, "request");
        break;
      case "capture":
        captureRule(a, r, ctx, "request");
        break;
      case "add-acl":
      case "del-acl":
      case "set-map":
      case "del-map":
        patternRule(a, r, ctx);
        break;
      case "set-timeout":
        setTimeoutRule(a, r, ctx);
        break;
      case "disable-l7-retry":
        ctx.disableL7Retry();
        break;
      case "set-log-level":
        ctx.setLogLevel?.(a.level);
        break;
      case "set-src":
      case "set-src-port":
      case "set-dst":
      case "set-dst-port":
        setEnd(a.kind, r.fetch, ctx);
        break;
      case "set-priority-class":
      case "set-priority-offset":
        setPriority(a.kind, r.fetch!, ctx);
        break;
      case "strict-mode":
        ctx.softRewrites = !a.on;
        break;
      case "normalize-uri": {
        const uri = normalizedTarget(a, ctx.req.uri);
        if (uri === 400) return ends(INVALID_URI);
        if (uri === 500) return ends(NO_ROOM);
        if (uri !== ctx.req.uri && !rewriteStartLine(ctx.req.method, uri, ctx, edits))
          return ends(REWRITE_FAILED);
        break;
      }
      case "set-method":
      case "set-path":
      case "set-pathq":
      case "set-uri":
      case "set-query":
      case "replace-path":
      case "replace-pathq":
      case "replace-uri": {
        const req = ctx.req;
        const method = a.kind === "set-method" ? formatFor(r.format!, ctx) : req.method;
        const uri = a.kind === "set-method" ? req.uri : rewriteTarget(a.kind, req.uri, r, ctx);
        // A replace-* whose regex does not match changes nothing.
        if (uri === undefined) break;
        // haproxy writes the target, then fails to write Host: the target stays when the rule is skipped.
        if (
          (a.kind === "set-uri" || a.kind === "replace-uri") &&
          !hostFromTarget(uri, method, req, edits) &&
          failsStrictly(ctx, ctx.softRewrites)
        )
          return ends(REWRITE_FAILED);
        if (!rewriteStartLine(method, uri, ctx, edits)) return ends(REWRITE_FAILED);
        break;
      }
      default: {
        const written = editHeaders(a, r, ctx, ctx.req, edits);
        if (
          written !== undefined &&
          a.name.toLowerCase() === "host" &&
          !targetFromHost(ctx.req, written, edits) &&
          failsStrictly(ctx, ctx.softRewrites)
        )
          return ends(REWRITE_FAILED);
        if (!headerRewrite(a, r, ctx, ctx.req, edits, ctx.softRewrites)) return ends(REWRITE_FAILED);
      }
    }
  }
  return CONTINUE;
}

/**
 * A rewrite that failed, which haproxy counts: true when strict mode makes it the end of the rules
 * (a 500), false when `soft` skips the rule.
 */
function failsStrictly(ctx: RuleContext, soft: boolean): boolean {
  ctx.countFailedRewrite();
  return !soft;
}

/** The request's start line with this method and target; false for a failed rewrite in strict mode. */
function rewriteStartLine(method: string, uri: string, ctx: RuleContext, edits: HeadEdits): boolean {
  edits.startLine = `${method} ${uri} ${outgoingVersion(ctx.req)}`;
  return ctx.reparse(edits) || !failsStrictly(ctx, ctx.softRewrites);
}

/**
 * A header rule's edits applied to `head`; false for a failed rewrite in strict mode. A set-header
 * skipped with strict mode off still takes the old lines away, as haproxy's, which removes them
 * before it fails to add the new one.
 */
function headerRewrite(
  a: HttpRequestAction | HttpResponseAction,
  r: CompiledRule<unknown>,
  ctx: RuleContext,
  head: HttpHead,
  edits: HeadEdits,
  soft: boolean,
): boolean {
  if (ctx.reparse(edits)) return true;
  if (failsStrictly(ctx, soft)) return false;
  if (a.kind === "set-header") {
    editHeaders({ kind: "del-header", name: a.name }, r, ctx, head, edits);
    ctx.reparse(edits);
  }
  return true;
}

/**
 * A proxy's http-request rules from rule `from` on, then, unless one of them answered or waits, its
 * `redirect` rules.
 */
export function evalRequestSide(
  side: { requestRules: CompiledRule<HttpRequestAction>[]; redirectRules: CompiledRule<HttpRequestAction>[] },
  ctx: RuleContext,
  edits: HeadEdits,
  from = 0,
): Verdict {
  const v = evalRequestRules(side.requestRules, ctx, edits, from);
  if (v.kind !== "continue" || side.redirectRules.length === 0) return v;
  return evalRequestRules(side.redirectRules, ctx, edits, 0, false);
}

/** Applies http-response rules to `edits`; returns a deny verdict or continue. */
export function evalResponseRules(
  rules: CompiledRule<HttpResponseAction>[],
  ctx: RuleContext,
  edits: HeadEdits,
): Verdict {
  let soft = false;
  for (const r of rules) {
    if (r.cond && !r.cond(ctx)) continue;
    const a = r.action;
    if (a.kind === "strict-mode") {
      soft = !a.on;
      continue;
    }
    if (a.kind === "allow") return ((ctx.lastRule = r.where), CONTINUE);
    if (a.kind === "silent-drop") return ((ctx.lastRule = r.where), SILENT_DROP);
    if (a.kind === "set-nice") continue;
    if (a.kind === "deny" || a.kind === "return")
      return ((ctx.lastRule = r.where), r.reply ? builtReply(a, r.reply, ctx) : a);
    if (a.kind === "redirect") {
      const v = redirectVerdict(a, r, ctx);
      if (v !== undefined) return ((ctx.lastRule = r.where), v);
      continue;
    }
    if (isVarAction(a)) {
      setVar(a, r, ctx);
      continue;
    }
    if (a.kind === "track-sc" || a.kind === "sc-inc-gpc" || a.kind === "sc-set-gpt") {
      stickRule(ctx, a, r.fetch, r.table, "response");
      continue;
    }
    if (a.kind === "capture") {
      captureRule(a, r, ctx, "response");
      continue;
    }
    if (a.kind === "set-log-level") {
      ctx.setLogLevel?.(a.level);
      continue;
    }
    if (isPatternAction(a)) {
      patternRule(a, r, ctx);
      continue;
    }
    editHeaders(a, r, ctx, ctx.res!, edits);
    if (!headerRewrite(a, r, ctx, ctx.res!, edits, soft)) return ((ctx.lastRule = r.where), REWRITE_FAILED);
  }
  return CONTINUE;
}

const captured = new Sample();

/** A capture rule: its sample, as text, into its slot; nothing when the sample is not there. */
function captureRule(
  a: CaptureAction,
  r: CompiledRule<unknown>,
  ctx: SampleContext,
  side: "request" | "response",
): void {
  if (r.fetch!.first(ctx, captured)) ctx.capture?.(side, a.slot, captured.getStr());
}

const timeoutSample = new Sample();

/** set-timeout: its time, or its expression's as an integer; one that gives none above 0 changes nothing. */
function setTimeoutRule(
  a: Extract<HttpRequestAction, { kind: "set-timeout" }>,
  r: CompiledRule<unknown>,
  ctx: RuleContext,
): void {
  const ms =
    typeof a.time === "number"
      ? a.time
      : r.fetch!.first(ctx, timeoutSample)
        ? sampleInt(timeoutSample)
        : undefined;
  if (ms !== undefined && ms > 0) ctx.setStreamTimeout(a.timeout, Math.min(ms, MAX_TIMER_MS));
}

const isPatternAction = (a: HttpRequestAction | HttpResponseAction): a is PatternAction =>
  a.kind === "add-acl" || a.kind === "del-acl" || a.kind === "set-map" || a.kind === "del-map";

/** A pattern file's change: nothing when no ACL or map reads a file of that name, as in haproxy. */
function patternRule(a: PatternAction, r: CompiledRule<unknown>, ctx: SampleContext): void {
  const ref = r.patterns!.get(a.file);
  if (!ref) return;
  const key = formatFor(r.key!, ctx);
  if (a.kind === "add-acl") ref.add(key);
  else if (a.kind === "set-map") ref.set(key, formatFor(r.format!, ctx));
  else ref.delete(key);
}

const isVarAction = (a: HttpRequestAction | HttpResponseAction): a is VarAction =>
  a.kind === "set-var" || a.kind === "set-var-fmt" || a.kind === "unset-var";

const varSample = new Sample();

/** A variable's rule: a sample expression that finds nothing sets nothing; a format is a string. */
function setVar(a: VarAction, r: CompiledRule<unknown>, ctx: SampleContext): void {
  const vars = ctx.vars;
  if (!vars) return;
  if (a.kind === "unset-var") return vars.unset(r.ref!);
  if (a.kind === "set-var-fmt") varSample.setStr(formatFor(r.format!, ctx));
  else if (!r.fetch!.first(ctx, varSample)) return;
  vars.set(r.ref!, varSample, a.cond);
}

/** What a reply's `hdr` lines come to for a request. */
export interface BuiltReply {
  /** Header lines, as haproxy writes them: names in lower case. */
  headers?: string[];
  /** A `Connection` line said close: it goes, and so does the connection after the reply. */
  closes?: boolean;
}

/**
 * A reply with log-format parts, built for this request: a header whose value is empty is left out,
 * and a Connection header is the client connection's business, as in haproxy's encoder.
 */
function builtReply<K extends "deny" | "tarpit" | "return">(
  a: { kind: K } & ReplySpec,
  reply: NonNullable<CompiledRule<unknown>["reply"]>,
  ctx: SampleContext,
): { kind: K } & ReplySpec & BuiltReply {
  const headers: string[] = [];
  let closes = false;
  for (const h of reply.hdrs) {
    const value = formatFor(h.value, ctx);
    const name = h.name.toLowerCase();
    if (name === "connection") closes ||= value.split(",").some((t) => t.trim().toLowerCase() === "close");
    else if (value !== "") headers.push(`${name}: ${value}`);
  }
  if (reply.body === undefined) return { ...a, headers, closes };
  // A body that comes out empty goes without its content type, as haproxy's.
  const body = formatFor(reply.body, ctx);
  return { ...a, body, contentType: body === "" ? undefined : a.contentType, headers, closes };
}

function editHeaders(
  a: HttpRequestAction | HttpResponseAction,
  r: CompiledRule<unknown>,
  ctx: SampleContext,
  head: HttpHead,
  edits: HeadEdits,
): string | undefined {
  switch (a.kind) {
    case "set-header":
    case "del-header": {
      // The value is built before the header goes: it may read it.
      const value = a.kind === "set-header" ? formatFor(r.format!, ctx) : undefined;
      const lower = a.name.toLowerCase();
      for (let i = headerIndex(head, lower); i >= 0; i = headerIndex(head, lower, i + 1)) edits.dropHeader(i);
      if (value !== undefined) edits.add.push(`${a.name}: ${value}`);
      return value;
    }
    case "add-header": {
      const value = formatFor(r.format!, ctx);
      edits.add.push(`${a.name}: ${value}`);
      return value;
    }
    case "set-status": {
      edits.startLine = `${outgoingVersion(head)} ${a.code} ${a.reason ?? ruleReason(a.code)}`;
      return undefined;
    }
    case "replace-header":
    case "replace-value": {
      const lower = a.name.toLowerCase();
      // Built once for the rule, as haproxy does, before any header changes.
      const template = formatFor(r.format!, ctx);
      let last: string | undefined;
      for (let i = headerIndex(head, lower); i >= 0; i = headerIndex(head, lower, i + 1)) {
        // As haproxy: the regex is searched for anywhere in the value (or in each of its values), and
        // a match replaces that value whole, in place.
        const value = headerValue(head, i);
        const out =
          a.kind === "replace-header"
            ? replaced(value, r.regex!, template)
            : replaceValues(value, r.regex!, template);
        if (out !== undefined) edits.rewriteHeader(i, (last = out));
      }
      return last;
    }
  }
}

/**
 * set-uri and replace-uri: a target that names an authority becomes every Host line's value, as
 * haproxy's http_update_host makes it (a CONNECT's whole target); false for an absolute target
 * without one, which haproxy counts a failed rewrite.
 */
function hostFromTarget(uri: string, method: string, req: HttpHead, edits: HeadEdits): boolean {
  const range = authorityRange(uri);
  if (range === undefined) return true;
  const authority = method === "CONNECT" ? uri : uri.slice(range[0], range[1]);
  if (authority === "") return false;
  for (let i = headerIndex(req, "host"); i >= 0; i = headerIndex(req, "host", i + 1))
    edits.rewriteHeader(i, authority);
  return true;
}

/**
 * A Host line that a rule writes (the last, when it writes several) becomes the authority of a
 * target that names one, as haproxy's http_update_authority makes it; false when that target's
 * authority is empty, which haproxy counts a failed rewrite.
 */
function targetFromHost(req: HttpHead, host: string, edits: HeadEdits): boolean {
  const uri = req.uri;
  const range = authorityRange(uri);
  if (range === undefined) return true;
  if (range[0] === range[1]) return false;
  const target = uri.slice(0, range[0]) + host + uri.slice(range[1]);
  edits.startLine = `${req.method} ${target} ${outgoingVersion(req)}`;
  return true;
}

const replaced = (value: string, regex: RegExp, template: string): string | undefined => {
  const m = regex.exec(value);
  return m ? expandReplacement(template, m) : undefined;
};

/**
 * replace-value: each comma-separated value of a header line (a comma between double quotes is part
 * of its value) that the regex finds something in is replaced with the blanks around it, the others
 * left as they were; undefined when none is.
 */
function replaceValues(line: string, regex: RegExp, template: string): string | undefined {
  let out = "";
  let changed = false;
  for (let at = 0; ;) {
    let start = at;
    while (start < line.length && isBlank(line.charCodeAt(start))) start++;
    const end = valueEnd(line, start);
    let stop = end;
    while (stop > start && isBlank(line.charCodeAt(stop - 1))) stop--;
    const r = replaced(line.slice(start, stop), regex, template);
    if (r !== undefined) changed = true;
    out += r ?? line.slice(at, end);
    if (end === line.length) break;
    out += ",";
    at = end + 1;
  }
  return changed ? out : undefined;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** Where the value starting at `from` ends: at the next comma outside a quoted string, or the end. */
function valueEnd(line: string, from: number): number {
  let quoted = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ",") return i;
  }
  return line.length;
}

/**
 * The request-target after a rule that rewrites part of it, as haproxy cuts it: an absolute one
 * keeps its scheme and authority; the path ends at the first `?`; a target without a path ("*",
 * "http://h", authority-form) is set-path's whole, up to its first `?`, and no subject for
 * replace-path and replace-pathq; set-query keeps the target's first `?` (even for an empty query)
 * and adds one only for a query that is not empty. The replace-* rules replace their part whole
 * when their regex matches it, else undefined.
 */
function rewriteTarget(
  kind: "set-path" | "set-pathq" | "set-uri" | "set-query" | "replace-path" | "replace-pathq" | "replace-uri",
  uri: string,
  r: CompiledRule<unknown>,
  ctx: SampleContext,
): string | undefined {
  const start = pathStart(uri);
  // Without a path, the target up to its first "?" is set-path's whole, and replace-path(q) have no subject.
  const q = uri.indexOf("?", Math.max(start, 0));
  const prefix = start < 0 ? "" : uri.slice(0, start);
  const path = start < 0 ? "" : uri.slice(start, q < 0 ? uri.length : q);
  const query = q < 0 ? "" : uri.slice(q);
  const rewritten = (subject: string): string | undefined =>
    subject === "" ? undefined : replaced(subject, r.regex!, formatFor(r.format!, ctx));
  switch (kind) {
    case "set-uri":
      return formatFor(r.format!, ctx);
    case "set-path":
      return prefix + formatFor(r.format!, ctx) + query;
    case "set-pathq":
      return prefix + formatFor(r.format!, ctx);
    case "set-query": {
      const value = formatFor(r.format!, ctx);
      const at = uri.indexOf("?");
      if (at >= 0) return uri.slice(0, at + 1) + value;
      return value === "" ? uri : `${uri}?${value}`;
    }
    case "replace-uri":
      return rewritten(uri);
    case "replace-path": {
      const p = rewritten(path);
      return p === undefined ? undefined : prefix + p + query;
    }
    case "replace-pathq": {
      const pq = rewritten(path === "" ? "" : path + query);
      return pq === undefined ? undefined : prefix + pq;
    }
  }
}

/** A redirect rule's answer, or undefined when ignore-empty finds its location empty (the rule does nothing). */
function redirectVerdict(
  a: RedirectAction,
  r: CompiledRule<unknown>,
  ctx: SampleContext,
): Verdict | undefined {
  const target = formatFor(r.format!, ctx);
  if (a.ignoreEmpty && a.type === "location" && target === "") return undefined;
  const location = redirectLocation(a, target, ctx.req);
  return { kind: "redirect", status: a.code, location, cookie: a.cookie };
}

function redirectLocation(a: RedirectAction, value: string, req: HttpHead): string {
  if (a.type === "location") return value;
  // As haproxy 2.6: the request's path and query (drop-query: not the query), without an
  // absolute-form target's scheme and authority, or "/" when it has no path ("*", "http://host");
  // a prefix is used as written, but a prefix of "/" adds nothing (so that a self-redirection can
  // be configured).
  const start = pathStart(req.uri);
  let path = start < 0 ? "/" : start === 0 ? req.uri : req.uri.slice(start);
  const q = a.dropQuery ? path.indexOf("?") : -1;
  if (q >= 0) path = path.slice(0, q);
  let location: string;
  // The prefix written as "/" (not one that only comes out so) adds nothing.
  if (a.type === "prefix") location = (a.value === "/" ? "" : value) + path;
  else {
    const host = headerIndex(req, "host");
    location = `${value}://${host >= 0 ? headerValue(req, host) : ""}${path}`;
  }
  return a.appendSlash && location !== "" && !location.endsWith("/") ? location + "/" : location;
}
