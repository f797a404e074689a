// Open-loop HTTP/1.1 keep-alive load at a fixed offered rate (what wrk cannot do), and the CPU time
// of a given process over the measured window. Used by logging-cost.mjs; runs standalone too:
//
//   node bench/rate-load.mjs --url http://127.0.0.10:18003/ --rate 20000 --conns 50 \
//     --warmup 2 --duration 10 [--pid PROXY_PID] [--backend-pids P1,P2]
//
// Requests are due at `rate` per second from the start (a 1 ms tick sends what is due). Each of the
// `conns` keep-alive connections has at most one request in flight (no pipelining); a request that
// is due while every connection is busy waits in a backlog and leaves as soon as one is free, so the
// offered rate stays fixed and latency is measured from the time the request was due (no
// coordinated omission). Raw sockets and a minimal response parser keep the generator cheap.
// Responses must carry Content-Length (the bench backends' do).
//
// The window starts after `warmup` s and lasts `duration` s; CPU (utime+stime, /proc/PID/stat, all
// threads) of --pid and of --backend-pids is read at its two edges, as the harness's ws-load.mjs does.
// The last stdout line is `RESULT {json}`; its `sustained` says whether the rate was kept (98% of the
// requests due in the window completed in it, under 50 ms of requests waiting at its end, median
// latency under 20 ms).
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import { Buffer } from "node:buffer";
import { setInterval, clearInterval } from "node:timers";
import { performance } from "node:perf_hooks";
import { URL } from "node:url";
import { parseArgs } from "./args.mjs";

const a = parseArgs(process.argv.slice(2), {
  url: "http://127.0.0.10:18003/",
  rate: "20000",
  conns: "50",
  warmup: "2",
  duration: "10",
  pid: "",
  "backend-pids": "",
  "max-backlog": "",
  trace: "", // print every 100 ms: done, backlog, proxy CPU share (stderr) // give up (error) when this many due requests wait; default rate/2 (0.5 s behind)
});
const url = new URL(a.url);
const HOST = url.hostname;
const PORT = Number(url.port || 80);
const RATE = Number(a.rate);
const CONNS = Number(a.conns);
const WARMUP_MS = Number(a.warmup) * 1000;
const DUR_MS = Number(a.duration) * 1000;
const MAX_BACKLOG = Number(a["max-backlog"] || Math.max(1000, RATE / 2));
const REQ = Buffer.from(
  `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: rate-load\r\nAccept: */*\r\n\r\n`,
  "latin1",
);

const CLK_TCK = 100; // getconf CLK_TCK
const HZ_US = 1e6 / CLK_TCK;
/** utime+stime of a pid in µs (or only one of them: which = 11 utime, 12 stime), or NaN. */
function cpuUs(pid, which) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (which ? Number(f[which]) : Number(f[11]) + Number(f[12])) * HZ_US;
  } catch {
    return NaN;
  }
}
/** Machine-wide busy and total jiffies (first line of /proc/stat). */
function machineJiffies() {
  const f = fs.readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((s, x) => s + x, 0);
  const idle = f[3] + (f[4] || 0); // idle + iowait
  return { busy: total - idle, total };
}
const pids = a.pid ? [Number(a.pid)] : [];
const bePids = a["backend-pids"] ? a["backend-pids"].split(",").map(Number) : [];
function snapshot() {
  const sum = (ps) => ps.reduce((s, p) => s + cpuUs(p), 0);
  const u = process.cpuUsage();
  return {
    t: performance.now(),
    proxy: sum(pids),
    proxyUser: pids.reduce((t, p) => t + cpuUs(p, 11), 0),
    backends: sum(bePids),
    self: u.user + u.system,
    machine: machineJiffies(),
  };
}

