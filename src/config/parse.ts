// Configuration text ──► typed model. Problems are collected, not thrown, so that `-c` lists them all
// the way haproxy does; the caller refuses to start when any is an alert.
import {
  HAPROXY_GLOBAL_KEYWORDS,
  HAPROXY_PROXY_KEYWORDS,
  REMOVED_GLOBAL_KEYWORDS,
  REMOVED_PROXY_KEYWORDS,
} from "./haproxy-section-keywords.js";
import type {
  Config,
  Diagnostic,
  Global,
  Proxy,
  ProxySettings,
  TrackSpec,
  UseBackend,
  Where,
} from "./model.js";
import { hasAlerts, hasBackend, hasFrontend, hasRules, typeName } from "./model.js";
import { backendNameFormat, isBackendFormat } from "./rules.js";
import { newGlobal, newProxySettings } from "./defaults.js";
import { tokenize, TokenizeError, type Env } from "./tokenize.js";
import { evalCondExpr, CondExprError } from "./condexpr.js";
import { PROXY_KEYWORDS, capOk, parseOption, type KeywordContext } from "./proxy-keywords.js";
import { GLOBAL_KEYWORDS } from "./global-keywords.js";
import { wsCheckKeyWarning } from "../check/ws-key.js";
import { fetchReason, fetchUse, parseFetch } from "../acl/fetch.js";
import { conditionFetches, placeBits } from "../acl/place.js";
import { ConfigError } from "./errors.js";
import { withPatternRefs } from "../acl/pattern-ref.js";
import {
  ErrorFileLoader,
  HttpErrorsSections,
  resolveErrorFiles,
  resolveReplyErrorFiles,
} from "./errorfiles.js";
import type { Reporter } from "./server.js";
import { UserlistSections } from "./userlist.js";
import { autoIds } from "./server.js";
import { compileLogLine, type LineOptions } from "../log/log-format.js";
import { readCaseFile } from "../http/case-adjust.js";

export interface SourceFile {
  name: string;
  text: string;
}

export interface ParseResult {
  config: Config;
  diagnostics: Diagnostic[];
  /**
   * The files whose reading raised an alert, each with the number of diagnostics said by then:
   * haproxy says "Error(s) found in configuration file" there, before its checks across sections.
   */
  failedFiles: { name: string; after: number }[];
}

const PROXY_SECTIONS = new Set(["frontend", "backend", "listen"]);

/** What a named defaults section may carry for the proxies that use it (haproxy 2.5 and later). */
const DEFAULTS_RULE_KEYWORDS = new Set([
  "acl",
  "http-request",
  "http-response",
  "http-after-response",
  "tcp-request",
]);

const UNSUPPORTED_SECTIONS = new Set([
  "peers",
  "resolvers",
  "mailers",
  "program",
  "ring",
  "cache",
  "fcgi-app",
]);

interface CondBlock {
  /** Some branch of this block was taken already. */
  taken: boolean;
  /** Lines are read in the current branch. */
  active: boolean;
  /** The enclosing block was active. */
  parentActive: boolean;
  sawElse: boolean;
  where: Where;
}

/** `preset`: what the command line set before the configuration is read (haproxy's -p). */
export function parseConfig(
  files: SourceFile[],
  env: Env = process.env,
  preset: Partial<Global> = {},
): ParseResult {
  // haproxy reads each pattern file once, and refuses a file read with two numbers of columns.
  return withPatternRefs(() => new ConfigParser(env, preset).run(files));
}

class ConfigParser {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly global: Global = newGlobal();
  private readonly proxies: Proxy[] = [];
  private readonly namedDefaults = new Map<string, ProxySettings>();
  private defaults: ProxySettings = newProxySettings();
  /** The current defaults section is named: haproxy words some refusals for anonymous ones. */
  private defaultsNamed = false;
  /** Each named defaults section's name and line. */
  private readonly namedAt = new Map<ProxySettings, { name: string; where: Where }>();
  /** Named defaults sections a `from` names, and those proxies used for want of one. */
  private readonly explicitDefaults = new Set<ProxySettings>();
  private readonly implicitDefaults = new Set<ProxySettings>();
  private section: "global" | "defaults" | "proxy" | "http-errors" | "userlist" | "none" = "none";
  private current: Proxy | undefined;
  /** `setenv` and friends change what later lines expand. */
  private readonly env: Record<string, string | undefined>;
  private readonly errorFiles = new ErrorFileLoader(this.global, (m) => this.warning(m));
  private readonly httpErrors = new HttpErrorsSections();
  private readonly userlists = new UserlistSections();

  constructor(env: Env, preset: Partial<Global>) {
    Object.assign(this.global, preset);
    this.env = { ...env };
    // What env() reads at run time: this environment as the whole configuration leaves it.
    this.global.env = this.env;
  }

