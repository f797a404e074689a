// Where log lines go: file descriptors (stdout/stderr), UDP syslog, and unix datagram syslog (in
// unix-sender.ts). Nothing here blocks the event loop or throws: a target that cannot keep up drops
// lines and counts them.
import dgram from "node:dgram";
import { fstatSync, writeSync } from "node:fs";
import dns from "node:dns";
import net from "node:net";
import type { LogTarget } from "../config/model.js";
import { UnixSender } from "./unix-sender.js";

export interface Sender {
  /** Sends `line` cut to `max` bytes, followed by "\n" (haproxy ends every message with one). */
  send(line: string, max: number): void;
  /** Lines not sent: buffer full, socket not ready, send errors. */
  readonly dropped: number;
  /** Write or send errors seen (each also counts its lines as dropped). */
  readonly errors: number;
  /** Sends what is buffered, then releases the socket; the fd senders leave the fd open. */
  close(): Promise<void>;
}

/** Bytes an fd sender lets queue in the stream (a reader not draining); past this, lines are dropped. */
export const FD_BUFFER_LIMIT = 1 << 20;

/** How long lines wait in the batch: at 20,000 requests/s, some 200 lines leave in one write. */
export const FLUSH_MS = 10;

/**
 * stdout/stderr: lines are appended to a batch buffer and leave with one write per batch, every
 * FLUSH_MS, so that a burst of requests costs one syscall. A regular file gets the batch with a plain
 * write(2), no stream and no copy (it is fast and never blocks for long). On a pipe or socket the
 * process stream is non-blocking (libuv): when the reader does not drain, the stream's queue grows to
 * FD_BUFFER_LIMIT and batches beyond it are dropped and counted, the event loop never waits. (A TTY
 * is written synchronously by Node: it is interactive.)
 */
export class FdSender implements Sender {
  dropped = 0;
  errors = 0;
  private buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  private len = 0;
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  /** The descriptor, when it is a regular file: written directly. */
  private readonly file: number | undefined;

  constructor(readonly stream: NodeJS.WriteStream) {
    this.file = regularFile(stream);
    writersOf(stream).add(this);
  }

  send(line: string, len: number): void {
    // haproxy's `len` counts the newline on a stream (a datagram has it beyond).
    const max = len - 1;
    // Worst case 3 bytes per UTF-16 unit; only measure when the rough bound does not fit.
    let need = Math.min(line.length * 3, max) + 1;
    if (this.len + need > this.buf.length) {
      need = Math.min(Buffer.byteLength(line), max) + 1;
      if (this.len + need > this.buf.length && !this.grow(this.len + need)) {
        this.dropped++;
        return;
      }
    }
    this.len += this.buf.write(line, this.len, Math.min(max, this.buf.length - this.len - 1), "utf8");
    this.buf[this.len++] = 10;
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushNow, FLUSH_MS);
    }
  }

  private grow(size: number): boolean {
    if (size > FD_BUFFER_LIMIT) return false;
    let n = this.buf.length * 2;
    while (n < size) n *= 2;
    const b = Buffer.allocUnsafe(Math.min(n, FD_BUFFER_LIMIT));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    if (this.len === 0) return;
    const n = this.len;
    this.len = 0;
    if (this.file !== undefined) return this.writeFile(this.file, n);
    if (this.stream.destroyed || this.stream.writableLength > FD_BUFFER_LIMIT) {
      this.dropped += countLines(this.buf, 0, n);
      return;
    }
    // The stream keeps the chunk until written: hand it a copy and keep the batch buffer.
    this.stream.write(Buffer.from(this.buf.subarray(0, n)));
  }

  private writeFile(fd: number, n: number): void {
    try {
      for (let off = 0; off < n;) off += writeSync(fd, this.buf, off, n - off);
    } catch {
      this.errors++;
      this.dropped += countLines(this.buf, 0, n);
    }
  }

  /** Writes what is batched; resolves once the stream has drained it, or after 2 s at most. */
  close(): Promise<void> {
    this.flush();
    writersOf(this.stream).delete(this);
    if (this.stream.writableLength === 0 || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, 2000);
      t.unref();
      const stream = this.stream;
      function done(): void {
        clearTimeout(t);
        stream.off("drain", done);
        resolve();
      }
      stream.on("drain", done);
    });
  }
}

