// What HTTP compression costs: proxy CPU per response and per MB of page compressed, Sluice
// against haproxy 2.6 (libslz) on the same configuration (`compression algo gzip`, keep-alive),
// each with and without the client's `Accept-Encoding: gzip`, interleaved, a fresh proxy per run.
//
//   node bench/compression.mjs                       # 3 rounds, 64 KiB page, 8 s per run
//   node bench/compression.mjs --size 16384 --rounds 5 --level 1
//   node bench/compression.mjs --size 8388608 --plain   # downloads: no Accept-Encoding, µs per MB
//
// Options: --size BYTES (65536) the page; --rounds N (3); --duration S (8) measured, after
// --warmup S (2); --conns N (8) wrk connections; --level N (1) tune.comp.maxlevel for both;
// --plain only the runs without gzip (a large page then measures a download's cost); --out FILE.json
// the rows. Needs haproxy and wrk (apt-get install -y haproxy wrk).
//
// The page is HTML-like text from a fixed seed (markup and words, about 4:1 under gzip). The backend
// is a Node http server in this process; CPU is the proxy's utime+stime (/proc/PID/stat, all
// threads) over the measured window, divided by the responses wrk completed in it.
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import { parseArgs } from "./args.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const a = parseArgs(process.argv.slice(2), {
  size: "65536",
  rounds: "3",
  duration: "8",
  warmup: "2",
  conns: "8",
  level: "1",
  out: "",
  plain: "",
  serve: "",
});
/** The runs: with the client's Accept-Encoding: gzip, and without. */
const GZIP = a.plain ? [false] : [true, false];
const TICK = Number(execFileSync("getconf", ["CLK_TCK"]).toString());
const ADDR = "127.0.0.10";

/** A page of tags and words, the same for every run. */
function page(size) {
  const words = ["table", "row", "cell", "price", "item", "name", "value", "total", "user", "order", "list"];
  let seed = 12345;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  let s = "<!doctype html><html><body>\n";
  while (s.length < size) {
    const w = words[rnd(words.length)];
    s += `<div class="${w}-${rnd(50)}"><span id="${w}${rnd(1000)}">${w} ${rnd(100000)}</span></div>\n`;
  }
  return Buffer.from(s.slice(0, size), "latin1");
}

const PAGE = page(Number(a.size));

/** The backend, in a process of its own (this script with --serve): wrk and curl block this one. */
async function backend() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve", "--size", a.size], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = await once(child.stdout, "data");
  return { port: Number(line.toString()), close: () => child.kill("SIGTERM") };
}

if (a.serve) {
  const server = http.createServer((req, res) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Content-Length", PAGE.length);
    res.end(PAGE);
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
  await new Promise(() => undefined);
}

async function freePort() {
  const s = net.createServer().listen(0, ADDR);
  await new Promise((r) => s.once("listening", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function config(port, backendPort) {
  return `global
  tune.comp.maxlevel ${a.level}
defaults
  mode http
  option http-keep-alive
  timeout client 10s
  timeout server 10s
  timeout connect 2s
frontend f
  bind ${ADDR}:${port}
  compression algo gzip
  compression type text/html
  default_backend b
backend b
  server s 127.0.0.1:${backendPort}
`;
}

function cpu(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function wrk(port, seconds, gzip) {
  const args = ["-t1", `-c${a.conns}`, `-d${seconds}s`, `http://${ADDR}:${port}/`];
  if (gzip) args.unshift("-H", "Accept-Encoding: gzip");
  const out = execFileSync("wrk", args).toString();
  return Number(/(\d+) requests in/.exec(out)[1]);
}

/** One response's body as the client gets it. */
const fetchBody = (port, gzip) =>
  execFileSync("curl", ["-s", ...(gzip ? ["-H", "Accept-Encoding: gzip"] : []), `http://${ADDR}:${port}/`], {
    maxBuffer: 2 * PAGE.length + 65536,
  });

/** Starts `target` on a configuration of its own; resolves once it listens. */
async function start(target, backendPort, dir) {
  const port = await freePort();
  const cfg = path.join(dir, `${target}.cfg`);
  fs.writeFileSync(cfg, config(port, backendPort));
  const [cmd, args] =
    target === "haproxy"
      ? ["haproxy", ["-f", cfg]]
      : ["node", [path.join(ROOT, "dist/src/cli.js"), "-f", cfg]];
  const child = spawn(cmd, args, { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, ADDR, () => (s.destroy(), r(true)));
      s.on("error", () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  };
  return { port, pid: child.pid, stop };
}

async function run(target, gzip, backendPort, dir) {
  const p = await start(target, backendPort, dir);
  try {
    const bytes = fetchBody(p.port, gzip).length;
    wrk(p.port, a.warmup, gzip);
    const c0 = cpu(p.pid);
    const n = wrk(p.port, a.duration, gzip);
    const c1 = cpu(p.pid);
    return { target, gzip, reqs: n, usPerReq: ((c1 - c0) * 1e6) / n, bytes };
  } finally {
    await p.stop();
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-comp-"));
const server = await backend();
const rows = [];
try {
  const bport = server.port;
  // Both proxies must send what the page is.
  for (const t of ["haproxy", "sluice"]) {
    const p = await start(t, bport, dir);
    try {
      for (const gzip of GZIP) {
        const body = fetchBody(p.port, gzip);
        if (!(gzip ? gunzipSync(body) : body).equals(PAGE))
          throw new Error(`${t}: the page ${gzip ? "does not decode to" : "is not"} the server's`);
      }
    } finally {
      await p.stop();
    }
  }
  for (let round = 0; round < Number(a.rounds); round++)
    for (const target of round % 2 ? ["sluice", "haproxy"] : ["haproxy", "sluice"])
      for (const gzip of GZIP) {
        const r = await run(target, gzip, bport, dir);
        rows.push({ round, ...r });
        console.log(
          `round ${round} ${target.padEnd(7)} ${gzip ? "gzip " : "plain"} ${r.usPerReq.toFixed(1).padStart(7)} µs/resp  ${r.bytes} B/resp  ${r.reqs} resps`,
        );
      }
} finally {
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const mb = PAGE.length / 1048576;
console.log(`\npage ${PAGE.length} B, level ${a.level}, medians of ${a.rounds}:`);
const fig = {};
for (const t of ["haproxy", "sluice"])
  for (const gzip of GZIP) {
    const rs = rows.filter((r) => r.target === t && r.gzip === gzip);
    fig[`${t}-${gzip}`] = median(rs.map((r) => r.usPerReq));
    console.log(
      `${t.padEnd(7)} ${gzip ? "gzip " : "plain"} ${fig[`${t}-${gzip}`].toFixed(1)} µs/resp, ${(fig[`${t}-${gzip}`] / mb).toFixed(0)} µs/MB of page, ${median(rs.map((r) => r.bytes))} B sent`,
    );
  }
const extra = (t) => fig[`${t}-true`] - fig[`${t}-false`];
if (a.plain)
  console.log(`plain, sluice / haproxy: ${(fig["sluice-false"] / fig["haproxy-false"]).toFixed(2)}`);
else
  console.log(
    `compression itself (gzip minus plain): haproxy ${(extra("haproxy") / mb).toFixed(0)} µs/MB, sluice ${(extra("sluice") / mb).toFixed(0)} µs/MB (ratio ${(extra("sluice") / extra("haproxy")).toFixed(2)})`,
  );
if (a.out)
  fs.writeFileSync(
    a.out,
    JSON.stringify({ meta: { args: a, date: new Date().toISOString(), page: PAGE.length }, rows }, null, 2) +
      "\n",
  );