  run(files: SourceFile[]): ParseResult {
    const failedFiles: ParseResult["failedFiles"] = [];
    for (const f of files) {
      const start = this.diagnostics.length;
      this.parseFile(f);
      if (hasAlerts(this.diagnostics.slice(start)))
        failedFiles.push({ name: f.name, after: this.diagnostics.length });
    }
    this.userlists.resolve((m, where) =>
      this.diagnostics.push({ level: "alert", where, message: m, checked: true }),
    );
    if (this.global.caseAdjustFile !== undefined)
      try {
        readCaseFile(this.global.caseAdjustFile, this.global.caseAdjust);
      } catch (e) {
        this.alert((e as Error).message);
      }
    this.crossCheck();
    // A used named defaults section's track-sc rules name its own table when they name none.
    for (const d of this.namedDefaults.values())
      if (d.defaultsRules?.usedBy) this.trackedTables(d.defaultsRules.holder);
    this.proxyIds();
    const backends = new Map<string, Proxy>();
    for (const p of this.proxies) if (hasBackend(p)) backends.set(p.name, p);
    return {
      config: {
        global: this.global,
        frontends: this.proxies.filter(hasFrontend),
        backends,
        proxies: this.proxies,
        httpErrors: this.httpErrors.sections,
        userlists: this.userlists.lists,
      },
      diagnostics: this.diagnostics,
      failedFiles,
    };
  }

  private reporter(where: Where): Reporter {
    return {
      alert: (m, tight) => this.alert(m, where, tight),
      warning: (m, tight) => this.warning(m, where, tight),
    };
  }

  private alert(message: string, where?: Where, tight?: boolean): void {
    this.diagnostics.push({ level: "alert", where, message, ...(tight && { tight }) });
  }
  private warning(message: string, where?: Where, tight?: boolean): void {
    this.diagnostics.push({ level: "warning", where, message, ...(tight && { tight }) });
  }

  private parseFile(f: SourceFile): void {
    // A new file starts outside any section, as in haproxy.
    this.section = "none";
    this.current = undefined;
    const blocks: CondBlock[] = [];
    const lines = f.text.split("\n");
    for (let n = 0; n < lines.length; n++) {
      const where: Where = { file: f.name, line: n + 1 };
      let words: string[];
      try {
        words = tokenize(lines[n]!, this.env);
      } catch (e) {
        if (!(e instanceof TokenizeError)) throw e;
        this.alert(tokenizeMessage(e, lines[n]!), where, true);
        continue;
      }
      if (words.length === 0) continue;
      const kw = words[0]!;
      if (kw.startsWith(".")) {
        this.directive(words, where, blocks);
        continue;
      }
      const top = blocks[blocks.length - 1];
      if (top && !top.active) continue;
      this.statement(words, where);
    }
    // haproxy names the file's last line, once however many blocks are open.
    if (blocks.length > 0) {
      const last = lines.length - (f.text.endsWith("\n") ? 1 : 0);
      this.alert(`non-terminated '.if' block.`, { file: f.name, line: Math.max(last, 1) }, true);
    }
  }

  /** `.if/.elif/.else/.endif` and `.diag/.notice/.warning/.alert`. */
  private directive(words: string[], where: Where, blocks: CondBlock[]): void {
    const kw = words[0]!;
    const top = blocks[blocks.length - 1];
    const active = top ? top.active : true;
    const cond = (): boolean => {
      try {
        return evalCondExpr(words.slice(1), this.env);
      } catch (e) {
        if (!(e instanceof CondExprError)) throw e;
        this.alert(`failed to parse '${kw}' expression: ${e.message}`, where, true);
        return false;
      }
    };
    switch (kw) {
      case ".if": {
        const v = active ? cond() : false;
        blocks.push({ taken: v, active: active && v, parentActive: active, sawElse: false, where });
        return;
      }
      case ".elif": {
        if (!top || top.sawElse) return this.alert(`lone '.elif' with no matching '.if'.`, where, true);
        const v = top.parentActive && !top.taken ? cond() : false;
        top.active = top.parentActive && !top.taken && v;
        top.taken ||= v;
        return;
      }
      case ".else":
        if (!top || top.sawElse) return this.alert(`lone '.else' with no matching '.if'.`, where, true);
        top.sawElse = true;
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        return;
      case ".endif":
        if (!top) return this.alert(`lone '.endif' with no matching '.if'.`, where, true);
        blocks.pop();
        return;
    }
    if (!active) return;
    const text = words.slice(1).join(" ");
    switch (kw) {
      case ".alert":
        return this.alert(text, where);
      case ".warning":
        return this.warning(text, where);
      case ".notice":
      case ".diag":
        this.diagnostics.push({ level: "warning", where, message: text });
        return;
      default:
        this.alert(`unknown directive '${kw}'.`, where, true);
    }
  }

