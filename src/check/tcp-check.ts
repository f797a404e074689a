// `option tcp-check`: the rules run in order over one connection or more, as haproxy 2.6 runs them.
// - Without a `connect` first, an implied one opens the server's check address and port.
// - A comment rule names the rules after it, up to the next change of action.
// - `send` writes its bytes and empties the receive buffer; the next `expect` waits for data.
// - An `expect` waits for more data while it cannot conclude; it then resumes at the first
//   negated expect of its run of expects (haproxy's "head"), which its timeout message names.
// - The last rule run gives the result: an expect its ok-status, a connect L4OK, a send L7OK.
// haproxy's canned checks (redis-check, smtpchk, ...) run here too, with rulesets of their own.
import type net from "node:net";
import type { TcpCheckExpect, TcpCheckStatement } from "../config/model.js";
import { CHECK_BUFFER } from "./http-check.js";
import { failed, passed, type CheckStatus, type Outcome } from "./result.js";
import {
  connectCheck,
  connectError,
  connectLimit,
  errnoText,
  writeProxyHeader,
  type Probe,
  type ProbeSpec,
} from "./probe.js";
import { closeAsHaproxy } from "../util/close.js";

interface StepBase {
  /** haproxy's step number: 0 for the implied connect. */
  step: number;
  comment?: string;
}

export type TcpCheckStep = StepBase &
  (
    | {
        action: "connect";
        implicit: boolean;
        port?: number;
        addr?: string;
        sendProxy: boolean;
        useDefault: boolean;
        linger: boolean;
      }
    | { action: "send"; data: Buffer }
    | (TcpCheckExpect & { matches(buf: Buffer): boolean; head: number; read?: ResponseReaders })
  );

/**
 * What a canned check's expect takes from the response where haproxy's rulesets use sample
 * expressions: its on-error and on-success texts and its status code.
 */
export interface ResponseReaders {
  onError?: (buf: Buffer) => string;
  onSuccess?: (buf: Buffer) => string;
  statusCode?: (buf: Buffer) => number;
  /** haproxy's `expect custom`: the protocol's own reading, in place of the pattern's. */
  judge?: Judge;
}

/** A judge's verdict on the response as received so far, and whether more can come. */
export type Judge = (buf: Buffer, lastRead: boolean) => "next" | "wait" | Outcome;

/** The response from `offset` up to its first line break (haproxy's `res.payload(offset,0),cut_crlf`). */
export const firstLine = (buf: Buffer, offset = 0): string =>
  /^[^\r\n]*/.exec(buf.subarray(offset).toString("latin1"))![0];

/** The response's NUL-terminated text at `offset`, where a binary protocol puts its texts. */
export const cString = (buf: Buffer, offset: number): string => {
  const end = buf.indexOf(0, offset);
  return buf.subarray(offset, end < 0 ? undefined : end).toString("latin1");
};

/** A rule as a canned check writes it: it may read the response. */
export type CannedRule = TcpCheckStatement & { read?: ResponseReaders };

/** An expect that its judge alone decides: its empty pattern matches anything. */
export const customExpect = (judge: Judge, read?: ResponseReaders): CannedRule => ({
  action: "expect",
  kind: "binary",
  pattern: "",
  negate: false,
  minRecv: 0,
  read: { ...read, judge },
});

/** A rule to compile, a section's or a canned check's, with its place in its list. */
export type TcpCheckInput = CannedRule & { index: number };

/**
 * The steps a check runs. A canned check's (haproxy's rulesets of other protocols than tcp-check)
 * names no step in its timeouts and connection errors and has no default failure or success text.
 */
export interface TcpCheckRuleset {
  steps: readonly TcpCheckStep[];
  canned: boolean;
}

type ExpectStep = Extract<TcpCheckStep, { action: "expect" }>;

function matcher(e: TcpCheckExpect): (buf: Buffer) => boolean {
  switch (e.kind) {
    case "string":
    case "binary": {
      const needle = Buffer.from(e.pattern, "latin1");
      return (buf) => buf.includes(needle);
    }
    case "rstring": {
      const re = new RegExp(e.pattern);
      return (buf) => re.test(buf.toString("latin1"));
    }
    case "rbinary": {
      const re = new RegExp(e.pattern);
      return (buf) => re.test(buf.toString("hex").toUpperCase());
    }
  }
}

