// Conditions (`if|unless ...`) and the actions of `http-request` / `http-response` lines.
import { parseSize } from "./stick-table.js";
import { readFileSync } from "node:fs";
import type {
  AddrAction,
  CaptureAction,
  CondTerm,
  Condition,
  HttpRequestAction,
  HttpResponseAction,
  PatternAction,
  PriorityAction,
  NormalizeUri,
  ReplySpec,
  SetAction,
  StickAction,
  StrictMode,
  TrackSpec,
  UriNormalizer,
  VarAction,
  Where,
} from "./model.js";
import type { ErrorFile } from "../http/errorfile.js";
import { HAPROXY_PAGES } from "../http/errors.js";
import { wireText } from "../http/chars.js";
import { sourceName } from "../acl/sample-expression.js";
import { compileLogFormat, type LogFormat } from "../log/log-format.js";
import { fetchReason, parseFetch, type FetchUse } from "../acl/fetch.js";
import { placeBits, reachable, type Place } from "../acl/place.js";
import { gpFamily, gpTarget } from "./gp-actions.js";
import { CONDITIONS, parseVarName } from "../acl/vars.js";
import { invalidRegex } from "../acl/replacement.js";
import { ConfigError } from "./errors.js";
import { atol } from "./c-numbers.js";
import { parseTime } from "./duration.js";
import { LEVELS } from "./log-target.js";
import { NICE_USAGE, niceIgnored, socketOptionRefusal } from "./socket-actions.js";

/** Splits `words` at `if`/`unless`: the words before and the parsed condition after. */
export function splitCondition(words: string[], where: Where): { head: string[]; cond?: Condition } | string {
  const at = words.findIndex((w) => w === "if" || w === "unless");
  if (at < 0) return { head: words };
  const cond = parseCondition(words.slice(at + 1), words[at] === "unless", where);
  if (typeof cond === "string") return cond;
  return { head: words.slice(0, at), cond };
}

/**
 * Terms ANDed in groups that `||` (or `or`, in any case) separates, as haproxy reads them: each `!`
 * turns the next term's sense (a lone one is an empty word, skipped), a group is made by its first
 * term (`if` alone, or `if a ||`, adds nothing), and a condition without any never holds (so
 * `unless` alone always does). The first empty word ends it.
 */
export function parseCondition(words: string[], unless: boolean, where: Where): Condition | string {
  const groups: CondTerm[][] = [[]];
  let negate = false;
  for (let i = 0; i < words.length && words[i] !== ""; i++) {
    let w = words[i]!;
    while (w.startsWith("!")) {
      negate = !negate;
      w = w.slice(1);
    }
    if (w === "") continue;
    if (w === "||" || w.toLowerCase() === "or") {
      if (groups[groups.length - 1]!.length > 0) groups.push([]);
      negate = false;
      continue;
    }
    const group = groups[groups.length - 1]!;
    if (w === "{") {
      const close = words.indexOf("}", i + 1);
      if (close < 0) return "missing closing '}' in condition";
      const inner = words.slice(i + 1, close);
      if (inner.length === 0) return "missing fetch method in ACL expression ''";
      group.push({ negate, anon: { fetch: inner[0]!, words: inner.slice(1), where } });
      i = close;
    } else group.push({ negate, name: w });
    negate = false;
  }
  if (groups[groups.length - 1]!.length === 0) groups.pop();
  return { unless, groups, where };
}

/**
 * deny/tarpit/return and http-error share haproxy's reply words: `status N`, `content-type T`, and
 * one payload: `string S`, `file F`, `errorfile F` (a whole response), `errorfiles NAME` (an
 * http-errors section's file for the status) or `default-errorfiles` (the proxy's page for it). A
 * deny (or tarpit) with no words at all, or only `deny_status N`, sends the proxy's page for its
 * status; any other words make an explicit reply, which has no body but its payload (haproxy 2.6's
 * rule: `deny status 400` is empty, `deny deny_status 400` the page). Reads words from the first
 * and returns the reply and the index of the first word it did not take.
 */