  private statement(words: string[], where: Where): void {
    const kw = words[0]!;
    if (kw === "global") {
      this.section = "global";
      this.current = undefined;
      this.global.where ??= where;
      if (words.length > 1) this.alert(`'global' cannot handle unexpected argument '${words[1]}'.`, where);
      return;
    }
    if (kw === "defaults") return this.openDefaults(words, where);
    if (PROXY_SECTIONS.has(kw)) return this.openProxy(words, where);
    if (kw === "http-errors") {
      this.section = "http-errors";
      this.current = undefined;
      return this.httpErrors.open(words, where, {
        ...this.reporter(where),
        alertTight: (m) => this.alert(m, where, true),
      });
    }
    if (kw === "userlist") {
      this.section = "userlist";
      this.current = undefined;
      return this.userlists.open(words, where, this.reporter(where));
    }
    if (UNSUPPORTED_SECTIONS.has(kw)) {
      this.section = "none";
      this.current = undefined;
      this.alert(`'${kw}' sections are not supported by sluice yet.`, where);
      return;
    }
    switch (this.section) {
      case "global":
        return this.globalKeyword(words, where);
      case "defaults":
      case "proxy":
        return this.proxyKeyword(words, where);
      case "http-errors":
        return this.httpErrors.keyword(words, this.errorFiles, this.reporter(where));
      case "userlist":
        return this.userlists.keyword(words, where, this.reporter(where));
      case "none":
        this.alert(`unknown keyword '${kw}' out of section.`, where, true);
    }
  }

  private openDefaults(words: string[], where: Where): void {
    this.section = "defaults";
    this.current = undefined;
    const { name, from } = this.nameAndFrom(words, where, false);
    const base =
      from !== undefined ? this.pickDefaults(from, where, `defaults '${name ?? ""}'`) : newProxySettings();
    if (from !== undefined) this.useDefaults(base, where, true);
    this.defaults = cloneSettings(base);
    if (hasRules(this.defaults.defaultsRules)) {
      const at = this.defaults.defaultsRules.where;
      this.alert(
        `a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at ${at.file}:${at.line}).`,
        where,
        true,
      );
    }
    // Nor are the ACLs of the section it inherits from its own.
    this.defaults.defaultsRules = undefined;
    if (name !== undefined) {
      this.namedDefaults.set(name, this.defaults);
      this.namedAt.set(this.defaults, { name, where });
    }
    this.defaultsNamed = name !== undefined;
  }

  private openProxy(words: string[], where: Where): void {
    const kind = words[0] as Proxy["kind"];
    const { name, from } = this.nameAndFrom(words, where, true);
    this.section = "proxy";
    if (name === undefined) {
      this.current = undefined;
      this.section = "none";
      return;
    }
    const base = from !== undefined ? this.pickDefaults(from, where, `${kind} '${name}'`) : this.defaults;
    this.useDefaults(base, where, from !== undefined);
    const fe = kind !== "backend";
    const be = kind !== "frontend";
    const rules = base.defaultsRules;
    if (hasRules(rules)) {
      const at = `(defaults section at ${rules.where.file}:${rules.where.line})`;
      const side = fe ? "frontend" : "backend";
      if (fe && be)
        this.alert(
          `a listen section cannot inherit from a defaults section defining TCP/HTTP rules.`,
          where,
          true,
        );
      else if ((rules.usedBy ??= side) !== side)
        this.alert(
          `frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules ${at}.`,
          where,
          true,
        );
    }
    // A frontend and a backend may share a name; two of a kind (a listen is both) may not.
    const dup = this.proxies.find(
      (p) => p.name === name && ((fe && hasFrontend(p)) || (be && hasBackend(p))),
    );
    if (dup)
      this.diagnostics.push({
        level: "alert",
        where,
        checked: true,
        message: `${kind} '${name}' has the same name as ${dup.kind} '${name}' declared at ${dup.where.file}:${dup.where.line}.`,
      });
    const proxy = newProxy(cloneSettings(base), name, kind, where);
    // haproxy copies the defaults' persistence cookie to proxies with a backend only.
    // Nor does it copy the default backend to a backend, which would then be checked.
    if (!be) proxy.cookie = undefined;
    if (!fe) proxy.defaultBackend = undefined;
    this.proxies.push(proxy);
    this.current = proxy;
  }

  /** Where a named defaults section keeps its rules and the ACLs they read. */
  private defaultsRuleHolder(): Proxy {
    const named = this.namedAt.get(this.defaults)!;
    this.defaults.defaultsRules ??= {
      holder: newProxy(newProxySettings(), named.name, "listen", named.where),
      where: named.where,
    };
    return this.defaults.defaultsRules.holder;
  }

