// The HTTP side of a check: the request bytes haproxy 2.6 sends for `option httpchk` /
// `http-check send`, and a reader that judges the response against `http-check expect`.
import type { HttpCheckExpect, HttpCheckSend } from "../config/model.js";
import { failed, passed, type Outcome } from "./result.js";
import { BodyKind } from "../http/message.js";
import { NEED_MORE, headerIndex, parseResponse, responseBodyKind } from "../http/parse.js";
import { DEFAULT_MAXHDR } from "../config/defaults.js";

/** Methods after which haproxy sends no `content-length: 0` when the request has no body. */
const BODYLESS_METHODS = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

/**
 * The request as haproxy 2.6 puts it on the wire: header names in lower case, then
 * `content-length` (the body's length, or 0 for a method that usually carries a body), then the
 * connection mode. Given Content-Length and Transfer-Encoding headers are dropped. Without a
 * Connection header the mode is close. A Connection header loses its `close` and `keep-alive`
 * tokens (and disappears when nothing else is left); the mode then goes last, `connection: close`
 * for an HTTP/1.1 request, `connection: keep-alive` for a 1.0 one, nothing at all when the header
 * names `upgrade`. A version haproxy takes for 1.1 or later is written `HTTP/1.1`; any other is
 * written as given and treated as 1.0.
 */
export function buildCheckRequest(send: HttpCheckSend): Buffer {
  const v = send.version;
  // Two different tests in haproxy: the check's own for the request line, the H1 mux's for the mode.
  const muxV11 = v.length === 8 && (v[5]! > "1" || (v[5] === "1" && v[7]! >= "1"));
  const lineV11 = muxV11 || (v.length === 6 && v[5] === "2");
  let head = `${send.method} ${send.uri} ${lineV11 ? "HTTP/1.1" : v}\r\n`;
  let hasConnection = false;
  let close = false;
  let keepAlive = false;
  let upgrade = false;
  for (const line of send.headers) {
    const colon = line.indexOf(":");
    const name = (colon < 0 ? line : line.slice(0, colon)).trim().toLowerCase();
    let value = colon < 0 ? "" : line.slice(colon + 1).trim();
    if (name === "content-length" || name === "transfer-encoding") continue;
    if (name === "connection") {
      hasConnection = true;
      const rest: string[] = [];
      for (const raw of value.split(",")) {
        const token = raw.trim();
        const t = token.toLowerCase();
        if (t === "close") close = true;
        else if (t === "keep-alive") keepAlive = true;
        else {
          if (t === "upgrade") upgrade = true;
          if (token !== "") rest.push(token);
        }
      }
      if (rest.length === 0) continue;
      value = rest.join(",");
    }
    head += `${name}: ${value}\r\n`;
  }
  if (!hasConnection) close = true;
  const body = Buffer.from(send.body, "latin1");
  if (body.length > 0 || !BODYLESS_METHODS.has(send.method)) head += `content-length: ${body.length}\r\n`;
  if (!upgrade) {
    if (close && muxV11) head += "connection: close\r\n";
    else if (!close && keepAlive && !muxV11) head += "connection: keep-alive\r\n";
  }
  return Buffer.concat([Buffer.from(head + "\r\n", "latin1"), body]);
}

export interface Expectation {
  /** Judged on the status line (status, rstatus) or on the body (string, rstring). */
  on: "status" | "body";
  negate: boolean;
  matches(subject: string): boolean;
}

/** `status` takes a list of codes and ranges: `200`, `200,302`, `200-399`. */
function statusSet(pattern: string): (code: string) => boolean {
  const parts = pattern.split(",").map((p) => {
    const m = /^(\d+)-(\d+)$/.exec(p.trim());
    return m ? { lo: Number(m[1]), hi: Number(m[2]) } : { lo: Number(p), hi: Number(p) };
  });
  return (code) => {
    const n = Number(code);
    return parts.some((p) => n >= p.lo && n <= p.hi);
  };
}

export function compileExpectation(e: HttpCheckExpect): Expectation {
  switch (e.kind) {
    case "status":
      return { on: "status", negate: e.negate, matches: statusSet(e.pattern) };
    case "rstatus": {
      const re = new RegExp(e.pattern);
      return { on: "status", negate: e.negate, matches: (s) => re.test(s) };
    }
    case "string":
      return { on: "body", negate: e.negate, matches: (b) => b.includes(e.pattern) };
    case "rstring": {
      const re = new RegExp(e.pattern);
      return { on: "body", negate: e.negate, matches: (b) => re.test(b) };
    }
  }
}

/** haproxy's check buffer: what does not fit is not read, and the check is judged on the rest. */
export const CHECK_BUFFER = 16384;