export function parseReply(
  words: string[],
  deny: boolean,
  defStatus: number,
  r: ReplyReporter,
): { reply: ReplySpec; next: number } | string {
  const fail = r.fail;
  let status = defStatus;
  let contentType: string | undefined;
  let body: string | undefined;
  let lf: string | undefined;
  let errorfile: ErrorFile | undefined;
  let errorfiles: string | undefined;
  let payload: string | undefined;
  const hdrs: { name: string; value: string }[] = [];
  let page = deny && (words.length === 0 || (words[0] === "deny_status" && words.length <= 2));
  let i = 0;
  while (i < words.length) {
    // Past a leading deny_status, haproxy reads its words as a reply's: deny_status is status.
    const kw = i === 0 && deny && words[0] === "deny_status" ? "status" : words[i]!;
    const v = words[i + 1];
    if (!REPLY_WORDS.has(kw)) break;
    if (PAYLOADS.has(kw)) {
      if (payload !== undefined) return fail(`unexpected '${kw}' argument, '${payload}' already defined`);
      payload = kw;
    }
    if (kw === "default-errorfiles") {
      page = true;
      i++;
      continue;
    }
    if (kw === "hdr") {
      const value = words[i + 2];
      if (!v || !value) return fail(`'hdr' expects <name> and <value> as arguments`);
      const lower = v.toLowerCase();
      if (lower === "content-length" || lower === "transfer-encoding" || lower === "content-type")
        r.warning(`header '${v}' always ignored by the http reply.`);
      else {
        const bad = r.logFormat(wireText(value));
        if (bad) return fail(bad);
        hdrs.push({ name: wireText(v), value: wireText(value) });
      }
      i += 3;
      continue;
    }
    if (v === undefined || v === "") return fail(`'${kw}' expects ${REPLY_WORDS.get(kw)} as argument`);
    i += 2;
    if (kw === "status") {
      status = atol(v);
      if (status < 200 || status > 599) return fail(`Unexpected status code '${status}'`);
    } else if (kw === "content-type") contentType = wireText(v);
    else if (kw === "string") body = wireText(v);
    else if (kw === "lf-string") lf = wireText(v);
    else if (kw === "errorfiles") errorfiles = v;
    else if (kw === "errorfile") {
      const f = r.load(v);
      if (typeof f === "string") return fail(f);
      errorfile = f;
    } else {
      // file, lf-file: read once, at start-up, like haproxy; relative paths from the current directory.
      const text = readPayload(v, r.bufsize);
      if (text.error) return fail(text.error);
      if (kw === "file") body = text.body;
      else lf = text.body;
    }
  }
  const next = i;
  if (payload === "errorfile" || payload === "errorfiles" || payload === "default-errorfiles") {
    // haproxy's own message ends with a dot, and it adds another.
    if (payload !== "errorfile" && !HAPROXY_PAGES.has(status))
      return fail(`status code '${status}' not handled by default with '${payload}' argument.`);
    if (contentType !== undefined)
      r.warning(`content-type '${contentType}' ignored by the http reply when used with an erorrfile.`);
    if (hdrs.length > 0) r.warning(`hdr parameters ignored by the http reply when used with an erorrfile.`);
    return { reply: { status, errorfile, errorfiles }, next };
  }
  const extra = hdrs.length > 0 ? { hdrs } : {};
  if (lf !== undefined) {
    if (status === 204 || status === 304) return fail(`No body expected for ${status} responses`);
    if (contentType === undefined) return fail(`a content type must be defined with a log-format payload`);
    const bad = r.logFormat(lf);
    if (bad) return fail(bad);
    return { reply: { status, contentType, lf, ...extra }, next };
  }
  if (body !== undefined && body !== "") {
    if (status === 204 || status === 304) return fail(`No body expected for ${status} responses`);
    if (contentType === undefined)
      return fail(`a content type must be defined when non-empty payload is configured`);
  }
  if (contentType !== undefined && !body) {
    r.warning(
      body === undefined
        ? `content-type '${contentType}' ignored by the http reply because neither errorfile nor payload defined.`
        : `content-type '${contentType}' ignored by the http reply when used with an empty payload.`,
    );
    contentType = undefined;
  }
  // Without a payload, a deny with haproxy's page needs one for its status.
  if (body === undefined && page && !HAPROXY_PAGES.has(status))
    return fail(`status code '${status}' not handled by default with 'default-errorfiles' argument.`);
  return { reply: { status, contentType, body: body ?? (page ? undefined : ""), ...extra }, next };
}

/** A reply's `file` or `lf-file`: its bytes (one character each), or haproxy's reason for refusing it. */
function readPayload(path: string, bufsize: number): { body?: string; error?: string } {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const reading = (e as NodeJS.ErrnoException).code === "EISDIR";
    return { error: `error ${reading ? "reading" : "opening"} file '${path}'` };
  }
  if (raw.length > bufsize)
    return { error: `file '${path}' exceeds the buffer size (${raw.length} > ${bufsize})` };
  return { body: raw.toString("latin1") };
}

/** The words of a reply, and what each expects after it. */
const REPLY_WORDS = new Map([
  ["status", "<status_code>"],
  ["content-type", "<ctype>"],
  ["string", "<str>"],
  ["file", "<file>"],
  ["lf-string", "<fmt>"],
  ["lf-file", "<file>"],
  ["errorfile", "<fmt>"],
  ["errorfiles", "<name>"],
  ["default-errorfiles", ""],
  ["hdr", ""],
]);
const PAYLOADS = new Set([
  "string",
  "file",
  "lf-string",
  "lf-file",
  "errorfile",
  "errorfiles",
  "default-errorfiles",
]);

const ENDS_REPLY = "expects either 'if' or 'unless' followed by a condition but found ";

/** A word that ends a reply where a condition should be: haproxy places that message `parsing [f:l]:`. */
export const endsReply = (message: string): boolean => message.includes(ENDS_REPLY);

/** For a reply: its warnings, its errorfiles, its log-format checks, and how its errors are worded. */
export interface ReplyReporter {
  warning(message: string): void;
  /** An errorfile, read once, or why it cannot be. */
  load(path: string): ErrorFile | string;
  /** Why a log-format argument (a body, a header's value) is refused here, or undefined. */
  logFormat(text: string): string | undefined;
  /** tune.bufsize: a payload file must fit in it. */
  bufsize: number;
  fail(message: string): string;
}

/** For a rule: a reply's reporter but for its errors, and the proxy that haproxy's messages name. */
export interface RuleReporter extends Omit<ReplyReporter, "fail" | "logFormat"> {
  /** "frontend 'f'", "proxy 'l'"... */
  proxy: string;
  /** The proxy has a frontend side, a backend side: what its rules' samples can reach (placeBits). */
  fe: boolean;
  be: boolean;
}

/** Where a rule of this side runs in the reporter's proxy (placeBits). */
const rulePlace = (r: Pick<RuleReporter, "fe" | "be">, side: "request" | "response"): number =>
  placeBits(side === "request" ? "http-request" : "http-response", r.fe, r.be);

/** haproxy's words for a rule it cannot read: `error detected in frontend 'f' while parsing 'http-request deny' rule : ...`. */
const ruleError = (r: Pick<RuleReporter, "proxy">, rule: string, m: string): string =>
  `error detected in ${r.proxy} while parsing '${rule}' rule : ${m}.`;

