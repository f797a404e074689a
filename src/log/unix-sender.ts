// Syslog over a unix datagram socket (`log /dev/log local0`). Node.js has no unix datagram sockets,
// so one small perl process (perl-base is part of every Debian system) owns the socket: lines reach
// it framed on a pipe, batched like the stdout sender's, and it sends one datagram per line without
// ever blocking (MSG_DONTWAIT: a full receiver loses lines, as with haproxy). The event loop only
// ever writes to the pipe; when the pipe backs up, lines are dropped and counted here.
import { spawn, type ChildProcess } from "node:child_process";
import { FLUSH_MS, type Sender } from "./targets.js";

/** Reads 4-byte big-endian length-prefixed frames from stdin; sends each to the socket at ARGV[0]. */
const RELAY = `
use strict;
use Socket;
# Signals meant for the proxy's process group must not cut the log short: the relay ends at EOF.
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = 'IGNORE';
socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or exit 1;
my $to = pack_sockaddr_un($ARGV[0]);
binmode STDIN;
my $buf = '';
while (sysread(STDIN, $buf, 65536, length $buf)) {
  while (length($buf) >= 4) {
    my $n = unpack('N', $buf);
    last if length($buf) < 4 + $n;
    send($s, substr($buf, 4, $n), MSG_DONTWAIT, $to);
    substr($buf, 0, 4 + $n) = '';
  }
}
`;

/** Bytes let queue on the pipe before lines are dropped. */
const PIPE_LIMIT = 1 << 20;

export class UnixSender implements Sender {
  dropped = 0;
  errors = 0;
  private readonly relay: ChildProcess | undefined;
  private batch: Buffer[] = [];
  private scheduled = false;
  private dead = false;
  private closing = false;
  private readonly flushNow = (): void => this.flush();

  constructor(readonly path: string) {
    // A missing perl, a spawn that fails (no descriptor left) or a relay that exits: say it once on
    // stderr, count, drop from then on; never throw into the code that logs.
    let relay: ChildProcess | undefined;
    try {
      relay = spawn("perl", ["-e", RELAY, path], { stdio: ["pipe", "ignore", "inherit"] });
    } catch {
      relay = undefined;
    }
    if (!relay?.stdin) {
      this.relay = undefined;
      this.die();
      return;
    }
    this.relay = relay;
    relay.on("error", () => this.die());
    relay.on("exit", () => this.die());
    relay.stdin.on("error", () => this.die());
    relay.unref();
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.closing) return;
    this.errors++;
    process.stderr.write(
      `[ALERT]    (${process.pid}) : log target '${this.path}': the unix socket relay (perl) is not running; its lines are dropped.\n`,
    );
  }

  send(line: string, max: number): void {
    if (this.dead) {
      this.dropped++;
      return;
    }
    const b = Buffer.allocUnsafe(4 + Math.min(line.length * 3, max) + 1);
    const n = b.write(line, 4, b.length - 5, "utf8");
    b[4 + n] = 10;
    b.writeUInt32BE(n + 1, 0);
    this.batch.push(b.subarray(0, n + 5));
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushNow, FLUSH_MS);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const lines = this.batch;
    if (lines.length === 0) return;
    this.batch = [];
    const pipe = this.relay?.stdin;
    if (this.dead || !pipe || pipe.writableLength > PIPE_LIMIT) {
      this.dropped += lines.length;
      return;
    }
    pipe.write(lines.length === 1 ? lines[0]! : Buffer.concat(lines));
  }

  /** Hands over what is batched and lets the relay send it, then end: within 2 s at most. */
  close(): Promise<void> {
    this.flush();
    const relay = this.relay;
    if (this.dead || !relay) return Promise.resolve();
    this.closing = true;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        relay.kill("SIGKILL");
        resolve();
      }, 2000);
      t.unref();
      relay.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      relay.stdin!.end();
    });
  }
}
