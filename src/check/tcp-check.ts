// `option tcp-check`: the rules run in order over one connection or more, as haproxy 2.6 runs them.
// - Without a `connect` first, an implied one opens the server's check address and port.
// - A comment rule names the rules after it, up to the next change of action.
// - `send` writes its bytes and empties the receive buffer; the next `expect` waits for data.
// - An `expect` waits for more data while it cannot conclude; it then resumes at the first
//   negated expect of its run of expects (haproxy's "head"), which its timeout message names.
// - The last rule run gives the result: an expect its ok-status, a connect L4OK, a send L7OK.
import type net from "node:net";
import type { TcpCheckExpect, TcpCheckRule } from "../config/model.js";
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
      }
    | { action: "send"; data: Buffer }
    | (TcpCheckExpect & { matches(buf: Buffer): boolean; head: number })
  );

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

/** The section's rules as steps: comments folded into the rules they name, the implied connect added. */
export function compileTcpCheck(rules: readonly TcpCheckRule[]): TcpCheckStep[] {
  const steps: TcpCheckStep[] = [];
  let comment: string | undefined;
  let prev: TcpCheckRule["action"] | undefined;
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
      steps.push({ ...base, action: "connect", implicit: false, port, addr, sendProxy, useDefault });
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
      steps.push({ ...base, action: "expect", ...e, matches: matcher(r), head });
    }
  }
  if (steps[0]?.action !== "connect") {
    steps.unshift({ step: 0, action: "connect", implicit: true, sendProxy: false, useDefault: true });
    for (const s of steps) if (s.action === "expect") s.head++;
  }
  return steps;
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

/** An L7OK or L7STS result shows a code, 0 for a tcp-check. */
const withCode = (o: Outcome): Outcome =>
  o.status === "L7OK" || o.status === "L7STS" ? { ...o, code: 0 } : o;

const WHAT: Record<TcpCheckExpect["kind"], string> = {
  string: "",
  binary: " (binary)",
  rstring: " (regex)",
  rbinary: " (binary regex)",
};

/** An expect's verdict on the buffer: "next", "wait", or the failure. */
function evaluate(e: ExpectStep, buf: Buffer, lastRead: boolean): "next" | "wait" | Outcome {
  const full = lastRead || buf.length >= CHECK_BUFFER;
  if (!full) {
    if ((e.kind === "string" || e.kind === "binary") && buf.length < e.pattern.length) return "wait";
    if (e.minRecv > 0 && buf.length < e.minRecv) return "wait";
  }
  const match = e.matches(buf);
  if (!match && !full && e.minRecv === -1) return "wait";
  if (match !== e.negate) return "next";
  const what = e.kind === "string" ? ` '${e.pattern}'` : WHAT[e.kind];
  let info =
    e.onError ??
    `TCPCHK ${match ? "matched unwanted content" : "did not match content"}${what} at step ${e.step}`;
  if (e.comment !== undefined) info += ` comment: ${e.comment}`;
  return withCode(failed(e.errorStatus ?? "L7RSP", info));
}

/** The result once every rule has run, from the last one. */
function success(last: TcpCheckStep): Outcome {
  if (last.action === "connect")
    return last.implicit ? passed("L4OK") : { ok: true, status: "L4OK", info: "(tcp-check)" };
  const status = last.action === "expect" ? (last.okStatus ?? "L7OK") : "L7OK";
  const info = (last.action === "expect" && last.onSuccess) || "(tcp-check)";
  return withCode({ ok: true, status, info });
}

export function tcpCheckProbe(spec: ProbeSpec, steps: readonly TcpCheckStep[]): Probe {
  const start = Date.now();
  let settle!: (o: Outcome) => void;
  const done = new Promise<Outcome>((resolve) => (settle = resolve)).then((o) => ({
    ...o,
    durationMs: Date.now() - start,
  }));
  let settled = false;
  let socket: net.Socket | undefined;
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
    if (socket) closeAsHaproxy(socket);
    settle(o);
  };
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
    finish(failed(status, where(current)));
  };

  const open = (s: Extract<TcpCheckStep, { action: "connect" }>): void => {
    if (socket) closeAsHaproxy(socket);
    connected = false;
    eof = false;
    error = undefined;
    buf = Buffer.alloc(0);
    if (s === steps[0]) arm(connectLimit(spec));
    // A later connect may shorten the time left, never lengthen it.
    else if (spec.timeoutCheck !== undefined && spec.timeoutConnect !== undefined)
      if (spec.timeoutConnect < deadline - Date.now()) arm(spec.timeoutConnect);
    const sock = connectCheck(s.addr ?? spec.host, s.port ?? spec.port, spec.source);
    socket = sock;
    sock.on("error", (err: NodeJS.ErrnoException) => {
      if (sock !== socket) return;
      if (!connected) return finish(failed("L4CON", connectError(err) + where(s)));
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
        if (error) return finish(failed("SOCKERR", errnoText(error) + where(s)));
        if (eof) {
          const info = `TCPCHK got an empty response at step ${s.step}`;
          const c = s.comment === undefined ? "" : ` comment: '${s.comment}'`;
          return finish(withCode(failed(s.errorStatus ?? "L7RSP", info + c)));
        }
        waiting = true;
        return;
      }
      const v = evaluate(s, buf, eof || error !== undefined);
      if (v === "wait") {
        next = s.head;
        current = steps[s.head]!;
        waiting = true;
        return;
      }
      if (v !== "next") return finish(v);
      next++;
    }
    if (!settled) finish(success(current));
  };

  run();
  const abort = (): void => finish(failed(connected ? "L7TOUT" : "L4TOUT"));
  return { done, abort };
}