const writers = new WeakMap<NodeJS.WriteStream, Set<FdSender>>();

/**
 * The fd senders open on a process stream. One error listener per stream, however many loggers come
 * and go: EPIPE and the like must not crash the proxy, they are counted (haproxy ignores them too),
 * and an error after every sender closed still finds the listener.
 */
function writersOf(stream: NodeJS.WriteStream): Set<FdSender> {
  let set = writers.get(stream);
  if (!set) {
    const open = new Set<FdSender>();
    stream.on("error", () => {
      for (const w of open) w.errors++;
    });
    writers.set(stream, (set = open));
  }
  return set;
}

function regularFile(stream: NodeJS.WriteStream): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== "number") return undefined;
  try {
    return fstatSync(fd).isFile() ? fd : undefined;
  } catch {
    return undefined;
  }
}

function countLines(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (b[i] === 10) n++;
  return n;
}

/** Datagrams sent and not yet acknowledged by libuv beyond which lines are dropped. */
export const UDP_INFLIGHT_LIMIT = 1024;

/**
 * UDP syslog: one datagram per line on a connected socket (the host is resolved once, at start).
 * Lines arriving before the socket is connected wait in a small queue. Send errors (ICMP refusals
 * reported on the connected socket, ENOBUFS...) are counted, never thrown.
 */
export class UdpSender implements Sender {
  dropped = 0;
  errors = 0;
  private sock: dgram.Socket | undefined;
  private ready = false;
  private closed = false;
  private inflight = 0;
  private pending: Buffer[] = [];
  private readonly onSent = (err: Error | null): void => {
    this.inflight--;
    if (err) {
      this.errors++;
      this.dropped++;
    }
  };

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    if (net.isIP(host)) this.open(host);
    else
      dns.lookup(host, (err, address) => {
        if (this.closed) return;
        if (err) {
          this.errors++;
          this.dropped += this.pending.length;
          this.pending = [];
          this.closed = true;
          return;
        }
        this.open(address);
      });
  }

  private open(address: string): void {
    const sock = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    this.sock = sock;
    sock.on("error", () => {
      this.errors++;
    });
    sock.connect(this.port, address, () => {
      this.ready = true;
      const q = this.pending;
      this.pending = [];
      for (const b of q) this.transmit(b);
    });
    sock.unref();
  }

  send(line: string, max: number): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    const b = Buffer.allocUnsafe(Math.min(line.length * 3, max) + 1);
    const n = b.write(line, 0, b.length - 1, "utf8");
    b[n] = 10;
    const dgramBuf = b.subarray(0, n + 1);
    if (!this.ready) {
      if (this.pending.length >= UDP_INFLIGHT_LIMIT) this.dropped++;
      else this.pending.push(dgramBuf);
      return;
    }
    this.transmit(dgramBuf);
  }

  private transmit(b: Buffer): void {
    if (this.inflight >= UDP_INFLIGHT_LIMIT) {
      this.dropped++;
      return;
    }
    this.inflight++;
    try {
      this.sock!.send(b, this.onSent);
    } catch {
      this.inflight--;
      this.errors++;
      this.dropped++;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    const sock = this.sock;
    if (!sock) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        try {
          sock.close(() => resolve());
        } catch {
          resolve();
        }
      };
      // Let queued datagrams leave first (they are on the loopback or the kernel's queue quickly).
      if (this.inflight === 0) done();
      else setTimeout(done, 50).unref();
    });
  }
}

/** A key that makes targets with the same destination share one sender. */
export function senderKey(t: LogTarget): string {
  switch (t.kind) {
    case "stdout":
      return "fd:1";
    case "stderr":
      return "fd:2";
    case "udp":
      return `udp:${t.host ?? ""}:${t.port ?? 514}`;
    case "unix":
      return `unix:${t.path ?? ""}`;
  }
}

export function createSender(t: LogTarget): Sender {
  switch (t.kind) {
    case "stdout":
      return new FdSender(process.stdout);
    case "stderr":
      return new FdSender(process.stderr);
    case "udp":
      return new UdpSender(t.host ?? "127.0.0.1", t.port ?? 514);
    case "unix":
      return new UnixSender(t.path ?? "/dev/log");
  }
}
