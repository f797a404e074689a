// The responses a user writes for the proxy to send in place of its own: the `errorfile`, `errorloc`,
// `errorloc302`, `errorloc303`, `errorfiles` and `http-error` lines of a proxy or defaults section,
// `http-errors` sections, and what a proxy's lines come to once every section is read.
import { readFileSync } from "node:fs";
import type { ErrorDirective, Global, HttpErrors, Proxy, ReplySpec, Where } from "./model.js";
import { parseReply, type ReplyReporter } from "./rules.js";
import { buildReply, HAPROXY_PAGES } from "../http/errors.js";
import { parseErrorFile, type ErrorFile } from "../http/errorfile.js";
import { atol } from "./c-numbers.js";
import { wireText } from "../http/chars.js";
import type { Reporter } from "./server.js";

/** Reads each errorfile once, by path, as haproxy does: its messages and warnings come once too. */
export class ErrorFileLoader {
  private readonly loaded = new Map<string, ErrorFile>();

  constructor(
    private readonly global: Global,
    private readonly warning: (message: string) => void,
  ) {}

  get bufsize(): number {
    return this.global.bufsize;
  }

  /** The errorfile at `path`, or haproxy's reason for refusing it. */
  load(path: string): ErrorFile | string {
    const known = this.loaded.get(path);
    if (known) return known;
    let raw: Buffer;
    try {
      raw = readFileSync(path);
    } catch (e) {
      const reading = (e as NodeJS.ErrnoException).code === "EISDIR";
      return `error ${reading ? "reading" : "opening"} file '${path}'.`;
    }
    const size = this.global.bufsize;
    if (raw.length > size) {
      this.warning(`custom error message file '${path}' larger than ${size} bytes. Truncating.`);
      raw = raw.subarray(0, size);
    }
    const f = parseErrorFile(raw, size, this.global.maxhdr);
    if (typeof f === "string") return `'${path}': ${f}`;
    this.loaded.set(path, f);
    return f;
  }

  /** errorloc302/errorloc303: a redirect to `url`, known by haproxy as `errorloc302 URL`. */
  location(code: 302 | 303, url: string): ErrorFile | string {
    const key = `errorloc${code} ${url}`;
    const known = this.loaded.get(key);
    if (known) return known;
    const reason = code === 302 ? "Found" : "See Other";
    const raw = `HTTP/1.1 ${code} ${reason}\r\nCache-Control: no-cache\r\nContent-length: 0\r\nLocation: ${wireText(url)}\r\n\r\n`;
    const f = this.parse(Buffer.from(raw, "latin1"));
    if (typeof f !== "string") this.loaded.set(key, f);
    return f;
  }

  /** A response the configuration wrote out (a redirect, an http-error's reply) as an errorfile. */
  parse(raw: Buffer): ErrorFile | string {
    const f = parseErrorFile(raw, this.global.bufsize, this.global.maxhdr);
    return typeof f === "string" ? `invalid error message: ${f}` : f;
  }