interface Head {
  code: number;
  reason: string;
  /** Offset of the body in the buffer. */
  bodyAt: number;
}

/**
 * Reads one response, fed chunk by chunk. Every method returns the verdict once it is known,
 * undefined while more bytes may change it. The head goes through the proxy's own parser.
 */
export class HttpCheckReader {
  private buf = Buffer.alloc(0);
  private head: Head | undefined;
  private bodyLength: number | "close" | "chunked" = "close";

  constructor(
    private readonly expect: readonly Expectation[],
    private readonly method: string,
  ) {}

  get received(): boolean {
    return this.buf.length > 0;
  }

  feed(chunk: Buffer): Outcome | undefined {
    const room = CHECK_BUFFER - this.buf.length;
    this.buf = Buffer.concat([this.buf, room < chunk.length ? chunk.subarray(0, room) : chunk]);
    const full = this.buf.length >= CHECK_BUFFER;
    if (!this.head) {
      const r = this.readHead();
      if (r) return r;
      if (!this.head) return full ? failed("L7RSP") : undefined;
    }
    return this.judge(full || this.bodyComplete());
  }

  /** The server closed its side. */
  end(): Outcome {
    if (!this.head) return failed("L7RSP");
    return this.judge(true)!;
  }

  /** The check's time is up. */
  timeout(): Outcome {
    if (!this.received) return failed("L7TOUT");
    if (!this.head) return failed("L7RSP");
    return this.judge(true)!;
  }

  /** Parses the head once complete, skipping interim 1xx answers other than 101. */
  private readHead(): Outcome | undefined {
    for (;;) {
      const h = parseResponse(this.buf, 0, this.buf.length, DEFAULT_MAXHDR);
      if (h === NEED_MORE) return undefined;
      if (typeof h === "number") return failed("L7RSP");
      const code = h.status;
      if (code < 200 && code !== 101) {
        this.buf = this.buf.subarray(h.end);
        continue;
      }
      // haproxy 2.6 refuses a WebSocket switch without Sec-WebSocket-Accept (it does not check its value).
      if (code === 101 && h.upgradeWebSocket && headerIndex(h, "sec-websocket-accept") < 0)
        return failed("L7RSP");
      this.head = { code, reason: h.reason, bodyAt: h.end };
      const kind = responseBodyKind(h, this.method);
      this.bodyLength =
        kind === BodyKind.Chunked
          ? "chunked"
          : kind === BodyKind.Length
            ? h.contentLength
            : kind === BodyKind.UntilClose
              ? "close"
              : 0;
      return undefined;
    }
  }

  private body(): string {
    const raw = this.buf.toString("latin1", this.head!.bodyAt);
    return this.bodyLength === "chunked" ? dechunk(raw).body : raw;
  }

  private bodyComplete(): boolean {
    const raw = this.buf.length - this.head!.bodyAt;
    if (this.bodyLength === "close") return false;
    if (this.bodyLength === "chunked")
      return dechunk(this.buf.toString("latin1", this.head!.bodyAt)).complete;
    return raw >= this.bodyLength;
  }

  /** Applies the expectations in order; `final` when no more bytes will come. */
  private judge(final: boolean): Outcome | undefined {
    const { code, reason } = this.head!;
    const info = reason === "" ? undefined : reason;
    if (this.expect.length === 0)
      return code >= 200 && code < 400 ? passed("L7OK", code) : failed("L7STS", info, code);
    let body: string | undefined;
    for (const e of this.expect) {
      if (e.on === "status") {
        if (e.matches(String(code)) === e.negate) return failed("L7STS", info, code);
        continue;
      }
      body ??= this.body();
      const found = e.matches(body);
      if (e.negate && found) return failed("L7RSP", "HTTP check matched unwanted content");
      if (!e.negate && !found && final) return failed("L7RSP", "HTTP content check did not match");
      // A match may still appear, or an unwanted one still come: wait for the rest.
      if ((e.negate || !found) && !final) return undefined;
    }
    return passed("L7OK", code);
  }
}

/** Decodes as much of a chunked body as has arrived. */
function dechunk(raw: string): { body: string; complete: boolean } {
  let body = "";
  let at = 0;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) return { body, complete: false };
    const size = parseInt(raw.slice(at, eol).split(";")[0]!, 16);
    if (Number.isNaN(size)) return { body, complete: true };
    if (size === 0) return { body, complete: true };
    body += raw.slice(eol + 2, eol + 2 + size);
    if (raw.length < eol + 2 + size + 2) return { body, complete: false };
    at = eol + 2 + size + 2;
  }
}
