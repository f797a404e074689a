// What logging every request costs, in CPU per request of the proxy process: Sluice with
// `option httplog` + `log stdout format raw local0` (stdout redirected to a file) against the same
// configuration without the log line, at a fixed offered rate of keep-alive HTTP/1.1 requests, in
// interleaved pairs; haproxy 2.6 the same way for reference. Issue 6: "under 10% extra CPU".
//
//   node bench/logging-cost.mjs --rounds 16 --nice -5  # the 2026-11-26 figures in README.md (~17 min)
//   node bench/logging-cost.mjs --rounds 8 --rate 15000 --targets sluice --log-to null
//
// Options: --rate R (20000) offered req/s; --conns N (100) keep-alive connections; --warmup S (3) and
// --duration S (10) per run; --rounds N (10) pairs per target; --targets sluice,haproxy;
// --log-to file|null (file) where the proxy's stdout goes, a file under --work (deleted after its
// lines are counted, unless --keep-logs) or /dev/null; --dist DIR run DIR/src/cli.js as it is instead
// of building the work tree into --work/dist first; --work DIR (/tmp/sluice-logcost); --out FILE.json;
// --nice N (0) nice value of the proxy, backends and load generator (e.g. -5 on a shared machine);
// --report FILE.json prints the tables of a saved run again (no measuring).
//
// Each round runs, for each target, the plain and the logging variant one after the other (order
// alternating between rounds: A B, B A, ...), a fresh proxy process per run. The load is
// rate-load.mjs (open loop, due times fixed in advance); CPU is utime+stime of the proxy process
// (/proc/PID/stat, all threads) over the measured window, divided by the requests completed in it.
// The backends are bench/configs/fast-backends.cfg (one haproxy thread answering itself), so that
// the 2 cores go to the proxy under test. A run that does not keep the rate (rate-load.mjs's
// `sustained`: 98% of the due requests done, median latency under 20 ms; or a backlog past 2 s of
// requests) is retried once, then left out of the figures and of the per-round ratios.
//
// Needs: haproxy (apt-get install -y haproxy). Sluice is built from the work tree once at start into
// --work/dist (`tsc --outDir`), so that other people's rebuilds of dist/ during the run change nothing.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clearTimeout } from "node:timers";
import { Buffer } from "node:buffer";
import { parseArgs } from "./args.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const ANCHORS = process.env.BENCH_ANCHORS ?? path.resolve(ROOT, "../shared/bench-anchors");

const a = parseArgs(process.argv.slice(2), {
  rate: "20000",
  conns: "100",
  warmup: "3",
  duration: "10",
  rounds: "10",
  targets: "sluice,haproxy",
  "log-to": "file",
  dist: "",
  work: "/tmp/sluice-logcost",
  out: "",
  settle: "1",
  "keep-logs": "",
  nice: "0",
});
// --report FILE.json: print the tables again from a saved run (its rows and settings), measure nothing.
const SAVED = a.report ? JSON.parse(fs.readFileSync(a.report, "utf8")) : null;
if (SAVED) Object.assign(a, SAVED.meta.args, { report: a.report, out: a.out });
// --nice N: run the proxy, the backends and the load generator at this nice value (negative: ahead of
// other jobs on a shared machine). The orchestrator itself only waits.
const NICE = Number(a.nice);
const niced = (cmd, args) => (NICE ? ["nice", ["-n", String(NICE), cmd, ...args]] : [cmd, args]);
const WORK = path.resolve(a.work);
fs.mkdirSync(WORK, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ build
let dist = a.dist ? path.resolve(a.dist) : "";
if (!dist && !SAVED) {
  dist = path.join(WORK, "dist");
  console.error(`building the work tree into ${dist}`);
  fs.rmSync(dist, { recursive: true, force: true });
  execFileSync("npx", ["tsc", "-p", ".", "--outDir", dist], { cwd: ROOT, stdio: "inherit" });
  // ESM needs the "type": "module" of package.json; ws resolves through node_modules.
  fs.copyFileSync(path.join(ROOT, "package.json"), path.join(WORK, "package.json"));
  const nm = path.join(WORK, "node_modules");
  fs.rmSync(nm, { force: true, recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), nm);
}
const git = (args) => {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trimEnd();
  } catch {
    return "";
  }
};
// What was measured: the work tree's commit and its uncommitted files in src/ at build time (with
// --dist, whatever that folder holds).
const source = SAVED
  ? SAVED.meta.source
  : a.dist
    ? { commit: `prebuilt ${dist}`, dirty: [] }
    : {
        commit: git(["rev-parse", "--short", "HEAD"]),
        dirty: git(["status", "--porcelain", "--untracked-files=no", "--", "src"])
          .split("\n")
          .filter(Boolean)
          .map((l) => l.slice(3)),
      };