/** A rule's reply: its words, and nothing after them but a condition (split off before). */
function ruleReply(
  words: string[],
  deny: boolean,
  defStatus: number,
  r: RuleReporter,
  rule: string,
): ReplySpec | string {
  const side = rule.startsWith("http-response") ? "response" : "request";
  const parsed = parseReply(words, deny, defStatus, {
    ...r,
    fail: (m) => ruleError(r, rule, m),
    logFormat: (text) => logFormatProblem(text, side, "rule", rulePlace(r, side)),
  });
  if (typeof parsed === "string") return parsed;
  return parsed.next < words.length ? unexpected(rule, words[parsed.next]!) : parsed.reply;
}

/** The text of an action's log-format argument: a header's value, a replacement, a path, a method, a target. */
export function logFormatArgument(a: HttpRequestAction | HttpResponseAction): string | undefined {
  const text = "value" in a ? a.value : "replace" in a ? a.replace : undefined;
  return text === undefined ? undefined : wireText(text);
}

/** How haproxy writes an action's log-format argument: set-var-fmt's like a name made per request. */
export const argumentPurpose = (a: HttpRequestAction | HttpResponseAction): "rule" | "name" =>
  a.kind === "set-var-fmt" ? "name" : "rule";

/** haproxy's refusal of an action's log-format argument, or undefined when it compiles. */
export function logFormatError(
  a: HttpRequestAction | HttpResponseAction,
  side: "request" | "response",
  r: RuleReporter,
  ruleset = `http-${side}`,
): string | undefined {
  const text = logFormatArgument(a);
  const bad =
    text === undefined ? undefined : logFormatProblem(text, side, argumentPurpose(a), rulePlace(r, side));
  return bad === undefined ? undefined : ruleError(r, `${ruleset} ${a.kind}`, bad);
}

/** Why a log-format string cannot be compiled for that side, or undefined when it can. */
function logFormatProblem(
  text: string,
  side: "request" | "response",
  purpose: "rule" | "name",
  place: number,
): string | undefined {
  try {
    compileLogFormat(
      text,
      side,
      (m) => {
        throw new ConfigError(m);
      },
      purpose,
      place,
    );
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message;
  }
  return undefined;
}

/**
 * Whether a use_backend name is a format built per request: it has a `%` in it, but for a lone
 * leading `%%` (haproxy then has one text part, and takes the name as written).
 */
export const isBackendFormat = (name: string): boolean => name.includes("%") && !/^%%[^%]*$/.test(name);

/**
 * A use_backend name as a log-format string: its text when it has no sample in it (the name is then
 * the one written), else what makes it per request. Throws a ConfigError when it cannot be compiled.
 */
export function backendNameFormat(name: string): LogFormat {
  return compileLogFormat(
    wireText(name),
    "request",
    (m) => {
      throw new ConfigError(m);
    },
    "name",
    placeBits("use-backend", true, false),
  );
}

/** A redirect: `http-request redirect`, or the `redirect` keyword. */
export type RedirectAction = Extract<HttpRequestAction, { kind: "redirect" }>;

/**
 * The words of a redirect, in any order, as haproxy reads them; haproxy's reason when it cannot.
 * `logFormat`: the target is a log-format string (http-request redirect); the `redirect` keyword's
 * is taken as written.
 */
export function parseRedirect(args: string[], logFormat: boolean): RedirectAction | string {
  let type: RedirectAction["type"] | undefined;
  let value = "";
  let code = 302;
  let cookie: string | undefined;
  const flags = { dropQuery: false, appendSlash: false, ignoreEmpty: false };
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "drop-query") flags.dropQuery = true;
    else if (w === "append-slash") flags.appendSlash = true;
    else if (w === "ignore-empty") flags.ignoreEmpty = true;
    else if (REDIRECT_WORDS.has(w)) {
      const v = args[++i];
      if (!v) return `missing argument for '${w}'`;
      if (w === "code") {
        code = atol(v);
        if (code < 301 || code > 308 || (code > 303 && code < 307))
          return `'code': unsupported HTTP code '${v}' (must be one of 301, 302, 303, 307 or 308)`;
      } else if (w === "set-cookie") cookie = `${wireText(v)}; path=/;`;
      else if (w === "clear-cookie") cookie = `${wireText(v)}; path=/; Max-Age=0;`;
      else {
        type = w as RedirectAction["type"];
        // Taken as written: a log-format string whose every percent sign is a percent sign.
        value = logFormat ? v : v.replace(/%/g, "%%");
      }
    } else
      return `expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '${w}')`;
  }
  if (type === undefined) return `redirection type expected ('prefix', 'location', or 'scheme')`;
  return { kind: "redirect", type, value, code, ...flags, ...(cookie !== undefined && { cookie }) };
}

const REDIRECT_WORDS = new Set(["location", "prefix", "scheme", "set-cookie", "clear-cookie", "code"]);

/** A word after an action that takes no more: haproxy wanted a condition there. */
const unexpected = (rule: string, word: string): string => `'${rule}' ${ENDS_REPLY}'${word}'.`;

const nameValue = (
  words: string[],
  rule: string,
  r: RuleReporter,
): { name: string; value: string } | string => {
  // haproxy takes an empty word ("") for a missing one.
  if (words.length !== 2 || words.includes("")) return ruleError(r, rule, "expects exactly 2 arguments");
  return { name: words[0]!, value: words[1]! };
};

/** `del-header NAME`: haproxy reads more words as `-m METH` or a condition (sluice takes neither yet). */
const delHeader = (args: string[], rule: string, r: RuleReporter) => {
  if (args.length === 0 || args[0] === "") return ruleError(r, rule, "expects at least 1 argument");
  if (args.length > 1 && args[1] !== "-m") return unexpected(rule, args[1]!);
  return args.length === 1
    ? { kind: "del-header" as const, name: args[0]! }
    : `'${rule} -m' is not supported by sluice yet`;
};

