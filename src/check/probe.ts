// One health check: a TCP connect, or an HTTP request whose answer is matched against
// `http-check expect`. It settles exactly once, within its timeout, and leaves no socket behind.
import net from "node:net";
import type { HttpCheckExpect, HttpCheckSend } from "../config/model.js";

export interface ProbeResult {
  ok: boolean;
  /** haproxy's words: "Layer4 connection problem", "Layer7 wrong status", ... */
  reason: string;
  code?: number;
  info?: string;
  durationMs: number;
}

export interface ProbeSpec {
  host: string;
  port: number;
  /** Bound on the connect phase (timeout connect, or inter). */
  connectMs: number;
  /** Bound on the whole check (timeout check, or inter). */
  totalMs: number;
  /** Undefined for a TCP check. */
  http?: { request: Buffer; expect: CompiledExpect[] };
}

export interface CompiledExpect {
  negate: boolean;
  test(status: number, body: string): boolean;
  /** Needs the body (string/rstring) rather than the status line alone. */
  body: boolean;
}

/** The bytes of the check request, built once per backend. */
export function checkRequest(send: HttpCheckSend): Buffer {
  const lines = [`${send.method} ${send.uri} ${send.version}`, ...send.headers];
  const has = (name: string): boolean => send.headers.some((h) => h.toLowerCase().startsWith(name + ":"));
  if (send.body !== "" && !has("content-length"))
    lines.push(`Content-Length: ${Buffer.byteLength(send.body)}`);
  if (!has("connection")) lines.push("Connection: close");
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n" + send.body, "latin1");
}

export function compileExpect(e: HttpCheckExpect): CompiledExpect {
  switch (e.kind) {
    case "status": {
      const codes = new Set(e.pattern.split(",").map((s) => s.trim()));
      return { negate: e.negate, body: false, test: (status) => codes.has(String(status)) };
    }
    case "rstatus": {
      const re = new RegExp(e.pattern);
      return { negate: e.negate, body: false, test: (status) => re.test(String(status)) };
    }
    case "string":
      return { negate: e.negate, body: true, test: (_s, body) => body.includes(e.pattern) };
    case "rstring": {
      const re = new RegExp(e.pattern);
      return { negate: e.negate, body: true, test: (_s, body) => re.test(body) };
    }
  }
}

/** The most a check reads of a response (haproxy's check buffer). */
const MAX_READ = 16384;

export function probe(spec: ProbeSpec): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = Date.now();
    let settled = false;
    let connected = false;
    let data = "";
    const socket = net.connect({ host: spec.host, port: spec.port });
    const done = (r: Omit<ProbeResult, "durationMs">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, durationMs: Date.now() - start });
    };
    const expire = (): void => done({ ok: false, reason: connected ? "Layer7 timeout" : "Layer4 timeout" });
    let timer = setTimeout(expire, Math.min(spec.connectMs, spec.totalMs));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (!connected) done({ ok: false, reason: "Layer4 connection problem", info: describe(err) });
      else done({ ok: false, reason: "Layer7 invalid response", info: describe(err) });
    });
    socket.once("connect", () => {
      connected = true;
      if (!spec.http) return done({ ok: true, reason: "Layer4 check passed" });
      // The whole check, connect included, must fit in its timeout.
      clearTimeout(timer);
      timer = setTimeout(expire, Math.max(1, spec.totalMs - (Date.now() - start)));
      socket.write(spec.http.request);
    });
    socket.on("data", (d: Buffer) => {
      data += d.toString("latin1");
      if (data.length > MAX_READ) data = data.slice(0, MAX_READ);
      const r = evaluate(data, spec.http!.expect, false);
      if (r) done(r);
    });
    socket.on("end", () => done(evaluate(data, spec.http?.expect ?? [], true) ?? invalid()));
    socket.on("close", () => done(evaluate(data, spec.http?.expect ?? [], true) ?? invalid()));
  });
}

const invalid = (): Omit<ProbeResult, "durationMs"> => ({ ok: false, reason: "Layer7 invalid response" });

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === "ECONNREFUSED") return "Connection refused";
  if (err.code === "ECONNRESET") return "Connection reset by peer";
  if (err.code === "EHOSTUNREACH") return "No route to host";
  return err.code ?? err.message;
}

/** Judges the response read so far; undefined while more is needed (and the server may send it). */
function evaluate(
  text: string,
  expect: CompiledExpect[],
  ended: boolean,
): Omit<ProbeResult, "durationMs"> | undefined {
  const eol = text.indexOf("\n");
  if (eol < 0) return ended ? invalid() : undefined;
  const m = /^HTTP\/\d\.\d (\d{3})(?: ([^\r\n]*))?\r?$/.exec(text.slice(0, eol));
  if (!m) return invalid();
  const status = Number(m[1]);
  const info = m[2] ?? "";
  const needBody = expect.some((e) => e.body);
  const headEnd = text.indexOf("\r\n\r\n");
  // A switch of protocols (101) or a status-only expectation needs no more than the status line.
  if (needBody && !ended && status !== 101 && text.length < MAX_READ) return undefined;
  const body = headEnd >= 0 ? text.slice(headEnd + 4) : "";
  let ok: boolean;
  let reason: string;
  if (expect.length === 0) {
    ok = status >= 200 && status < 400;
    reason = ok ? "Layer7 check passed" : "Layer7 wrong status";
  } else {
    ok = expect.every((e) => e.test(status, body) !== e.negate);
    reason = ok ? "Layer7 check passed" : needBody ? "Layer7 response error" : "Layer7 wrong status";
  }
  return { ok, reason, code: status, info: ok ? undefined : info };
}
