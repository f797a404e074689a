// Small helpers shared by the scripted check and the tests: free ports, one echo session, one GET.
import http from "node:http";
import net from "node:net";
import { WebSocket } from "ws";
import { PROTOCOL, type Echo, type Hello } from "./server.js";

/** `n` distinct ports the system says are free (all held open at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((ok, fail) => {
          const s = net.createServer();
          s.once("error", fail);
          s.listen(0, "127.0.0.1", () => ok(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export interface EchoSession {
  hello: Hello;
  /** Sends `text`, resolves with its echo. */
  echo(text: string, ms?: number): Promise<Echo>;
  close(): void;
}

export interface OpenOptions {
  protocol?: string | string[];
  /** A Host header other than the URL's (for the `ws.` routing). */
  host?: string;
  timeoutMs?: number;
}

/** The outcome of a WebSocket attempt that did not open: the HTTP status that refused it. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly servedBy: string | undefined,
    readonly body: string,
  ) {
    super(`refused with HTTP ${status}${servedBy ? ` by ${servedBy}` : ""}: ${body.trim()}`);
  }
}

/** Opens a WebSocket, waits for the server's hello. Rejects with `Refused` on an HTTP answer, bounded by `timeoutMs`. */
export function openEcho(url: string, opts: OpenOptions = {}): Promise<EchoSession> {
  const ms = opts.timeoutMs ?? 8000;
  return new Promise<EchoSession>((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocol ?? PROTOCOL, {
      handshakeTimeout: ms,
      ...(opts.host ? { headers: { Host: opts.host } } : {}),
    });
    const inbox: unknown[] = [];
    let wake: (() => void) | undefined;
    const timer = setTimeout(() => fail(new Error(`no hello from ${url} within ${ms} ms`)), ms);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      ws.terminate();
      reject(e);
    };
    ws.on("error", (e) => fail(e));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => fail(new Refused(res.statusCode ?? 0, res.headers["x-served-by"] as string, body)));
      res.on("error", () => fail(new Refused(res.statusCode ?? 0, undefined, body)));
    });
    ws.on("message", (data) => {
      inbox.push(JSON.parse(String(data)));
      wake?.();
    });
    const next = (deadline: number): Promise<unknown> =>
      new Promise((ok, ko) => {
        const poll = (): void => {
          if (inbox.length) {
            wake = undefined;
            return ok(inbox.shift());
          }
          if (ws.readyState > WebSocket.OPEN) return ko(new Error("the socket closed"));
          const left = deadline - Date.now();
          if (left <= 0) return ko(new Error("no message in time"));
          const t = setTimeout(poll, Math.min(left, 1000));
          wake = () => {
            clearTimeout(t);
            poll();
          };
        };
        poll();
      });
    ws.once("open", () => {
      next(Date.now() + ms).then(
        (hello) => {
          clearTimeout(timer);
          resolve({
            hello: hello as Hello,
            echo: async (text, wait = 5000) => {
              ws.send(text);
              return (await next(Date.now() + wait)) as Echo;
            },
            close: () => ws.close(),
          });
        },
        (e: Error) => fail(e),
      );
    });
  });
}

export interface Got {
  status: number;
  servedBy: string | undefined;
  body: string;
}

/** One GET, bounded by `ms`, on a fresh connection. */
export function get(port: number, path: string, host?: string, ms = 5000): Promise<Got> {
  return new Promise<Got>((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, agent: false, headers: host ? { Host: host } : {}, timeout: ms },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, servedBy: res.headers["x-served-by"] as string, body }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${path}: no answer within ${ms} ms`)));
    req.on("error", reject);
  });
}