/**
 * `replace-header|replace-value NAME REGEX FORMAT`: three words, none empty; a fourth can only be a
 * condition's.
 */
const replaceHeader = (
  kind: "replace-header" | "replace-value",
  args: string[],
  rule: string,
  r: RuleReporter,
) => {
  if (args.length < 3 || args.slice(0, 3).includes(""))
    return ruleError(r, rule, "expects exactly 3 arguments");
  if (args.length > 3) return unexpected(rule, args[3]!);
  const bad = invalidRegex(args[1]!);
  if (bad) return ruleError(r, rule, bad);
  return { kind, name: args[0]!, regex: args[1]!, replace: args[2]! };
};

const VAR_ACTIONS = "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'";

/** An action word that haproxy hands to its variables' parser (it matches them by prefix). */
const isVarKeyword = (kw: string): boolean => kw.startsWith("set-var") || kw.startsWith("unset-var");

/**
 * `set-var(scope.name[,cond...]) EXPR`, `set-var-fmt(...) FORMAT` or `unset-var(scope.name)`, checked
 * in haproxy's order: the parentheses, the conditions, the name, then the expression or format.
 */
function varAction(
  kw: string,
  args: string[],
  side: "request" | "response",
  r: RuleReporter,
  ruleset = `http-${side}`,
): VarAction | string {
  const rule = `${ruleset} ${kw}`;
  const fail = (m: string): string => ruleError(r, rule, m);
  const kind = kw.startsWith("set-var-fmt")
    ? "set-var-fmt"
    : kw.startsWith("set-var")
      ? "set-var"
      : "unset-var";
  const open = kind.length;
  if (kw[open] !== "(") return fail(`invalid or incomplete action '${kw}'. ${VAR_ACTIONS}`);
  if (!kw.endsWith(")")) return fail(`incomplete argument after action '${kw}'. ${VAR_ACTIONS}`);
  const inner = kw.slice(open + 1, -1);
  const comma = inner.indexOf(",");
  const name = comma < 0 ? inner : inner.slice(0, comma);
  const conds = comma < 0 ? [] : inner.slice(comma + 1).split(",");
  if (kind === "unset-var" && conds.length > 0 && conds[0] !== "")
    return fail(
      `unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" manage conditions`,
    );
  let cond = 0;
  // An empty condition ends the list, as in haproxy.
  for (const c of conds) {
    if (c === "") break;
    const flag = CONDITIONS.get(c);
    if (flag === undefined) return fail(`unknown condition "${c}"`);
    cond |= flag;
  }
  const ref = parseVarName(name, kw.slice(open + 1 + name.length));
  if (typeof ref === "string") return fail(ref);
  if (kind === "unset-var") return args.length > 0 ? unexpected(rule, args[0]!) : { kind, name };
  if (args.length > 1) return unexpected(rule, args[1]!);
  const arg = args[0] ?? "";
  if (kind === "set-var-fmt") {
    const bad = logFormatProblem(arg, side, "rule", rulePlace(r, side));
    return bad === undefined ? { kind, name, cond, value: arg } : fail(bad);
  }
  // Text is sent as the configuration's UTF-8 bytes, as in every other rule argument.
  const expr = wireText(arg);
  return expressionProblem(expr, kw, rule, side, r) ?? { kind, name, cond, expr };
}

/**
 * A sample expression of a rule: what parseFetch says is wrong with it, in a rule's words. Where the
 * expression reads what the rule's place has not (the response, the backend, the server), haproxy
 * names `kw`: set-var's keyword, the expression itself for track-sc, sc-set-gpt0 and capture.
 */
function expressionProblem(
  expr: string,
  kw: string,
  rule: string,
  side: "request" | "response",
  r: Pick<RuleReporter, "proxy" | "fe" | "be">,
): string | undefined {
  const bad = expressionReason(expr, kw, side, r);
  return bad === undefined ? undefined : ruleError(r, rule, bad);
}

/** What is wrong with a rule's sample expression, in haproxy's bare words (a tcp-request rule's). */
function expressionReason(
  expr: string,
  kw: string,
  side: "request" | "response",
  r: Pick<RuleReporter, "fe" | "be">,
  at?: Place,
): string | undefined {
  const use = expressionUse(expr, side);
  if (typeof use === "object") return use.bad;
  if (!reachable(use, at ? placeBits(at, r.fe, r.be) : rulePlace(r, side)))
    return `fetch method '${kw}' extracts information from '${sourceName(use)}', none of which is available here`;
  return undefined;
}

/** What a sample expression reads, or why it cannot be read at all. */
function expressionUse(expr: string, side: "request" | "response"): FetchUse | { bad: string } {
  if (!/^[A-Za-z0-9._\-+:]/.test(expr)) return { bad: "missing fetch method" };
  try {
    return parseFetch(expr, { file: "", line: 0 }, false, { responseSide: side === "response" }).kw.use;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { bad: fetchReason(e.message) };
  }
}

const LOG_LEVEL_USAGE = "expects exactly 1 argument (log level name or 'silent')";

/** set-log-level's word: a syslog level (0 to 7), -1 for `silent`, undefined for anything else. */
function logLevelOf(word: string | undefined): number | undefined {
  if (word === "silent") return -1;
  const n = (LEVELS as readonly string[]).indexOf(word ?? "");
  return n < 0 ? undefined : n;
}

const ADDR_ACTIONS = new Set(["set-src", "set-src-port", "set-dst", "set-dst-port"]);
export const isAddrKeyword = (kw: string | undefined): kw is AddrAction["kind"] => ADDR_ACTIONS.has(kw ?? "");