// ------------------------------------------------------------------ targets
const cfg = (f) => path.join(HERE, "configs", f);
const SLUICE = ["node", [path.join(dist, "src/cli.js"), "-f"]];
const VARIANTS = {
  sluice: [
    {
      name: "sluice",
      log: false,
      listen: ["127.0.0.10", 18003],
      cmd: SLUICE,
      cfg: cfg("sluice-keepalive.cfg"),
    },
    {
      name: "sluice-log",
      log: true,
      listen: ["127.0.0.10", 18003],
      cmd: SLUICE,
      cfg: cfg("sluice-logging-keepalive.cfg"),
    },
  ],
  haproxy: [
    {
      name: "haproxy",
      log: false,
      listen: ["127.0.0.10", 18000],
      cmd: ["haproxy", ["-db", "-f"]],
      cfg: path.join(ANCHORS, "configs/haproxy-keepalive.cfg"),
    },
    {
      name: "haproxy-log",
      log: true,
      listen: ["127.0.0.10", 18000],
      cmd: ["haproxy", ["-db", "-f"]],
      cfg: cfg("haproxy-logging-keepalive.cfg"),
    },
  ],
};
const families = a.targets.split(",").map((t) => {
  if (!VARIANTS[t]) throw new Error(`unknown target ${t} (sluice, haproxy)`);
  return t;
});

