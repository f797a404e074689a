// One check on the wire: a TCP connect, then for an HTTP check one request and its response (a
// tcp-check runs its own steps, in tcp-check.ts).
// It settles exactly once, within its time limits, and leaves no socket behind.
//
// Time limits as haproxy 2.6 applies them (measured on the real one):
// - without `timeout check`, the whole check, connect included, must end within `inter`;
// - with `timeout check`, the connect must end within min(`timeout connect`, `inter`), and the
//   rest within `timeout check` counted from the connection.
import net from "node:net";
import { HttpCheckReader, type Expectation } from "./http-check.js";
import { tcpCheckProbe, type TcpCheckRuleset } from "./tcp-check.js";
import { failed, passed, type CheckResult, type Outcome } from "./result.js";
import { closeAsHaproxy } from "../util/close.js";
import { LOCAL_V2, proxyHeaderFor } from "../proxy/proxy-protocol.js";
import type { Endpoint } from "../util/tcp-socket.js";

export interface ProbeSpec {
  host: string;
  port: number;
  /** `source`: the address (and port, 0 for any) the check leaves from. */
  source?: Endpoint;
  inter: number;
  timeoutCheck?: number;
  timeoutConnect?: number;
  /** A send-proxy server's PROXY protocol header version: v1 names the check's own connection, v2 says LOCAL. */
  sendProxy?: 1 | 2;
  /** The server's own PROXY protocol version, for a tcp-check connect with `send-proxy`. */
  serverProxy?: 1 | 2;
  /** Undefined for a TCP (connect only) check. */
  http?: { request: Buffer; method: string; expect: readonly Expectation[] };
  /** `option tcp-check` or a canned check: its steps, run instead of the connect-only check. */
  tcp?: TcpCheckRuleset;
}

export interface Probe {
  readonly done: Promise<CheckResult>;
  /** Ends the check now (shutdown); it then settles as a Layer4 timeout. */
  abort(): void;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EADDRINUSE: "Address already in use",
  EINVAL: "Invalid argument",
  EPIPE: "Broken pipe",
};

export const errnoText = (err: NodeJS.ErrnoException): string =>
  (err.code && ERRNO_TEXT[err.code]) ?? err.code ?? err.message;

/** A check's connection, from `source` when one is set. */
export const connectCheck = (host: string, port: number, from: Endpoint | undefined): net.Socket =>
  net.connect({
    host,
    port,
    noDelay: true,
    ...(from && { localAddress: from.address, localPort: from.port }),
  });

/** The PROXY header a check sends first: v1 names the check's own connection, v2 says LOCAL. */
export function writeProxyHeader(socket: net.Socket, version: 1 | 2): void {
  if (version === 2) return void socket.write(LOCAL_V2);
  const local = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  const remote = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  socket.write(proxyHeaderFor(1, local, remote));
}

/** The first connect's limit: the whole check's (inter) without `timeout check`. */
export const connectLimit = (spec: ProbeSpec): number =>
  spec.timeoutCheck === undefined ? spec.inter : Math.min(spec.timeoutConnect ?? spec.inter, spec.inter);

/** L4CON's info for a connect that failed. */
export const connectError = (err: NodeJS.ErrnoException): string =>
  err.syscall === "bind" ? `Can't bind to source address (${errnoText(err)})` : errnoText(err);

export function probe(spec: ProbeSpec): Probe {
  const start = Date.now();
  let settle!: (r: CheckResult) => void;
  const done = new Promise<CheckResult>((resolve) => (settle = resolve));
  let settled = false;
  let connected = false;
  const reader = spec.http ? new HttpCheckReader(spec.http.expect, spec.http.method) : undefined;
  if (spec.tcp) return tcpCheckProbe(spec, spec.tcp);
  const socket = connectCheck(spec.host, spec.port, spec.source);

  const finish = (o: Outcome | undefined): void => {
    if (settled || !o) return;
    settled = true;
    clearTimeout(timer);
    closeAsHaproxy(socket);
    settle({ ...o, durationMs: Date.now() - start });
  };
  const expire = (): void => finish(connected ? reader!.timeout() : failed("L4TOUT"));

  let timer = setTimeout(expire, connectLimit(spec)).unref();

  socket.on("error", (err: NodeJS.ErrnoException) =>
    finish(connected ? failed("SOCKERR", errnoText(err)) : failed("L4CON", connectError(err))),
  );
  socket.once("connect", () => {
    connected = true;
    if (spec.sendProxy) writeProxyHeader(socket, spec.sendProxy);
    if (!spec.http) return finish(passed("L4OK"));
    if (spec.timeoutCheck !== undefined) {
      clearTimeout(timer);
      timer = setTimeout(expire, spec.timeoutCheck).unref();
    }
    socket.write(spec.http.request);
  });
  socket.on("data", (chunk: Buffer) => finish(reader!.feed(chunk)));
  socket.on("end", () => finish(reader ? reader.end() : failed("L7RSP")));
  socket.on("close", () => finish(connected ? (reader?.end() ?? failed("L7RSP")) : failed("L4CON")));

  return { done, abort: () => finish(failed(connected ? "L7TOUT" : "L4TOUT")) };
}