// ------------------------------------------------------------------ connections
const CRLF2 = Buffer.from("\r\n\r\n");
const READBUF = Buffer.alloc(64 * 1024);
const CL = [Buffer.from("\ncontent-length:"), Buffer.from("\nContent-Length:")];
/** Content-Length of the head b[0..end) (0 if absent); the usual spellings first, then any case. */
function contentLength(b, end) {
  let i = b.indexOf(CL[0]);
  if (i < 0 || i > end) i = b.indexOf(CL[1]);
  if (i < 0 || i > end) {
    i = b.subarray(0, end).toString("latin1").toLowerCase().indexOf("\ncontent-length:");
    if (i < 0) return 0;
  }
  let n = 0;
  for (let j = i + CL[0].length; j < end; j++) {
    const c = b[j];
    if (c >= 48 && c <= 57) n = n * 10 + c - 48;
    else if (c !== 32 && c !== 9) break;
  }
  return n;
}
let t0 = 0; // performance.now() at start
let sent = 0; // requests handed to a connection
let done = 0; // responses completed
let backlog = 0; // due, not yet sent
let maxBacklog = 0;
let errors = 0;
let non2xx = 0;
let measuring = false;
let winDone = 0;
let lat = []; // latency samples (µs) in the window, from the due time
// Connections with nothing in flight, first freed first used: every connection keeps being used, so
// none sits idle past the proxy's keep-alive timeout at low rates.
const idle = {
  q: [],
  head: 0,
  push(c) {
    this.q.push(c);
  },
  shift() {
    if (this.head === this.q.length) return undefined;
    const c = this.q[this.head++];
    if (this.head > 1024) {
      this.q = this.q.slice(this.head);
      this.head = 0;
    }
    return c;
  },
};
const dueTimes = []; // FIFO of due times of requests in the backlog (ms, performance.now scale)

class Conn {
  constructor() {
    this.buf = null; // pending bytes of the current response
    this.need = -1; // bytes of the response still expected once the head is parsed; -1: head not parsed
    this.due = 0;
    this.ready = false;
    // onread: reads land in one shared buffer, no Buffer per read and no stream 'data' machinery.
    this.sock = net.connect({
      host: HOST,
      port: PORT,
      onread: { buffer: READBUF, callback: (n, buf) => this.onData(buf.subarray(0, n)) },
    });
    this.sock.setNoDelay(true);
    this.sock.on("connect", () => {
      this.ready = true;
      idle.push(this);
    });
    this.sock.on("error", () => {});
    this.sock.on("close", () => {
      if (!stopping) {
        errors++;
        console.error("connection closed by peer");
        finish(new Error("connection closed by peer"));
      }
    });
  }
  send(due) {
    this.due = due;
    this.need = -1;
    sent++;
    this.sock.write(REQ);
  }
  onData(d) {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.need < 0) {
        const h = b.indexOf(CRLF2);
        if (h < 0) break;
        const status = (b[9] - 48) * 100 + (b[10] - 48) * 10 + (b[11] - 48);
        if (status < 200 || status > 399) non2xx++;
        this.need = h + 4 + contentLength(b, h);
      }
      if (b.length < this.need) break;
      b = b.subarray(this.need);
      this.need = -1;
      this.complete();
    }
    this.buf = b.length ? Buffer.from(b) : null; // a copy: READBUF is reused by the next read
  }
  complete() {
    done++;
    const now = performance.now();
    if (measuring) {
      winDone++;
      if ((winDone & 7) === 0) lat.push((now - this.due) * 1000); // 1 sample in 8
    }
    if (dueTimes.length) {
      backlog--;
      this.send(dueTimes.shift());
    } else idle.push(this);
  }
}

let stopping = false;
const conns = [];
for (let i = 0; i < CONNS; i++) conns.push(new Conn());