// ------------------------------------------------------------------ processes
const children = new Set();
function start(name, cmd, args, stdoutPath) {
  const out = fs.openSync(stdoutPath, "w");
  const err = fs.openSync(path.join(WORK, `${name}.stderr.log`), "a");
  const child = spawn(...niced(cmd, args), { stdio: ["ignore", out, err], cwd: WORK }); // nice execs: same pid
  fs.closeSync(out);
  fs.closeSync(err);
  children.add(child);
  child.exited = new Promise((r) =>
    child.once("exit", (code, sig) => (children.delete(child), r({ code, sig }))),
  );
  return child;
}
async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const r = await Promise.race([child.exited, sleep(5000).then(() => null)]);
  if (!r) {
    child.kill("SIGKILL");
    await child.exited;
  }
}
async function stopAll() {
  await Promise.all([...children].map((c) => stop(c)));
}
for (const s of ["SIGINT", "SIGTERM"]) {
  process.on(s, async () => {
    await stopAll();
    process.exit(130);
  });
}
function canConnect(host, port) {
  return new Promise((r) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000, () => (s.destroy(), r(false)));
    s.once("connect", () => (s.destroy(), r(true)));
    s.once("error", () => r(false));
  });
}
function get(host, port) {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: "/", agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => (req.destroy(), resolve(0)));
  });
}
function runLoad(args, maxMs) {
  return new Promise((resolve) => {
    const child = spawn(...niced(process.execPath, [path.join(HERE, "rate-load.mjs"), ...args]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => child.kill("SIGKILL"), maxMs);
    child.on("exit", () => {
      clearTimeout(t);
      children.delete(child);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      resolve(line ? JSON.parse(line.slice(7)) : { error: `rate-load: no result (${err.slice(-300)})` });
    });
  });
}
function countLines(file) {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  let bytes = 0;
  for (let r; (r = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
    bytes += r;
    for (let i = buf.indexOf(10); i >= 0 && i < r; i = buf.indexOf(10, i + 1)) n++;
  }
  fs.closeSync(fd);
  return { lines: n, bytes };
}

let backendPid = 0;
async function runOnce(v, round) {
  const [host, port] = v.listen;
  if (await canConnect(host, port)) throw new Error(`${host}:${port} in use before starting ${v.name}`);
  const stdoutPath = a["log-to"] === "null" ? "/dev/null" : path.join(WORK, `${v.name}.stdout.log`);
  const child = start(v.name, v.cmd[0], [...v.cmd[1], v.cfg], stdoutPath);
  const until = Date.now() + 15000;
  while ((await get(host, port)) !== 200) {
    if (Date.now() > until || child.exitCode !== null) {
      await stop(child);
      throw new Error(`${v.name} did not answer GET / (see ${WORK}/${v.name}.stderr.log)`);
    }
    await sleep(100);
  }
  await sleep(Number(a.settle) * 1000);
  const load = await runLoad(
    [
      "--url",
      `http://${host}:${port}/`,
      "--rate",
      a.rate,
      "--conns",
      a.conns,
      "--warmup",
      a.warmup,
      "--duration",
      a.duration,
      "--pid",
      String(child.pid),
      "--backend-pids",
      String(backendPid),
      "--max-backlog",
      String(Number(a.rate) * 2),
    ],
    (Number(a.warmup) + Number(a.duration) + 30) * 1000,
  );
  await stop(child);
  const row = { round, target: v.name, log: v.log, ...load };
  if (stdoutPath !== "/dev/null") {
    const c = countLines(stdoutPath);
    row.logLines = c.lines;
    row.logBytesPerLine = c.lines ? c.bytes / c.lines : 0;
    if (!a["keep-logs"]) fs.rmSync(stdoutPath, { force: true });
  }
  if (row.machineBusy != null) {
    // CPU the rest of the machine used in the window: other jobs, besides proxy, backends and load.
    const ours = (row.proxyCpuUsPerReq + row.backendCpuUsPerReq + row.loadgenCpuUsPerReq) * row.rateDone;
    row.otherCores = row.machineBusy * row.ncpu - ours / 1e6;
  }
  return row;
}

// ------------------------------------------------------------------ main
const meta = SAVED?.meta ?? {
  started: new Date().toISOString(),
  loadavgStart: fs.readFileSync("/proc/loadavg", "utf8").trim(),
  nproc: os.cpus().length,
  node: process.version,
  haproxy: execFileSync("haproxy", ["-v"], { encoding: "utf8" }).split("\n")[0],
  source,
  args: a,
};
const rows = SAVED?.rows ?? [];
let backend;
if (!SAVED)
  try {
    for (const [h, p] of [
      ["127.0.0.11", 18080],
      ["127.0.0.12", 18080],
    ])
      if (await canConnect(h, p)) throw new Error(`${h}:${p} already in use (another bench running?)`);
    backend = start("fast-backends", "haproxy", ["-db", "-f", cfg("fast-backends.cfg")], "/dev/null");
    backendPid = backend.pid;
    for (let i = 0; !(await canConnect("127.0.0.12", 18080)); i++) {
      if (i > 50) throw new Error("fast backends not up");
      await sleep(100);
    }
    console.error(
      `rate ${a.rate} req/s, ${a.conns} conns, ${a.warmup}+${a.duration} s per run, ${a.rounds} rounds of ` +
        `${families.join(", ")}; stdout to ${a["log-to"] === "null" ? "/dev/null" : "a file"}; nice ${NICE}; ` +
        `source ${source.commit}${source.dirty.length ? " + uncommitted " + source.dirty.join(" ") : ""}`,
    );
    const R = Number(a.rounds);
    for (let round = 0; round < R; round++) {
      const fams = round % 2 ? [...families].reverse() : families;
      for (const f of fams) {
        const pair = round % 2 ? [...VARIANTS[f]].reverse() : VARIANTS[f];
        for (const v of pair) {
          let row;
          for (let attempt = 0; attempt < 2; attempt++) {
            try {
              row = await runOnce(v, round);
            } catch (e) {
              row = { round, target: v.name, log: v.log, error: String(e.message ?? e) };
            }
            if (!row.error && row.sustained) break;
            const why = row.error ?? `rate not kept (${row.rateDone?.toFixed(0)} req/s done)`;
            console.error(`${v.name} round ${round}: ${why}${attempt ? "" : "; retrying"}`);
          }
          rows.push(row);
          const f1 = (x, d = 1) => (x == null ? "-" : x.toFixed(d));
          console.error(
            `round ${round} ${v.name.padEnd(12)} ${f1(row.proxyCpuUsPerReq, 2).padStart(7)} µs/req` +
              `  ${f1(row.rateDone, 0)} req/s  p99 ${f1(row.p99us / 1000)} ms  others ${f1(row.otherCores, 2)} cores` +
              (row.logLines != null ? `  ${row.logLines} log lines` : "") +
              (row.error ? `  ERROR ${row.error}` : row.sustained ? "" : "  NOT SUSTAINED"),
          );
          await sleep(500);
        }
      }
    }
  } finally {
    await stopAll();
  }

// ------------------------------------------------------------------ report
if (!SAVED) {
  meta.finished = new Date().toISOString();
  meta.loadavgEnd = fs.readFileSync("/proc/loadavg", "utf8").trim();
}
const outFile =
  a.out ||
  (SAVED
    ? a.report.replace(/(\.json)?$/, "-report.json")
    : path.join(WORK, `logging-cost-${meta.started.replace(/[:.]/g, "-")}.json`));
fs.writeFileSync(outFile, JSON.stringify({ meta, rows }, null, 1));

const sorted = (xs) => xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
function q(xs, p) {
  const v = sorted(xs);
  if (!v.length) return NaN;
  const i = (v.length - 1) * p;
  const lo = Math.floor(i);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (i - lo);
}
const med = (xs) => q(xs, 0.5);
/** Percentile bootstrap (2000 resamples, fixed seed) of the median of xs: [2.5%, 97.5%]. */
function bootstrapMedianCI(xs) {
  if (xs.length < 3) return [NaN, NaN];
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const ms = [];
  for (let i = 0; i < 2000; i++) ms.push(med(xs.map(() => xs[Math.floor(rnd() * xs.length)])));
  return [q(ms, 0.025), q(ms, 0.975)];
}
// Figures come from the runs that kept the offered rate; the others are counted and listed in the JSON.
const ok = (name) => rows.filter((r) => r.target === name && !r.error && r.sustained);
const col = (name, k) => ok(name).map((r) => r[k]);
const fx = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
const pc = (x) => (Number.isFinite(x) ? `${x >= 1 ? "+" : ""}${((x - 1) * 100).toFixed(1)}%` : "n/a");
const lines = [
  `# logging cost, ${meta.started} (${a.rounds} rounds, ${a.rate} req/s offered, ${a.conns} keep-alive conns, ` +
    `${a.duration} s windows; stdout to ${a["log-to"] === "null" ? "/dev/null" : "a file"}; nice ${NICE})`,
  `loadavg ${meta.loadavgStart} → ${meta.loadavgEnd}; ${meta.nproc} cores; ${meta.node}; ${meta.haproxy}; ` +
    `Sluice ${source.commit}${source.dirty.length ? " + uncommitted changes in " + source.dirty.join(", ") : ""}`,
  "",
  "Runs that kept the rate / runs; figures over the runs that kept it. Others' cores: CPU the rest of the",
  "machine used during the window (other jobs), besides the proxy, the backends and the load generator.",
  "",
  "| variant | runs | CPU µs/req median | min–max | IQR | user / sys µs/req | req/s done (median, min) | p50 / p99 ms | log lines/req | others' cores |",
  "|---|---|---|---|---|---|---|---|---|---|",
];
for (const f of families) {
  for (const v of VARIANTS[f]) {
    const c = col(v.name, "proxyCpuUsPerReq");
    const all = rows.filter((r) => r.target === v.name).length;
    const perReq = ok(v.name).map((r) => (r.logLines != null ? r.logLines / r.totalDone : NaN));
    lines.push(
      `| ${v.name} | ${c.length}/${all} | **${fx(med(c), 2)}** | ${fx(q(c, 0), 2)}–${fx(q(c, 1), 2)} | ` +
        `${fx(q(c, 0.25), 2)}–${fx(q(c, 0.75), 2)} | ${fx(med(col(v.name, "proxyUserUsPerReq")), 2)} / ` +
        `${fx(med(ok(v.name).map((r) => r.proxyCpuUsPerReq - r.proxyUserUsPerReq)), 2)} | ` +
        `${fx(med(col(v.name, "rateDone")), 0)}, ` +
        `${fx(q(col(v.name, "rateDone"), 0), 0)} | ${fx(med(col(v.name, "p50us")) / 1000, 2)} / ` +
        `${fx(med(col(v.name, "p99us")) / 1000, 1)} | ${fx(med(perReq), 3)} | ${fx(med(col(v.name, "otherCores")), 2)} |`,
    );
  }
}
lines.push(
  "",
  "| target | logging / plain, ratio of medians | per-round ratios (both runs kept the rate): median | 95% CI of that median (bootstrap) | min–max | extra µs/req, median of per-round differences | rounds where logging cost more |",
  "|---|---|---|---|---|---|---|",
);
const summary = {};
for (const f of families) {
  const [p, l] = VARIANTS[f];
  const ratios = [];
  const diffs = [];
  for (let round = 0; round < Number(a.rounds); round++) {
    const x = ok(l.name).find((r) => r.round === round);
    const y = ok(p.name).find((r) => r.round === round);
    if (x && y) {
      ratios.push(x.proxyCpuUsPerReq / y.proxyCpuUsPerReq);
      diffs.push(x.proxyCpuUsPerReq - y.proxyCpuUsPerReq);
    }
  }
  const rm = med(col(l.name, "proxyCpuUsPerReq")) / med(col(p.name, "proxyCpuUsPerReq"));
  const ci = bootstrapMedianCI(ratios);
  summary[f] = {
    plainMedianUs: med(col(p.name, "proxyCpuUsPerReq")),
    loggingMedianUs: med(col(l.name, "proxyCpuUsPerReq")),
    ratioOfMedians: rm,
    pairRatios: ratios,
    pairRatioMedianCI95: ci,
    pairDiffsUs: diffs,
  };
  lines.push(
    `| ${f} | **${fx(rm, 3)}** (${pc(rm)}) | ${fx(med(ratios), 3)} (${pc(med(ratios))}) | ` +
      `${fx(ci[0], 3)}–${fx(ci[1], 3)} | ` +
      `${fx(q(ratios, 0), 3)}–${fx(q(ratios, 1), 3)} | ${fx(med(diffs), 2)} | ` +
      `${ratios.filter((r) => r > 1).length} of ${ratios.length} |`,
  );
}
fs.writeFileSync(outFile, JSON.stringify({ meta, rows, summary }, null, 1));
const table = lines.join("\n");
fs.writeFileSync(outFile.replace(/\.json$/, ".md"), table + "\n");
console.log(table);
console.error(`raw rows: ${outFile}`);
