// Small helpers shared by the scripted check and the tests: free ports, one echo session, one GET.
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { WebSocket } from "ws";
import { PROTOCOL, type Echo, type Hello } from "./server.js";

/**
 * `n` distinct free ports below the system's ephemeral range. A port from `listen(0)` would be
 * released before the demo binds it again, and in between any outgoing connection or `listen(0)`
 * elsewhere (the tests run side by side) may be handed that same ephemeral port.
 */
export async function freePorts(n: number): Promise<number[]> {
  const top = ephemeralLow() - 1;
  const bottom = Math.min(10_000, top - 1000);
  const ports: number[] = [];
  const held: net.Server[] = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries === 200) throw new Error(`no ${n} free ports between ${bottom} and ${top}`);
      const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
      if (ports.includes(port)) continue;
      const s = net.createServer();
      const bound = await new Promise<boolean>((ok) => {
        s.once("error", () => ok(false));
        s.listen(port, "127.0.0.1", () => ok(true));
      });
      if (!bound) continue;
      held.push(s);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return ports;
}

/** The first port the kernel hands out on its own (Linux's ip_local_port_range; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 2048) return low;
  } catch {
    // not Linux
  }
  return 32768;
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