// ------------------------------------------------------------------ schedule
let scheduled = 0; // requests due so far
let timer;
function tick() {
  const now = performance.now();
  const due = Math.floor(((now - t0) * RATE) / 1000);
  for (; scheduled < due; scheduled++) {
    const dueAt = t0 + (scheduled * 1000) / RATE;
    const c = idle.shift();
    if (c) c.send(dueAt);
    else {
      dueTimes.push(dueAt);
      backlog++;
    }
  }
  if (backlog > maxBacklog) maxBacklog = backlog;
  if (backlog > MAX_BACKLOG) finish(new Error(`backlog ${backlog} > ${MAX_BACKLOG}: rate not sustained`));
}

let s0,
  s1,
  winSent0,
  winBacklogMax = 0;
let result;
function finish(err) {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  for (const c of conns) c.sock.destroy();
  const r = result ?? {};
  if (err) r.error = String(err.message ?? err);
  Object.assign(r, { totalSent: sent, totalDone: done, errors, non2xx, maxBacklog });
  console.log("RESULT " + JSON.stringify(r));
  process.exit(err ? 3 : 0);
}

// wait for every connection, then start the clock
const ready = setInterval(() => {
  if (conns.every((c) => c.ready)) {
    clearInterval(ready);
    t0 = performance.now();
    timer = setInterval(tick, 1);
    if (a.trace) {
      let last = snapshot();
      let lastDone = done;
      setInterval(() => {
        const s = snapshot();
        const dt = (s.t - last.t) / 1000;
        const r = (x) => x.toFixed(2);
        console.error(
          `t=${r((s.t - t0) / 1000)} done/s=${((done - lastDone) / dt).toFixed(0)} backlog=${backlog}` +
            ` proxy=${r((s.proxy - last.proxy) / 1e6 / dt)} be=${r((s.backends - last.backends) / 1e6 / dt)}` +
            ` gen=${r((s.self - last.self) / 1e6 / dt)}` +
            ` machine=${r((s.machine.busy - last.machine.busy) / (s.machine.total - last.machine.total))}`,
        );
        last = s;
        lastDone = done;
      }, 100).unref();
    }
    setTimeout(() => {
      measuring = true;
      winSent0 = scheduled;
      maxBacklog = 0;
      s0 = snapshot();
    }, WARMUP_MS);
    setTimeout(() => {
      s1 = snapshot();
      measuring = false;
      winBacklogMax = maxBacklog;
      const secs = (s1.t - s0.t) / 1000;
      lat.sort((x, y) => x - y);
      const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
      const mj = s1.machine.total - s0.machine.total;
      result = {
        rateOffered: (scheduled - winSent0) / secs,
        rateDone: winDone / secs,
        requests: winDone,
        seconds: secs,
        proxyCpuUs: s1.proxy - s0.proxy,
        proxyCpuUsPerReq: pids.length ? (s1.proxy - s0.proxy) / winDone : null,
        proxyUserUsPerReq: pids.length ? (s1.proxyUser - s0.proxyUser) / winDone : null,
        proxyCores: (s1.proxy - s0.proxy) / 1e6 / secs,
        backendCpuUsPerReq: bePids.length ? (s1.backends - s0.backends) / winDone : null,
        loadgenCpuUsPerReq: (s1.self - s0.self) / winDone,
        machineBusy: mj ? (s1.machine.busy - s0.machine.busy) / mj : null,
        ncpu: os.cpus().length,
        p50us: q(50),
        p99us: q(99),
        p999us: q(99.9),
        maxBacklogInWindow: winBacklogMax,
        backlogAtEnd: backlog,
      };
      // Kept up: 98% of what was due completed in the window, less than 50 ms of requests waiting at its
      // end, and the median request less than 20 ms late. A run that fell behind for long is not the
      // fixed-rate case any more (the proxy works through bigger batches, cheaper per request).
      result.sustained =
        result.rateDone >= 0.98 * result.rateOffered && backlog <= RATE * 0.05 && result.p50us < 20_000;
      finish(null);
    }, WARMUP_MS + DUR_MS);
  }
}, 5);
setTimeout(() => {
  if (!t0) finish(new Error("connections not ready after 10 s"));
}, 10_000).unref();