  private nameAndFrom(words: string[], where: Where, required: boolean): { name?: string; from?: string } {
    const kw = words[0]!;
    let name: string | undefined;
    let from: string | undefined;
    let i = 1;
    if (words[i] !== undefined && words[i] !== "from") name = words[i++];
    if (words[i] === "from") {
      from = words[i + 1];
      if (from === undefined) this.alert(`'${kw}' : 'from' expects a defaults section name.`, where);
      i += 2;
    }
    if (i < words.length) this.alert(`'${kw}' : unexpected argument '${words[i]}'.`, where);
    if (required && name === undefined) this.alert(`'${kw}' expects an <id> argument`, where);
    if (name !== undefined && !/^[A-Za-z0-9_.:-]+$/.test(name)) {
      this.alert(
        `character '${/[^A-Za-z0-9_.:-]/.exec(name)![0]}' is not permitted in '${kw}' name '${name}'.`,
        where,
      );
      return { from };
    }
    return { name, from };
  }

  /**
   * A named defaults section both named by a `from` and used for want of one is ambiguous: haproxy
   * says so, and goes on.
   */
  private useDefaults(d: ProxySettings, where: Where, explicit: boolean): void {
    const named = this.namedAt.get(d);
    if (!named) return;
    (explicit ? this.explicitDefaults : this.implicitDefaults).add(d);
    if (!this.explicitDefaults.has(d) || !this.implicitDefaults.has(d)) return;
    const { name, where: at } = named;
    this.diagnostics.push({
      level: "alert",
      where,
      continuing: true,
      message: `defaults section '${name}' (declared at ${at.file}:${at.line}) is explicitly referenced by another proxy and implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults section not explicitly used or always use explicit references.`,
    });
  }

  /** `forWhat`: the section that asks for them, as haproxy names it ("backend 'b'"). */
  private pickDefaults(name: string, where: Where, forWhat: string): ProxySettings {
    const d = this.namedDefaults.get(name);
    if (d) return d;
    this.alert(`defaults section '${name}' not found for ${forWhat}.`, where);
    return newProxySettings();
  }

  private globalKeyword(words: string[], where: Where): void {
    const kw = words[0]!;
    const fn = GLOBAL_KEYWORDS[kw];
    if (!fn) {
      const removed = REMOVED_GLOBAL_KEYWORDS[kw];
      if (removed !== undefined) return this.alert(removed, where);
      if (HAPROXY_GLOBAL_KEYWORDS.has(kw))
        return this.alert(`'${kw}' is a haproxy keyword that sluice does not support yet.`, where);
      return this.alert(`unknown keyword '${kw}' in 'global' section`, where);
    }
    fn({
      global: this.global,
      env: this.env,
      words,
      where,
      alert: (m, tight) => this.alert(m, where, tight),
      alertContinuing: (m, tight) =>
        this.diagnostics.push({
          level: "alert",
          where,
          message: m,
          continuing: true,
          ...(tight && { tight }),
        }),
      warning: (m, tight) => this.warning(m, where, tight),
    });
  }

  private proxyKeyword(words: string[], where: Where): void {
    let kw = words[0]!;
    const sectionName = this.current ? this.current.kind : "defaults";
    let negate = false;
    if (kw === "no" && words[1] === "option") {
      negate = true;
      words = words.slice(1);
      kw = "option";
    } else if (kw === "no" && words[1] === "log" && words.length === 2) {
      const px = this.current ?? this.defaults;
      px.logs = [];
      px.logGlobal = false;
      return;
    }
    const def = PROXY_KEYWORDS[kw];
    if (!def) {
      const removed = REMOVED_PROXY_KEYWORDS[kw];
      if (removed !== undefined) return this.alert(removed(words[1] ?? ""), where);
      if (HAPROXY_PROXY_KEYWORDS.has(kw))
        return this.alert(`'${kw}' is a haproxy keyword that sluice does not support yet.`, where);
      return this.alert(`unknown keyword '${kw}' in '${sectionName}' section`, where);
    }
    // A named defaults section keeps its rules, and their ACLs, apart: as a listen section would.
    const rule = DEFAULTS_RULE_KEYWORDS.has(kw) && !(kw === "tcp-request" && words[1] === "inspect-delay");
    const holder = !this.current && this.defaultsNamed && rule ? this.defaultsRuleHolder() : undefined;
    if (!this.current && !holder && !def.defaults) return this.notInDefaults(words, where);
    const proxy = this.current ?? holder;
    const ctx: KeywordContext = {
      px: proxy ?? this.defaults,
      proxy,
      namedDefaults: this.defaultsNamed,
      sectionName,
      words,
      where,
      global: this.global,
      errorFiles: this.errorFiles,
      alertUnplaced: (m) => this.alert(m),
      alertBare: (m) => this.diagnostics.push({ level: "alert", where, message: m, bare: true }),
      alert: (m, tight) => this.alert(m, where, tight),
      warning: (m, tight) => this.warning(m, where, tight),
      unsupported: (m) => this.alert(m, where),
    };
    if (!capOk(ctx, def.cap, kw, false, def.capHint)) {
      if (def.ignored === "stops") return;
      if (def.ignored === "keeps") return def.fn({ ...ctx, unsupported: () => {} });
      const scratch = structuredClone(ctx.proxy!);
      def.fn({ ...ctx, px: scratch, proxy: scratch, unsupported: () => {} });
      return;
    }
    if (negate) parseOption(ctx, true);
    else def.fn(ctx);
  }