export const isPriorityKeyword = (kw: string | undefined): kw is PriorityAction["kind"] =>
  kw === "set-priority-class" || kw === "set-priority-offset";

/**
 * set-log-level's level, or the expression of set-src (and its kin) or set-priority-class (-offset),
 * in a rule named `rule`: the action, or haproxy's reason in an http rule's words or, `tcp`, a
 * tcp-request rule's. haproxy checks their expressions where an http-request rule runs, whatever the
 * rule set.
 */
export function setAction(
  kw: SetAction["kind"],
  arg: string | undefined,
  rule: string,
  tcp: boolean,
  r: Pick<RuleReporter, "proxy" | "fe" | "be">,
): SetAction | string {
  const fail = (m: string): string => (tcp ? m : ruleError(r, rule, m));
  if (kw === "set-log-level") {
    const level = logLevelOf(arg);
    return level === undefined ? fail(LOG_LEVEL_USAGE) : { kind: kw, level };
  }
  const expr = wireText(arg ?? "");
  // What haproxy's refusal names: set-src's expression, set-priority-*'s first word of the line.
  const named = !isPriorityKeyword(kw) ? expr : tcp ? "tcp-request" : kw;
  const bad = expressionReason(expr, named, "request", r);
  return bad === undefined ? ({ kind: kw, expr } as AddrAction | PriorityAction) : fail(bad);
}

/** setAction in an http-request or http-response rule, which takes nothing after its word but a condition. */
function httpSetAction<K extends SetAction["kind"]>(
  kw: K,
  args: string[],
  rule: string,
  r: RuleReporter,
): Extract<SetAction, { kind: K }> | string {
  const set = setAction(kw, args[0], rule, false, r);
  if (typeof set === "string") return set;
  if (args.length > 1) return unexpected(rule, args[1]!);
  return set as Extract<SetAction, { kind: K }>;
}

/** `track-scN KEY [table NAME]` of an http-request or tcp-request rule; `rule` names it in errors. */
function trackAction(
  kw: string,
  args: string[],
  rule: string,
  side: "request" | "response",
  r: Pick<RuleReporter, "proxy" | "fe" | "be">,
): TrackSpec | string {
  const n = kw.slice("track-sc".length);
  if (!/^\d+$/.test(n)) return ruleError(r, rule, `Wrong track-sc number '${n}'`);
  const slot = Number(n);
  if (slot > 2) return ruleError(r, rule, `${n} track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value`);
  const key = args[0] === undefined ? "" : wireText(args[0]);
  const bad = expressionProblem(key, key, rule, side, r);
  if (bad !== undefined) return bad;
  let next = 1;
  let table: string | undefined;
  if (args[1] === "table") {
    if (args[2] === undefined || args[2] === "") return ruleError(r, rule, "missing table name");
    table = args[2];
    next = 3;
  }
  if (args.length > next) return unexpected(rule, args[next]!);
  return { slot, key, ...(table !== undefined && { table }) };
}

/**
 * track-sc, sc-inc-gpc* or sc-set-gpt* in a rule named `rule` (`http-request`, `tcp-request
 * content`...); `side` says which message its expressions may read, `at` where a tcp-request rule
 * checks them. A tcp-request rule's refusals of the counters' actions are haproxy's bare words.
 */
export function stickAction(
  kw: string,
  args: string[],
  rule: string,
  side: "request" | "response",
  r: Pick<RuleReporter, "proxy" | "fe" | "be">,
  at?: Place,
): StickAction | string {
  if (kw.startsWith("track-sc")) {
    const t = trackAction(kw, args, rule, side, r);
    return typeof t === "string" ? t : { kind: "track-sc", ...t };
  }
  const fail = (m: string): string => (at ? m : ruleError(r, rule, m));
  const target = gpTarget(kw);
  if ("negative" in target) return `'${rule}' with a negative track ID is not supported by sluice yet.`;
  if ("bad" in target) return fail(target.bad);
  if (gpFamily(kw) === "sc-inc-gpc")
    return args.length > 0 ? unexpected(rule, args[0]!) : { kind: "sc-inc-gpc", ...target };
  if (args.length > 1) return unexpected(rule, args[1]!);
  const text = args[0] ?? "";
  // A whole decimal number (none at all is 0) is a constant, anything else an expression.
  if (/^([-+]?\d+)?$/.test(text)) return { kind: "sc-set-gpt", ...target, set: Number(text) };
  const expr = wireText(text);
  if (at === "tcp-request connection") {
    // haproxy 2.6 takes no expression there, whatever it reads (its own bug).
    const use = expressionUse(expr, side);
    return fail(
      typeof use === "object" ? use.bad : "internal error, unexpected rule->from=0, please report this bug!",
    );
  }
  const bad = expressionReason(expr, expr, side, r, at);
  return bad === undefined ? { kind: "sc-set-gpt", ...target, set: expr } : fail(bad);
}

export const isStickKeyword = (kw: string): boolean =>
  kw.startsWith("track-sc") || gpFamily(kw) !== undefined;

/** The actions that change a pattern file's entries; haproxy takes a keyword that begins so. */
const PATTERN_ACTIONS = ["add-acl", "del-acl", "set-map", "del-map"] as const;
const patternKeyword = (kw: string | undefined) => PATTERN_ACTIONS.find((p) => kw?.startsWith(p));

/**
 * `add-acl(FILE) KEY`, `del-acl(FILE) KEY`, `del-map(FILE) KEY` or `set-map(FILE) KEY VALUE`, the key
 * and the value log-format strings. haproxy cuts a file's name out of whatever word begins with the
 * action's name: only the form it documents is taken.
 */
