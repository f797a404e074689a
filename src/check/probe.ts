// One check on the wire: a TCP connect, then for an HTTP check one request and its response.
// It settles exactly once, within its time limits, and leaves no socket behind.
//
// Time limits as haproxy 2.6 applies them (measured on the real one):
// - without `timeout check`, the whole check, connect included, must end within `inter`;
// - with `timeout check`, the connect must end within min(`timeout connect`, `inter`), and the
//   rest within `timeout check` counted from the connection.
import net from "node:net";
import { HttpCheckReader, type Expectation } from "./http-check.js";
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
  /** Undefined for a TCP (connect only) check. */
  http?: { request: Buffer; method: string; expect: readonly Expectation[] };
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

const errnoText = (err: NodeJS.ErrnoException): string =>
  (err.code && ERRNO_TEXT[err.code]) ?? err.code ?? err.message;

export function probe(spec: ProbeSpec): Probe {
  const start = Date.now();
  let settle!: (r: CheckResult) => void;
  const done = new Promise<CheckResult>((resolve) => (settle = resolve));
  let settled = false;
  let connected = false;
  const reader = spec.http ? new HttpCheckReader(spec.http.expect, spec.http.method) : undefined;
  const from = spec.source;
  const socket = net.connect({
    host: spec.host,
    port: spec.port,
    noDelay: true,
    ...(from && { localAddress: from.address, localPort: from.port }),
  });

  const finish = (o: Outcome | undefined): void => {
    if (settled || !o) return;
    settled = true;
    clearTimeout(timer);
    closeAsHaproxy(socket);
    settle({ ...o, durationMs: Date.now() - start });
  };
  const expire = (): void => finish(connected ? reader!.timeout() : failed("L4TOUT"));

  const connectLimit =
    spec.timeoutCheck === undefined ? spec.inter : Math.min(spec.timeoutConnect ?? spec.inter, spec.inter);
  let timer = setTimeout(expire, connectLimit).unref();

  socket.on("error", (err: NodeJS.ErrnoException) =>
    finish(
      connected
        ? failed("SOCKERR", errnoText(err))
        : failed(
            "L4CON",
            err.syscall === "bind" ? `Can't bind to source address (${errnoText(err)})` : errnoText(err),
          ),
    ),
  );
  socket.once("connect", () => {
    connected = true;
    if (spec.sendProxy === 2) socket.write(LOCAL_V2);
    else if (spec.sendProxy === 1) {
      const local = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
      const remote = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
      socket.write(proxyHeaderFor(1, local, remote));
    }
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