  /** Each track-sc rule's table, its proxy's own when it names none, must exist. */
  private trackedTables(p: Proxy): void {
    const tracks: TrackSpec[] = [];
    for (const r of [...p.tcpConnection, ...p.tcpSession, ...p.tcpContent])
      if (r.stick?.kind === "track-sc") tracks.push(r.stick);
    for (const r of [...p.httpRequest, ...p.httpResponse])
      if (r.action.kind === "track-sc") tracks.push(r.action);
    for (const r of p.stickRules) {
      const name = r.table ?? p.name;
      if (!this.proxies.some((q) => q.stickTable?.name === name))
        this.alert(
          `Proxy '${p.name}': unable to find ${r.kind === "store-response" ? "store table" : "stick-table"} '${name}'.`,
        );
    }
    // haproxy says so once every section is read, naming no line.
    for (const t of tracks) {
      t.table ??= p.name;
      if (!this.proxies.some((q) => q.stickTable?.name === t.table))
        this.alert(`Proxy '${p.name}': unable to find table '${t.table}' referenced by track-sc${t.slot}.`);
    }
  }

  /** A keyword a defaults section may not carry, refused in haproxy's words for it. */
  private notInDefaults(words: string[], where: Where): void {
    const kw = words[0]!;
    // A named defaults section takes these (DEFAULTS_RULE_KEYWORDS): only an anonymous one gets here.
    if (kw === "acl" || kw === "http-request" || kw === "http-response" || kw === "http-after-response")
      return this.alert(`'${kw}' not allowed in anonymous 'defaults' section.`, where);
    const what =
      kw === "capture" && ["cookie", "request", "response"].includes(words[1] ?? "")
        ? `capture ${words[1]}`
        : kw;
    this.alert(`'${what}' not allowed in 'defaults' section.`, where, kw === "id" || kw === "description");
  }

  /** Each proxy's number: its own, unless another has it, else the first free one in order. */
  private proxyIds(): void {
    const taken = new Map<number, Proxy>();
    for (const p of this.proxies) {
      if (!p.idWhere) continue;
      const other = taken.get(p.id);
      if (!other) taken.set(p.id, p);
      else
        this.alert(
          `${p.kind} ${p.name} reuses same custom id as ${other.kind} ${other.name} (declared at ${other.where.file}:${other.where.line}).`,
          p.idWhere,
          true,
        );
    }
    const ids = autoIds(this.proxies.map((p) => ({ id: p.idWhere ? p.id : undefined })));
    this.proxies.forEach((p, i) => (p.id = ids[i]!));
  }

  /** A bind's `proto` must fit its frontend's mode: h1 an HTTP one, none a TCP one. */
  private bindProtos(p: Proxy): void {
    let last: Where | undefined;
    for (const b of p.binds) {
      if (b.proto === undefined || b.proto === (p.mode === "http" ? "h1" : "none") || b.where === last)
        continue;
      last = b.where;
      this.alert(
        `${typeName(p)} : MUX protocol '${b.proto}' is not usable for 'bind ${b.written}' at [${b.where.file}:${b.where.line}].`,
      );
    }
  }