function patternAction(
  kw: string,
  kind: PatternAction["kind"],
  args: string[],
  side: "request" | "response",
  r: RuleReporter,
): PatternAction | string {
  const rule = `http-${side} ${kw}`;
  if (kw[kind.length] !== "(" || !kw.endsWith(")"))
    return `'${rule}' is not supported by sluice yet (supported: '${kind}(<file-name>)')`;
  const file = kw.slice(kind.length + 1, -1);
  const count = kind === "set-map" ? 2 : 1;
  if (args.length < count || args.slice(0, count).includes(""))
    return ruleError(r, rule, `expects exactly ${count} arguments`);
  if (args.length > count) return unexpected(rule, args[count]!);
  for (const text of args) {
    const bad = logFormatProblem(text, side, "rule", rulePlace(r, side));
    if (bad !== undefined) return ruleError(r, rule, bad);
  }
  const key = args[0]!;
  return kind === "set-map" ? { kind, file, key, value: args[1]! } : { kind, file, key };
}

export function parseHttpRequestAction(words: string[], r: RuleReporter): HttpRequestAction | string {
  const [kw, ...args] = words;
  if (kw !== undefined && isVarKeyword(kw)) return varAction(kw, args, "request", r);
  const pattern = patternKeyword(kw);
  if (pattern) return patternAction(kw!, pattern, args, "request", r);
  if (kw !== undefined && isStickKeyword(kw))
    return stickAction(kw, args, `http-request ${kw}`, "request", r);
  if (kw === "set-log-level" || isAddrKeyword(kw) || isPriorityKeyword(kw))
    return httpSetAction(kw, args, `http-request ${kw}`, r);
  const socket = socketAction(kw, args, "http-request", r);
  if (socket !== undefined) return socket;
  switch (kw) {
    case "allow":
    case "reject":
    case "disable-l7-retry":
    case "silent-drop":
      return args.length ? unexpected(`http-request ${kw}`, args[0]!) : { kind: kw };
    case "auth": {
      if (args[0] !== "realm")
        return args.length ? unexpected("http-request auth", args[0]!) : { kind: kw, realm: undefined };
      // haproxy's message ends in a line feed, and its frame adds a dot after it.
      if (!args[1]) return ruleError(r, "http-request auth", "missing realm value.\n");
      return args.length > 2
        ? unexpected("http-request auth", args[2]!)
        : { kind: kw, realm: wireText(args[1]) };
    }
    case "deny":
    case "tarpit": {
      const reply = ruleReply(args, true, kw === "deny" ? 403 : 500, r, `http-request ${kw}`);
      return typeof reply === "string" ? reply : { kind: kw, ...reply };
    }
    case "return": {
      const reply = ruleReply(args, false, 200, r, "http-request return");
      return typeof reply === "string" ? reply : { kind: "return", ...reply };
    }
    case "redirect": {
      const redirect = parseRedirect(args, true);
      return typeof redirect === "string" ? ruleError(r, "http-request redirect", redirect) : redirect;
    }
    case "set-header":
    case "add-header": {
      const nv = nameValue(args, `http-request ${kw}`, r);
      return typeof nv === "string" ? nv : { kind: kw, ...nv };
    }
    case "early-hint": {
      const rule = "http-request early-hint";
      if (args.length > 2) return unexpected(rule, args[2]!);
      const nv = nameValue(args, rule, r);
      return typeof nv === "string" ? nv : { kind: kw, ...nv };
    }
    case "del-header":
      return delHeader(args, "http-request del-header", r);
    case "replace-header":
    case "replace-value":
      return replaceHeader(kw, args, `http-request ${kw}`, r);
    case "set-path":
    case "set-pathq":
    case "set-method":
    case "set-uri":
    case "set-query":
      return args.length === 1 && args[0] !== ""
        ? { kind: kw, value: args[0]! }
        : ruleError(r, `http-request ${kw}`, "expects exactly 1 argument <format>");
    case "normalize-uri":
      return normalizeUri(args, r);
    case "strict-mode":
      return strictMode(args, "http-request strict-mode", r);
    case "capture":
      return captureAction(args, "http-request capture", "request", r);
    case "set-timeout":
      return setTimeoutAction(args, r);
    case "wait-for-body":
      return waitForBodyAction(args, r);
    case "replace-path":
    case "replace-pathq":
    case "replace-uri": {
      const what = `http-request ${kw}`;
      if (args.length !== 2 || args.includes(""))
        return ruleError(r, what, "expects exactly 2 arguments <match-regex> and <replace-format>");
      const bad = invalidRegex(args[0]!);
      if (bad) return ruleError(r, what, `failed to parse the regex : ${bad}`);
      return { kind: kw, regex: args[0]!, replace: args[1]! };
    }
    default:
      return `'http-request ${kw ?? ""}' is not supported by sluice yet (supported: allow, deny, tarpit, reject, auth, return, redirect, set-header, add-header, del-header, replace-header, replace-value, set-path, set-method, set-uri, set-query, replace-path, replace-pathq, replace-uri, set-var, set-var-fmt, unset-var, track-sc0, track-sc1, track-sc2, sc-inc-gpc, sc-inc-gpc0, sc-inc-gpc1, sc-set-gpt, sc-set-gpt0, capture, set-timeout, wait-for-body, disable-l7-retry, set-log-level, set-src, set-src-port, set-dst, set-dst-port, add-acl, del-acl, set-map, del-map, silent-drop, set-nice, set-pathq, normalize-uri, strict-mode, early-hint, set-priority-class, set-priority-offset)`;
  }
}