  /**
   * haproxy's warning, once every section is read, for each errorfile that leaves less of its buffer
   * free than the space kept for rewriting headers (which http-after-response rules would need).
   */
  checkRoom(warning: (message: string) => void): void {
    const reserve = Math.min(1024, this.global.bufsize >> 1);
    for (const [key, f] of [...this.loaded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      if (f.room < reserve)
        warning(
          `config: errorfile '${key}' runs over the buffer space reserved to headers rewriting. It may lead to internal errors if  http-after-response rules are evaluated on this message.`,
        );
  }
}

interface ErrorsContext extends Reporter {
  px: { errors: ErrorDirective[] };
  words: string[];
  where: Where;
  errorFiles: ErrorFileLoader;
}

/** `errorfile <code> <file>`. */
export function errorfileKeyword(c: ErrorsContext): void {
  const status = statusAndArgument(c, "file");
  if (status === undefined) return;
  const f = c.errorFiles.load(c.words[2]!);
  if (typeof f === "string") return c.alert(`errorfile : ${f}`);
  c.px.errors.push({ status, file: f });
}

/** `errorloc <code> <url>`, `errorloc302` (the same) and `errorloc303`. */
export function errorlocKeyword(c: ErrorsContext): void {
  const status = statusAndArgument(c, "url");
  if (status === undefined) return;
  const f = c.errorFiles.location(c.words[0] === "errorloc303" ? 303 : 302, c.words[2]!);
  if (typeof f === "string") return c.alert(`${c.words[0]} : ${f}`);
  c.px.errors.push({ status, file: f });
}

function statusAndArgument(c: ErrorsContext, what: string): number | undefined {
  const kw = c.words[0]!;
  if (!c.words[1] || !c.words[2]) {
    c.alert(`${kw} : expects <status_code> and <${what}> as arguments.\n`);
    return undefined;
  }
  const status = atol(c.words[1]);
  if (HAPROXY_PAGES.has(status)) return status;
  c.alert(`${kw} : status code '${status}' not handled.`);
  return undefined;
}

/** `errorfiles <name> [<code> ...]`: the section is looked up once every section is read. */
export function errorfilesKeyword(c: ErrorsContext): void {
  const name = c.words[1];
  if (!name) return c.alert(`errorfiles : expects <name> as argument.`);
  const statuses = c.words.length > 2 ? c.words.slice(2).map(atol) : undefined;
  const bad = statuses?.find((s) => !HAPROXY_PAGES.has(s));
  if (bad !== undefined) return c.alert(`errorfiles : status code '${bad}' not handled.`);
  c.px.errors.push({ section: name, statuses, where: c.where });
}

/** `http-error status <code> [reply words]`: a reply for the status, in place of the proxy's page. */
export function httpErrorKeyword(c: ErrorsContext): void {
  const r: ReplyReporter = {
    warning: (m) => c.warning(m),
    load: (path) => c.errorFiles.load(path),
    // lf-string, lf-file and hdr are refused below, whatever they say.
    logFormat: () => undefined,
    bufsize: c.errorFiles.bufsize,
    fail: (m) => `http-error : ${m}`,
  };
  const parsed = parseReply(c.words.slice(1), false, 0, r);
  if (typeof parsed === "string") return c.alert(parsed);
  const reply = parsed.reply;
  if (reply.status === 0) return c.alert(`http-error : expects at least a <status> as arguments.\n`);
  if (!HAPROXY_PAGES.has(reply.status))
    return c.alert(`http-error: status code '${reply.status}' not handled.`);
  const extra = c.words[parsed.next + 1];
  if (extra !== undefined) return c.alert(`http-error : unknown keyword '${extra}'.`);
  if (reply.lf !== undefined || reply.hdrs)
    return c.alert(`http-error : 'lf-string', 'lf-file' and 'hdr' are not supported by sluice yet.`);
  if (reply.errorfiles !== undefined)
    return void c.px.errors.push({ section: reply.errorfiles, statuses: [reply.status], where: c.where });
  // Without a payload of its own (default-errorfiles), the status has haproxy's page again.
  let file = reply.errorfile;
  if (!file && reply.body !== undefined) {
    const raw = buildReply(reply.status, reply.body, {
      contentType: reply.contentType,
      connection: undefined,
    });
    const f = c.errorFiles.parse(raw);
    if (typeof f === "string") return c.alert(`http-error : ${f}`);
    file = f;
  }
  c.px.errors.push({ status: reply.status, file });
}

/** `http-errors <name>` and its `errorfile` lines. */
export class HttpErrorsSections {
  readonly sections = new Map<string, HttpErrors>();
  private current: HttpErrors | undefined;

  open(words: string[], where: Where, r: Reporter & { alertTight(m: string): void }): void {
    const name = words[1];
    this.current = undefined;
    if (!name) return r.alert(`missing name for http-errors section.`);
    const bad = /[^A-Za-z0-9_.:-]/.exec(name);
    if (bad) r.alert(`character '${bad[0]}' is not permitted in 'http-errors' name '${name}'.`);
    const dup = this.sections.get(name);
    if (dup)
      r.alertTight(
        `http-errors section '${name}' already exists (declared at ${dup.where.file}:${dup.where.line}).`,
      );
    this.current = { name, where, files: new Map() };
    if (!dup) this.sections.set(name, this.current);
  }

  keyword(words: string[], errorFiles: ErrorFileLoader, r: Reporter): void {
    const kw = words[0]!;
    if (kw !== "errorfile") return r.alert(`unknown keyword '${kw}' in 'http-errors' section`);
    if (!words[1] || !words[2]) return r.alert(`errorfile: expects <status_code> and <file> as arguments.`);
    const status = atol(words[1]);
    if (!HAPROXY_PAGES.has(status)) return r.alert(`errorfile : status code '${status}' not handled.`);
    const f = errorFiles.load(words[2]);
    if (typeof f === "string") return r.alert(`errorfile : ${f}`);
    this.current?.files.set(status, f);
  }
}

/**
 * What a proxy's error directives come to, in order: each errorfile, errorloc and http-error sets
 * its status's response (an http-error with `default-errorfiles` sets haproxy's page back), and
 * each errorfiles line takes the files its section has. Unknown sections are refused.
 */
export function resolveErrorFiles(p: Proxy, sections: Map<string, HttpErrors>, r: Reporter): void {
  const files = p.errorFiles;
  for (const d of p.errors) {
    if ("status" in d) {
      if (d.file) files.set(d.status, d.file);
      else files.delete(d.status);
      continue;
    }
    const at = `(at ${d.where.file}:${d.where.line})`;
    const s = sections.get(d.section);
    if (!s) {
      r.alert(`proxy '${p.name}': unknown http-errors section '${d.section}' ${at}.`);
      continue;
    }
    if (!d.statuses) for (const [status, f] of s.files) files.set(status, f);
    else
      for (const status of d.statuses) {
        const f = s.files.get(status);
        if (f) files.set(status, f);
        else
          r.warning(
            `config: proxy '${p.name}' : status '${status}' not declared in http-errors section '${s.name}' ${at}.`,
          );
      }
  }
}

/** A rule's `errorfiles NAME`: its section's file for the rule's status, or an empty reply. */
export function resolveReplyErrorFiles(
  reply: ReplySpec,
  p: Proxy,
  sections: Map<string, HttpErrors>,
  r: Reporter,
): void {
  const name = reply.errorfiles;
  if (name === undefined) return;
  const s = sections.get(name);
  if (!s)
    return r.alert(`Proxy '${p.name}': unknown http-errors section '${name}' referenced by an http reply .`);
  reply.errorfile = s.files.get(reply.status);
  if (reply.errorfile) return;
  reply.body = "";
  r.warning(
    `Proxy '${p.name}': status '${reply.status}' referenced by an http reply not declared in http-errors section '${name}'.`,
  );
}