  /** What haproxy checks once every section is read. */
  private crossCheck(): void {
    const backendNames = new Map<string, Proxy>();
    for (const p of this.proxies) if (hasBackend(p)) backendNames.set(p.name, p);
    const checkBackend = (name: string, where: Where, from: Proxy, what: string): void => {
      const be = backendNames.get(name);
      if (!be) return this.alert(`Proxy '${from.name}': unable to find required ${what}: '${name}'.`, where);
      if (be === from) return this.alert(`Proxy '${from.name}': loop detected for ${what}: '${name}'.`);
      if (be.mode === from.mode) return;
      const id = (p: Proxy) => `${p.mode} ${typeName(p)} (${p.where.file}:${p.where.line})`;
      const how = what === "default_backend" ? "as its default backend" : "in a 'use_backend' rule";
      if (from.mode === "http")
        this.alert(`${id(from)} tries to use incompatible ${id(be)} ${how} (see 'mode').`);
      // haproxy turns such a connection into HTTP when it reaches the backend; sluice would only relay it.
      else
        this.alert(
          `${id(from)} uses ${id(be)} ${how}: a tcp frontend handing connections to an http backend (haproxy's upgrade to HTTP) is not supported by sluice yet.`,
          where,
        );
    };
    for (const p of this.proxies) {
      // A backend's use_backend rules never run, yet haproxy checks the names they give.
      if (!hasFrontend(p))
        for (const u of p.useBackends)
          if (!this.dynamicName(u)) checkBackend(u.backend, u.where, p, "use_backend");
      // A backend's default_backend is never used either, and checked all the same.
      if (p.defaultBackend) {
        const before = this.diagnostics.length;
        checkBackend(p.defaultBackend.name, p.defaultBackend.where, p, "default_backend");
        if (this.diagnostics.length === before && p.servers.length > 0)
          this.warning(
            `In proxy '${p.name}', the 'default_backend' rule always has precedence over the servers, which will never be used.`,
          );
      }
      if (hasFrontend(p)) {
        this.contentTracking(p);
        for (const u of p.useBackends) {
          if (!this.dynamicName(u)) checkBackend(u.backend, u.where, p, "use_backend");
          // A name made per request could name an http backend, which haproxy would turn the
          // connection into HTTP for.
          else if (p.mode === "tcp" && this.proxies.some((b) => hasBackend(b) && b.mode === "http"))
            this.alert(
              `tcp ${typeName(p)} (${p.where.file}:${p.where.line}) names its backend per request ('${u.backend}') and an http backend exists: a tcp frontend handing connections to an http backend (haproxy's upgrade to HTTP) is not supported by sluice yet.`,
              u.where,
            );
        }
        for (const [rules, slots, name] of [
          [p.httpRequest, p.captureRequestHeaders, "http-request"],
          [p.httpResponse, p.captureResponseHeaders, "http-response"],
          [p.httpAfterResponse, p.captureResponseHeaders, "http-after-response"],
        ] as const)
          for (const { action: a } of rules)
            if (a.kind === "capture" && a.len === undefined && !(a.slot >= 0 && a.slot < slots.length))
              this.alert(
                `Proxy '${p.name}': unable to find capture id '${a.slot}' referenced by ${name} capture rule.`,
              );
        const cookieLen = this.global.cookieLen;
        if (p.captureCookie && p.captureCookie.len >= cookieLen) {
          this.warning(`truncating capture length to ${cookieLen - 1} bytes for ${typeName(p)}.`);
          p.captureCookie = { ...p.captureCookie, len: cookieLen - 1 };
        }
        this.bindProtos(p);
        if (p.binds.length === 0 && p.kind === "frontend")
          this.warning(
            `frontend '${p.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`,
          );
      }
      for (const u of p.useServers)
        if (!p.servers.some((s) => s.name === u.server))
          this.alert(
            `${typeName(p)} : unable to find server '${u.server}' referenced in a 'use-server' rule.`,
            u.where,
          );
      const seen = new Map<string, Where>();
      for (const s of p.servers) {
        const prev = seen.get(s.name);
        if (prev)
          this.alert(
            `${p.kind} '${p.name}', another server named '${s.name}' was already defined at line ${prev.line}, please use distinct names.`,
            s.where,
          );
        else seen.set(s.name, s.where);
      }
      if (p.mode === "http") this.layer6Fetches(p);
      this.trackedTables(p);
      this.missingTimeouts(p);
      this.hashExpression(p);
      if (p.mode !== "http") this.notHttp(p);
      if (p.mode !== "http") this.httplogFallback(p);
      // haproxy gives up on a proxy's log format it cannot read before it looks for its targets.
      if (this.logFormatUsable(p) && hasFrontend(p) && p.logFormat !== undefined && p.logs.length === 0)
        this.warning(`log format ignored for ${typeName(p)} since it has no log address.`);
      this.uniqueIdFormat(p);
      if (p.mode !== "http") this.httpOnlyIgnored(p);
      if (hasBackend(p) && (p.httpchk || p.httpCheckExpect.length > 0) && p.checkOption !== "httpchk") {
        this.warning(
          `${typeName(p)} uses http-check rules without 'option httpchk', so the rules are ignored.`,
        );
        p.httpchk = undefined;
        p.httpCheckExpect = [];
      }
      if (hasBackend(p) && p.tcpCheckRules.length > 0 && p.checkOption !== "tcp-check") {
        this.warning(
          `${typeName(p)} uses tcp-check rules without 'option tcp-check', so the rules are ignored.`,
        );
        p.tcpCheckRules = [];
      }
      if (p.mode !== "http")
        for (const s of p.servers)
          if (s.cookie !== undefined)
            this.warning(`${typeName(p)} : ignoring cookie for server '${s.name}' as HTTP mode is disabled.`);
      const w = wsCheckKeyWarning(p.httpchk);
      if (w) this.warning(`backend '${p.name}': ${w}`, p.where);
      this.errorResponses(p);
    }
    this.errorFiles.checkRoom((m) => this.warning(m));
  }