/** Each normalizer, and the word it may take after it. */
const NORMALIZERS = new Map<UriNormalizer, "full" | "strict" | undefined>([
  ["path-strip-dot", undefined],
  ["path-strip-dotdot", "full"],
  ["path-merge-slashes", undefined],
  ["percent-decode-unreserved", "strict"],
  ["percent-to-uppercase", "strict"],
  ["query-sort-by-name", undefined],
  ["fragment-strip", undefined],
  ["fragment-encode", undefined],
]);

/** `normalize-uri <normalizer> [full|strict]`, in haproxy's words. */
function normalizeUri(args: string[], r: RuleReporter): NormalizeUri | string {
  const rule = "http-request normalize-uri";
  const [name, option] = args;
  if (!name) return ruleError(r, rule, "missing argument <normalizer>");
  const normalizer = name as UriNormalizer;
  if (!NORMALIZERS.has(normalizer)) return ruleError(r, rule, `unknown normalizer '${name}'`);
  const takes = NORMALIZERS.get(normalizer);
  const given = takes !== undefined && option === takes;
  if (takes !== undefined && option && !given)
    return ruleError(r, rule, `unknown argument '${option}' for '${name}' normalizer`);
  const extra = args[given ? 2 : 1];
  if (extra !== undefined) return unexpected(rule, extra);
  return {
    kind: "normalize-uri",
    normalizer,
    full: given && takes === "full",
    strict: given && takes === "strict",
    maxParams: Math.floor(r.bufsize / 16),
  };
}

/** `strict-mode on|off`, either word in any case. */
function strictMode(args: string[], rule: string, r: RuleReporter): StrictMode | string {
  const [value, extra] = args;
  if (!value) return ruleError(r, rule, "expects exactly 1 arguments");
  const on = value.toLowerCase();
  if (on !== "on" && on !== "off")
    return ruleError(r, rule, `Unexpected value '${value}'. Only 'on' and 'off' are supported`);
  return extra === undefined ? { kind: "strict-mode", on: on === "on" } : unexpected(rule, extra);
}

/** `wait-for-body time <time> [at-least <bytes>]`, the two in either order, in haproxy's words. */
function waitForBodyAction(args: string[], r: RuleReporter): HttpRequestAction | string {
  const rule = "http-request wait-for-body";
  let time: number | undefined;
  let atLeast = 0;
  let i = 0;
  for (; args[i] === "time" || args[i] === "at-least"; i += 2) {
    const [w, v] = [args[i]!, args[i + 1]];
    if (!v) return ruleError(r, rule, `missing argument for '${w}'`);
    const n = w === "time" ? parseTime(v, "ms") : parseSize(v);
    if (n === "over")
      return ruleError(r, rule, "time overflow (maximum value is 2147483647 ms or ~24.8 days)");
    if (typeof n === "object") return ruleError(r, rule, `unexpected character '${n.bad}'`);
    if (w === "time") time = n;
    else atLeast = n;
  }
  if (time === undefined) return ruleError(r, rule, "expects time <time> [ at-least <bytes> ]");
  if (i < args.length) return unexpected(rule, args[i]!);
  return { kind: "wait-for-body", time, atLeast };
}

/**
 * `set-timeout server|tunnel <time>|<expression>`, in haproxy's words: a time that cannot be read is
 * an expression. (A proxy without a backend is refused where the proxy is known.)
 */
function setTimeoutAction(args: string[], r: RuleReporter): HttpRequestAction | string {
  const rule = "http-request set-timeout";
  const [name, text, extra] = args;
  if (!name || !text) return ruleError(r, rule, "expects exactly 2 arguments");
  if (name !== "server" && name !== "tunnel")
    return ruleError(r, rule, `'set-timeout' rule supports 'server'/'tunnel' (got '${name}')`);
  const t = parseTime(text, "ms");
  if (t === "over")
    return ruleError(
      r,
      rule,
      `timer overflow in argument '${text}' to rule 'set-timeout ${name}' (maximum value is 2147483647 ms or ~24.8 days)`,
    );
  if (t === 0) return ruleError(r, rule, `null value is not valid for a 'set-timeout ${name}' rule`);
  let value: number | string = t as number;
  if (typeof t === "object") {
    value = wireText(text);
    if (expressionProblem(value, text, rule, "request", r))
      return ruleError(r, rule, `unexpected character '${t.bad}' in rule 'set-timeout ${name}'`);
  }
  if (extra !== undefined) return unexpected(rule, extra);
  return { kind: "set-timeout", timeout: name, time: value };
}

export function parseHttpResponseAction(words: string[], r: RuleReporter): HttpResponseAction | string {
  const [kw, ...args] = words;
  if (kw !== undefined && isVarKeyword(kw)) return varAction(kw, args, "response", r);
  const pattern = patternKeyword(kw);
  if (pattern) return patternAction(kw!, pattern, args, "response", r);
  if (kw !== undefined && isStickKeyword(kw))
    return stickAction(kw, args, `http-response ${kw}`, "response", r);
  if (isResponseEdit(kw)) return responseEdit(kw, args, `http-response ${kw}`, r);
  if (kw === "set-log-level") return httpSetAction(kw, args, "http-response set-log-level", r);
  const socket = socketAction(kw, args, "http-response", r);
  if (socket !== undefined) return socket;
  switch (kw) {
    case "allow":
    case "silent-drop":
      return args.length ? unexpected(`http-response ${kw}`, args[0]!) : { kind: kw };
    case "deny":
    case "return": {
      const deny = kw === "deny";
      const reply = ruleReply(args, deny, deny ? 502 : 200, r, `http-response ${kw}`);
      return typeof reply === "string" ? reply : { kind: kw, ...reply };
    }
    case "redirect": {
      const redirect = parseRedirect(args, true);
      const fail = (m: string) => ruleError(r, "http-response redirect", m);
      if (typeof redirect === "string") return fail(redirect);
      return redirect.type === "location"
        ? redirect
        : fail("response only supports redirect type 'location'");
    }
    default:
      return `'http-response ${kw ?? ""}' is not supported by sluice yet (supported: allow, deny, return, redirect, set-header, add-header, del-header, replace-header, replace-value, set-status, capture, set-var, set-var-fmt, unset-var, track-sc0, track-sc1, track-sc2, sc-inc-gpc, sc-inc-gpc0, sc-inc-gpc1, sc-set-gpt, sc-set-gpt0, set-log-level, add-acl, del-acl, set-map, del-map, silent-drop, set-nice, strict-mode)`;
  }
}