/** The rules as steps: comments folded into the rules they name, the implied connect added. */
export function compileTcpCheck(rules: readonly TcpCheckInput[], canned = false): TcpCheckRuleset {
  const steps: TcpCheckStep[] = [];
  let comment: string | undefined;
  let prev: TcpCheckInput["action"] | undefined;
  for (const r of rules) {
    // A comment lasts while the same action repeats.
    if (r.action !== prev && prev !== "comment") comment = undefined;
    prev = r.action;
    const c = r.comment ?? comment;
    const base: StepBase = { step: r.index + 1, ...(c !== undefined && { comment: c }) };
    if (r.action === "comment") comment = r.comment;
    else if (r.action === "connect") {
      comment = undefined;
      const { port, addr, sendProxy, useDefault } = r;
      const linger = r.linger ?? false;
      steps.push({ ...base, action: "connect", implicit: false, port, addr, sendProxy, useDefault, linger });
    } else if (r.action === "send")
      steps.push({ ...base, action: "send", data: Buffer.from(r.data, "latin1") });
    else {
      const { kind, pattern, negate, minRecv, okStatus, errorStatus, toutStatus, onSuccess, onError } = r;
      const e = { kind, pattern, negate, minRecv, okStatus, errorStatus, toutStatus, onSuccess, onError };
      const prevStep = steps.at(-1);
      let head = steps.length;
      if (prevStep?.action === "expect") {
        const h = steps[prevStep.head] as ExpectStep;
        if (h.negate) head = prevStep.head;
      }
      steps.push({
        ...base,
        action: "expect",
        ...e,
        matches: matcher(r),
        head,
        ...(r.read && { read: r.read }),
      });
    }
  }
  if (steps[0]?.action !== "connect") {
    steps.unshift({
      step: 0,
      action: "connect",
      implicit: true,
      sendProxy: false,
      useDefault: true,
      linger: false,
    });
    for (const s of steps) if (s.action === "expect") s.head++;
  }
  return { steps, canned };
}

/** What haproxy appends to an error's info: where the check was. */
function where(s: TcpCheckStep): string {
  if (s.action === "connect" && s.implicit) return " at initial connection step of tcp-check";
  let at = ` at step ${s.step} of tcp-check`;
  if (s.action === "connect") at += s.port ? ` (connect port ${s.port})` : " (connect)";
  else if (s.action === "send") at += " (send)";
  else if (s.kind === "string" || s.kind === "binary") at += ` (expect ${s.kind} '${s.pattern}')`;
  else at += s.kind === "rstring" ? " (expect regex)" : " (expect binary regex)";
  return s.comment === undefined ? at : `${at} comment: '${s.comment}'`;
}

/** An L7OK or L7STS result shows a code: the one the expect reads, else 0. */
const withCode = (o: Outcome, e?: ExpectStep, buf?: Buffer): Outcome =>
  o.status === "L7OK" || o.status === "L7STS" ? { ...o, code: (buf && e?.read?.statusCode?.(buf)) ?? 0 } : o;

/** haproxy leaves out an empty info. */
const withInfo = (o: Outcome, info: string | undefined): Outcome => (info ? { ...o, info } : o);

const WHAT: Record<TcpCheckExpect["kind"], string> = {
  string: "",
  binary: " (binary)",
  rstring: " (regex)",
  rbinary: " (binary regex)",
};

/** An expect's verdict on the buffer: "next", "wait", or the failure. */
function evaluate(e: ExpectStep, buf: Buffer, lastRead: boolean, canned: boolean): "next" | "wait" | Outcome {
  const full = lastRead || buf.length >= CHECK_BUFFER;
  if (e.read?.judge) return e.read.judge(buf, full);
  if (!full) {
    if ((e.kind === "string" || e.kind === "binary") && buf.length < e.pattern.length) return "wait";
    if (e.minRecv > 0 && buf.length < e.minRecv) return "wait";
  }
  const match = e.matches(buf);
  if (!match && !full && e.minRecv === -1) return "wait";
  if (match !== e.negate) return "next";
  let info = e.read?.onError?.(buf) ?? e.onError;
  if (info === undefined && !canned) {
    const what = e.kind === "string" ? ` '${e.pattern}'` : WHAT[e.kind];
    info = `TCPCHK ${match ? "matched unwanted content" : "did not match content"}${what} at step ${e.step}`;
  }
  if (info !== undefined && e.comment !== undefined) info += ` comment: ${e.comment}`;
  return withCode(withInfo(failed(e.errorStatus ?? "L7RSP"), info), e, buf);
}

/** The result once every rule has run, from the last one and what it read. */
function success(last: TcpCheckStep, buf: Buffer, canned: boolean): Outcome {
  const generic = canned ? undefined : "(tcp-check)";
  if (last.action === "connect") return last.implicit ? passed("L4OK") : withInfo(passed("L4OK"), generic);
  if (last.action === "send") return withCode(withInfo(passed("L7OK"), generic));
  const info = last.read?.onSuccess?.(buf) ?? (last.onSuccess || generic);
  return withCode(withInfo({ ok: true, status: last.okStatus ?? "L7OK" }, info), last, buf);
}

