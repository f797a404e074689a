// Times haproxy's httplog formatting per line, and a full Logger.emit (rfc3164 header + UDP send).
// Run after `npx tsc -p .`: node bench/log-format.mjs [lines]
import dgram from "node:dgram";
import { formatHttplog, formatTcplog, Logger, newLogRecord } from "../dist/src/log/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const rec = newLogRecord();
Object.assign(rec, {
  clientIp: "192.168.1.23",
  clientPort: 51234,
  frontend: "www",
  backend: "app",
  server: "app1",
  TR: 0,
  Tw: 0,
  Tc: 1,
  Tr: 12,
  Ta: 13,
  status: 200,
  bytesOut: 5123,
  actconn: 12,
  feconn: 10,
  beconn: 4,
  srvConn: 2,
  requestLine: "GET /static/app.js?v=12 HTTP/1.1",
  empty: false,
});
const t0 = Date.now();

function time(label, n, fn) {
  for (let i = 0; i < 10000; i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  let len = 0;
  for (let i = 0; i < n; i++) len += fn(i);
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(
    `${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/line  (${(1e9 / ns / 1000).toFixed(0)}k lines/s, ${len} chars)`,
  );
}

time("formatHttplog", N, (i) => {
  rec.requestTime = rec.acceptTime = t0 + (i >> 6); // a new millisecond every 64 lines
  return formatHttplog(rec, false).length;
});
time("formatHttplog clf", N, (i) => {
  rec.requestTime = rec.acceptTime = t0 + (i >> 6);
  return formatHttplog(rec, true).length;
});
time("formatTcplog", N, (i) => {
  rec.acceptTime = t0 + (i >> 6);
  return formatTcplog(rec).length;
});

const rx = dgram.createSocket("udp4");
let received = 0;
rx.on("message", () => received++);
await new Promise((r) => rx.bind(0, "127.0.0.1", r));
const target = {
  kind: "udp",
  host: "127.0.0.1",
  port: rx.address().port,
  len: 1024,
  format: "rfc3164",
  facility: "local0",
  level: 7,
  minLevel: 0,
  where: { file: "bench", line: 1 },
};
const logger = new Logger(
  { bufsize: 16384, maxhdr: 101, logs: [target], logTag: "haproxy", daemon: false },
  { quiet: true },
);
const px = {
  name: "www",
  mode: "http",
  logs: [target],
  logFormat: "httplog",
  dontlognull: true,
  logasap: false,
  logSeparateErrors: false,
};
await new Promise((r) => setTimeout(r, 50)); // socket connected
// 500 lines per event-loop turn (the data path's batch), so that datagrams leave between batches.
const M = Math.min(N, 200_000);
const start = process.hrtime.bigint();
for (let done = 0; done < M; done += 500) {
  for (let i = 0; i < 500; i++) logger.emit(px, rec);
  await new Promise((r) => setImmediate(r));
}
const ns = Number(process.hrtime.bigint() - start) / M;
console.log(
  `${"Logger.emit rfc3164 over UDP".padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/line  (dropped ${logger.dropped})`,
);
await logger.close();
await new Promise((r) => setTimeout(r, 200));
console.log(`received ${received} of ${M} datagrams`);
rx.close();