/**
 * set-nice, kept with a warning (its argument read as haproxy reads it: any word is a number), or
 * set-mark and set-tos, refused; undefined for any other action.
 */
function socketAction(
  kw: string | undefined,
  args: string[],
  ruleset: string,
  r: RuleReporter,
): { kind: "set-nice" } | string | undefined {
  const rule = `${ruleset} ${kw}`;
  if (kw !== "set-nice") return kw === undefined ? undefined : socketOptionRefusal(rule, kw);
  if (!args[0]) return ruleError(r, rule, NICE_USAGE);
  if (args.length > 1) return unexpected(rule, args[1]!);
  r.warning(niceIgnored(rule));
  return { kind: "set-nice" };
}

/**
 * `set-status <status> [reason <text>]`: a status from 100 to 999, the reason taken as written. An
 * interim status (1xx) would turn the response into another exchange (101, a tunnel): refused.
 */
function setStatus(args: string[], rule: string, r: RuleReporter): HttpResponseAction | string {
  if (args.length === 0)
    return ruleError(r, rule, "expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>");
  const status = /^[+-]?\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
  if (!(status >= 100 && status <= 999))
    return ruleError(r, rule, "expects an integer status code between 100 and 999");
  const reason = args[1] === "reason" && args[2] !== undefined ? args[2] : undefined;
  const rest = args.slice(reason === undefined ? 1 : 3);
  if (rest.length > 0) return unexpected(rule, rest[0]!);
  if (status < 200) return `'${rule} ${status}' is not supported by sluice yet (an interim status)`;
  return { kind: "set-status", code: status, reason };
}

/**
 * `capture <sample> len <length>` (http-request only: a slot of its own) or `capture <sample> id <n>`
 * (a declared slot). The sample must be one the side has.
 */
function captureAction(
  args: string[],
  rule: string,
  side: "request" | "response",
  r: RuleReporter,
): CaptureAction | string {
  const usage =
    side === "request"
      ? "expects <expression> [ 'len' <length> | id <idx> ]"
      : "expects <expression> id <idx>";
  const [expr, how, n, extra] = args;
  if (expr === undefined || how === undefined || n === undefined) return ruleError(r, rule, usage);
  const bad = expressionProblem(expr, expr, rule, side, r);
  if (bad) return bad;
  if (how !== "id" && (how !== "len" || side === "response"))
    return ruleError(
      r,
      rule,
      side === "request" ? `expects 'len' or 'id', found '${how}'` : `expects 'id', found '${how}'`,
    );
  const value = atol(n);
  if (how === "len" && value <= 0) return ruleError(r, rule, "length must be > 0");
  if (extra !== undefined) return unexpected(rule, extra);
  return how === "len"
    ? { kind: "capture", expr, slot: -1, len: value }
    : { kind: "capture", expr, slot: value };
}

/** The actions http-response and http-after-response share: the head's edits and the captures. */
const RESPONSE_EDITS = [
  "set-header",
  "add-header",
  "del-header",
  "replace-header",
  "replace-value",
  "set-status",
  "capture",
  "strict-mode",
] as const;
type ResponseEdit = (typeof RESPONSE_EDITS)[number];
const isResponseEdit = (kw: string | undefined): kw is ResponseEdit =>
  (RESPONSE_EDITS as readonly (string | undefined)[]).includes(kw);

function responseEdit(
  kw: ResponseEdit,
  args: string[],
  rule: string,
  r: RuleReporter,
): HttpResponseAction | string {
  switch (kw) {
    case "set-header":
    case "add-header": {
      const nv = nameValue(args, rule, r);
      return typeof nv === "string" ? nv : { kind: kw, ...nv };
    }
    case "del-header":
      return delHeader(args, rule, r);
    case "replace-header":
    case "replace-value":
      return replaceHeader(kw, args, rule, r);
    case "set-status":
      return setStatus(args, rule, r);
    case "capture":
      return captureAction(args, rule, "response", r);
    case "strict-mode":
      return strictMode(args, rule, r);
  }
}

/** haproxy's http-after-response actions, as its error names them. */
const AFTER_RESPONSE_ACTIONS =
  "'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'";

/** An http-after-response rule's action: http-response's header and variable actions, and allow. */
export function parseHttpAfterResponseAction(words: string[], r: RuleReporter): HttpResponseAction | string {
  const [kw, ...args] = words;
  const rule = `http-after-response ${kw ?? ""}`;
  if (kw !== undefined && isVarKeyword(kw)) return varAction(kw, args, "response", r, "http-after-response");
  if (isResponseEdit(kw)) return responseEdit(kw, args, rule, r);
  switch (kw) {
    case "allow":
      return args.length ? unexpected(rule, args[0]!) : { kind: "allow" };
    case "ot-group":
      return `'${rule}' is not supported by sluice yet (supported: allow, set-header, add-header, del-header, replace-header, replace-value, set-status, capture, strict-mode, set-var, set-var-fmt, unset-var)`;
    default:
      return `'http-after-response' expects ${AFTER_RESPONSE_ACTIONS}, but got '${kw ?? ""}'.`;
  }
}