export function tcpCheckProbe(spec: ProbeSpec, { steps, canned }: TcpCheckRuleset): Probe {
  const start = Date.now();
  let settle!: (o: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => (settle = resolve)).then((o) => ({
    ...o,
    durationMs: Date.now() - start,
  }));
  let settled = false;
  let socket: net.Socket | undefined;
  let linger = false;
  let connected = false;
  let eof = false;
  let error: NodeJS.ErrnoException | undefined;
  let buf = Buffer.alloc(0);
  /** The rule to run next, and the one running (or waiting). */
  let next = 0;
  let current = steps[0]!;
  let waiting = false;
  let timer: NodeJS.Timeout | undefined;

  const finish = (o: Outcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (socket) end(socket);
    settle(o);
  };
  const end = (sock: net.Socket): void => (linger ? void sock.destroy() : closeAsHaproxy(sock));
  /** Where the check was, for an error's info; a canned check does not say. */
  const at = (s: TcpCheckStep): string => (canned ? "" : where(s));
  let deadline = 0;
  const arm = (ms: number): void => {
    clearTimeout(timer);
    deadline = Date.now() + ms;
    timer = setTimeout(expire, ms).unref();
  };
  const expire = (): void => {
    const status: CheckStatus = !connected
      ? "L4TOUT"
      : current.action === "expect"
        ? (current.toutStatus ?? "L7TOUT")
        : "L7TOUT";
    finish(canned ? failed(status) : failed(status, where(current)));
  };

  const open = (s: Extract<TcpCheckStep, { action: "connect" }>): void => {
    if (socket) end(socket);
    linger = s.linger;
    connected = false;
    eof = false;
    error = undefined;
    buf = Buffer.alloc(0);
    if (s === steps[0]) arm(connectLimit(spec));
    // A later connect's timeout connect may shorten the time left, never lengthen it; once it is
    // connected, timeout check counts again from there (inferred, not compared with haproxy: §66).
    else if (spec.timeoutCheck !== undefined && spec.timeoutConnect !== undefined)
      if (spec.timeoutConnect < deadline - Date.now()) arm(spec.timeoutConnect);
    const sock = connectCheck(s.addr ?? spec.host, s.port ?? spec.port, spec.source);
    socket = sock;
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (sock !== socket) return;
      if (!connected) return finish(failed("L4CON", connectError(err) + at(s)));
      error = err;
      resume();
    });
    sock.once("connect", () => {
      connected = true;
      const proxy = s.sendProxy ? (spec.serverProxy ?? 1) : s.useDefault ? spec.sendProxy : undefined;
      if (proxy) writeProxyHeader(sock, proxy);
      if (spec.timeoutCheck !== undefined) arm(spec.timeoutCheck);
      run();
    });
    sock.on("data", (chunk: Buffer) => {
      if (sock !== socket) return;
      const room = CHECK_BUFFER - buf.length;
      if (room > 0) buf = Buffer.concat([buf, room < chunk.length ? chunk.subarray(0, room) : chunk]);
      resume();
    });
    sock.on("end", () => {
      if (sock !== socket) return;
      eof = true;
      resume();
    });
    sock.on("close", () => {
      if (sock !== socket) return;
      eof = true;
      resume();
    });
  };
  /** New bytes, an end or an error while an expect waits: evaluate again from its head. */
  const resume = (): void => {
    if (!waiting || settled) return;
    waiting = false;
    run();
  };

  const run = (): void => {
    while (!settled && next < steps.length) {
      const s = steps[next]!;
      current = s;
      if (s.action === "connect") {
        next++;
        return open(s);
      }
      if (s.action === "send") {
        buf = Buffer.alloc(0);
        socket!.write(s.data);
        next++;
        continue;
      }
      if (buf.length === 0) {
        if (error) return finish(failed("SOCKERR", errnoText(error) + at(s)));
        if (eof) {
          const info = `TCPCHK got an empty response at step ${s.step}`;
          const c = s.comment === undefined ? "" : ` comment: '${s.comment}'`;
          return finish(withCode(failed(s.errorStatus ?? "L7RSP", info + c)));
        }
        waiting = true;
        return;
      }
      const v = evaluate(s, buf, eof || error !== undefined, canned);
      if (v === "wait") {
        next = s.head;
        current = steps[s.head]!;
        waiting = true;
        return;
      }
      if (v !== "next") return finish(v);
      next++;
    }
    if (!settled) finish(success(current, buf, canned));
  };

  run();
  const abort = (): void => finish(failed(connected ? "L7TOUT" : "L4TOUT"));
  return { done, abort };
}