  /**
   * haproxy's note on each rule of an HTTP proxy whose condition reads the request's raw bytes
   * (req.len), in the order it checks its rule lists; the fetch still reads the head (fetch.ts).
   */
  private layer6Fetches(p: Proxy): void {
    const lists = [
      p.useBackends,
      p.useServers,
      p.tcpConnection,
      p.tcpSession,
      p.tcpContent,
      p.httpRequest,
      p.httpResponse,
      p.httpAfterResponse,
    ];
    for (const list of lists)
      for (const r of list)
        if (r.cond && conditionFetches(r.cond, p.acls).some((f) => fetchUse(f) === "buffer"))
          this.warning(
            `Proxy '${p.name}': L6 sample fetches ignored on HTTP proxies (declared at ${r.where.file}:${r.where.line}).`,
          );
  }

  /**
   * haproxy's two warnings about a frontend's `tcp-request content track-sc*`: one that reads the
   * request with nothing to wait for it, and, in HTTP, one that reads nothing of it (errors met
   * before any stream would go uncounted: a session rule sees them).
   */
  private contentTracking(p: Proxy): void {
    const reads = (f: string): boolean => fetchUse(f) === "req" || fetchUse(f) === "buffer";
    for (const r of p.tcpContent) {
      if (r.stick?.kind !== "track-sc") continue;
      const first = /^[^(,\s]*/.exec(r.stick.key)![0];
      const kind = typeName(p);
      if (p.inspectDelay === undefined && reads(first))
        this.warning(
          `${kind} : a 'tcp-request content track-sc*' rule explicitly depending on request contents without any 'tcp-request inspect-delay' setting. This means that this rule will randomly find its contents. This can be fixed by setting the tcp-request inspect-delay.`,
        );
      if (p.mode === "http" && !reads(first) && !(r.cond && conditionFetches(r.cond, p.acls).some(reads)))
        this.warning(
          `${kind} : a 'tcp-request content track-sc*' rule not depending on request contents for an HTTP frontend should be executed at the session level, using a 'tcp-request session' rule (mandatory to track invalid HTTP requests).`,
        );
    }
  }

  /**
   * A frontend's log-format, compiled as haproxy checks it once every section is read; false when
   * it failed before anything of it was built (haproxy then has no format left to warn about).
   */
  private logFormatUsable(p: Proxy): boolean {
    const lf = p.logFormat;
    if (!hasFrontend(p) || typeof lf !== "object") return true;
    const line = this.checkedFormat("log-format", lf.custom, lf.where, {
      http: p.mode === "http",
      logasap: p.logasap,
    });
    return typeof line === "function" || line.partial;
  }

  /** unique-id-format, compiled as haproxy checks it: made while the request's head is at hand. */
  private uniqueIdFormat(p: Proxy): void {
    const f = p.uniqueIdFormat;
    if (f)
      this.checkedFormat("unique-id", f.text, f.where, {
        http: p.mode === "http",
        logasap: false,
        purpose: "unique-id",
        place: placeBits("http-request", hasFrontend(p), hasBackend(p)),
      });
  }

  /** A format compiled past parsing; its refusal in haproxy's words (`Parsing [f:9]: failed to parse log-format : ...`). */
  private checkedFormat(
    what: string,
    text: string,
    where: Where,
    o: LineOptions,
  ): ReturnType<typeof compileLogLine> {
    const made = compileLogLine(text, o);
    if (typeof made !== "function")
      this.diagnostics.push({
        level: "alert",
        where,
        checked: true,
        message: `failed to parse ${what} : ${made.error}.`,
      });
    return made;
  }

  /**
   * Whether a use_backend name is made per request (a log-format string), checked as haproxy checks
   * it once every section is read.
   */
  private dynamicName(u: UseBackend): boolean {
    if (!isBackendFormat(u.backend)) return false;
    try {
      backendNameFormat(u.backend);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.diagnostics.push({
        level: "alert",
        where: u.where,
        checked: true,
        message: `failed to parse use_backend rule '${u.backend}' : ${e.message}.`,
      });
    }
    return true;
  }

  /** The proxy's errorfiles, and its rules' replies that name an http-errors section. */
  private errorResponses(p: Proxy): void {
    const r: Reporter = { alert: (m) => this.alert(m), warning: (m) => this.warning(m) };
    const sections = this.httpErrors.sections;
    resolveErrorFiles(p, sections, r);
    for (const rule of [...p.httpRequest, ...p.httpResponse])
      if ("status" in rule.action) resolveReplyErrorFiles(rule.action, p, sections, r);
  }

  /** balance hash's expression, checked once the proxy is known, as haproxy does (naming the proxy's line). */
  private hashExpression(p: Proxy): void {
    if (typeof p.balance !== "object" || !("hash" in p.balance)) return;
    const expr = p.balance.hash;
    try {
      parseFetch(expr, p.where, false);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.alert(
        `${typeName(p)} [${p.where.file}:${p.where.line}]: failed to parse 'balance hash' expression '${expr}' in : ${fetchReason(e.message)}.`,
      );
    }
  }

  /** Outside mode http there is no cookie to persist by, and no request to hash: haproxy's warnings. */
  private notHttp(p: Proxy): void {
    if (p.cookie) {
      p.cookie = undefined;
      this.warning(`cookie will be ignored for ${typeName(p)} (needs 'mode http').`);
    }
    // random and hash <expr> need no request (a fetch of one finds nothing, and requests go in turn).
    if (typeof p.balance === "object" && !("random" in p.balance) && !("hash" in p.balance)) {
      p.balance = "roundrobin";
      this.warning(
        `Layer 7 hash not possible for ${typeName(p)} (needs 'mode http'). Falling back to round robin.`,
      );
    }
  }

  /**
   * A proxy outside mode http logs tcplog lines, whatever its `option httplog` says; haproxy says so
   * of a proxy that logs (one with a frontend), not of a backend.
   */
  private httplogFallback(p: Proxy): void {
    if (p.logFormat !== "httplog" && p.logFormat !== "httplog-clf") return;
    p.logFormat = "tcplog";
    if (hasFrontend(p))
      this.warning(
        `'option httplog' not usable with ${typeName(p)} (needs 'mode http'). Falling back to 'option tcplog'.`,
        p.httplogWhere,
      );
  }

  /** What a proxy outside mode http ignores, with haproxy's warnings, in haproxy's order. */
  private httpOnlyIgnored(p: Proxy): void {
    const who = typeName(p);
    const ignored = (what: string, they = false): void =>
      this.warning(`${what} ignored for ${who} as ${they ? "they require" : "it requires"} HTTP mode.`);
    if (p.httpRequest.length > 0) {
      p.httpRequest = [];
      ignored("'http-request' rules", true);
    }
    if (p.httpResponse.length > 0) {
      p.httpResponse = [];
      ignored("'http-response' rules", true);
    }
    if (p.httpAfterResponse.length > 0) {
      p.httpAfterResponse = [];
      ignored("'http-after-response' rules", true);
    }
    if (p.forwardfor) {
      p.forwardfor = undefined;
      ignored("'option forwardfor'");
    }
    if (p.originalto) {
      p.originalto = undefined;
      ignored("'option originalto'");
    }
    if (p.httpBufferRequest) {
      p.httpBufferRequest = false;
      ignored("'option http-buffer-request'");
    }
    if (p.httpPretendKeepalive) {
      p.httpPretendKeepalive = false;
      ignored("'option http-pretend-keepalive'");
    }
    if (p.httpIgnoreProbes) {
      p.httpIgnoreProbes = false;
      ignored("'option http-ignore-probes'");
    }
  }

  private missingTimeouts(p: Proxy): void {
    const t = p.timeouts;
    const missing: string[] = [];
    if (hasFrontend(p) && t.client === undefined) missing.push("client");
    if (hasBackend(p) && t.connect === undefined) missing.push("connect");
    if (hasBackend(p) && t.server === undefined) missing.push("server");
    if (missing.length > 0)
      this.warning(
        `missing timeouts for ${p.kind} '${p.name}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.`,
        p.where,
      );
  }
}

/**
 * A line haproxy cannot split, in its words: the message, then the line (from its first word) with
 * a caret under the place, e.g. `unmatched quote at position 7:\n  log "foo\n      ^`.
 */
function tokenizeMessage(e: TokenizeError, line: string): string {
  if (e.at === undefined) return e.message;
  const start = line.length - line.trimStart().length;
  const text = line.slice(start).replace(/\r$/, "");
  return `${e.message} at position ${e.at + 1}:\n  ${text}\n  ${" ".repeat(e.at - start)}^`;
}

/** A section with `settings` and nothing of its own yet. */
function newProxy(settings: ProxySettings, name: string, kind: Proxy["kind"], where: Where): Proxy {
  return {
    ...settings,
    name,
    kind,
    where,
    id: 0,
    binds: [],
    acls: new Map(),
    httpRequest: [],
    httpResponse: [],
    httpAfterResponse: [],
    useBackends: [],
    useServers: [],
    persistRules: [],
    servers: [],
    redirects: [],
    monitorFail: [],
    stickRules: [],
    tcpConnection: [],
    tcpSession: [],
    tcpContent: [],
    errorFiles: new Map(),
  };
}

/**
 * A defaults section's settings for a new section: a deep copy, but for the error directives, whose
 * list is new and whose entries (with their loaded files) are shared, and for its rules.
 */
function cloneSettings(base: ProxySettings): ProxySettings {
  const { errors, defaultsRules, ...rest } = base;
  // The rules are the defaults section's own, shared by every proxy that uses it.
  const copy: ProxySettings = {
    ...structuredClone(rest),
    errors: [...errors],
    ...(defaultsRules && { defaultsRules }),
  };
  // haproxy copies a defaults section's algorithms and types, not its offload.
  if (copy.compression) copy.compression.offload = false;
  return copy;
}
