#!/usr/bin/env node
// How long parsing a large configuration takes: a generated 10,000-line file, parsed and compiled.
//   npm run build && node bench/parse-config.mjs [lines]
import { parseConfig } from "../dist/src/config/parse.js";
import { Runtime } from "../dist/src/proxy/runtime.js";

const target = Number(process.argv[2] ?? 10_000);
const lines = [
  "global",
  "  maxconn 9000",
  "defaults",
  "  mode http",
  "  timeout client 25s",
  "  timeout connect 5s",
  "  timeout server 25s",
];
let n = 0;
while (lines.length < target) {
  lines.push(
    `frontend fe${n}`,
    `  bind 127.0.0.1:${10000 + (n % 50000)}`,
    `  acl host_ws${n} hdr_beg(Host) -i ws${n}.`,
    `  acl is_upgrade${n} hdr(Connection) -i upgrade`,
    `  http-request deny if { path_beg /admin${n} } !{ src 10.0.0.0/8 }`,
    `  use_backend be${n} if host_ws${n} || is_upgrade${n}`,
    `  default_backend be${n}`,
    `backend be${n}`,
    `  balance roundrobin`,
    `  option httpchk GET /health HTTP/1.1\\r\\nHost:\\ example.com`,
    `  http-check expect status 200`,
    ...Array.from(
      { length: 8 },
      (_, i) =>
        `  server s${i} 127.0.0.${1 + i}:8080 maxconn 100 weight ${1 + i} check inter 3s rise 2 fall 3`,
    ),
  );
  n++;
}
const text = lines.join("\n") + "\n";
const runs = [];
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint();
  const { config, diagnostics } = parseConfig([{ name: "gen.cfg", text }], {});
  const t1 = process.hrtime.bigint();
  await Runtime.build(config);
  const t2 = process.hrtime.bigint();
  if (diagnostics.some((d) => d.level === "alert")) throw new Error(JSON.stringify(diagnostics.slice(0, 3)));
  runs.push([Number(t1 - t0) / 1e6, Number(t2 - t1) / 1e6]);
}
const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${lines.length} lines, ${n} frontend/backend pairs: parse ${med(runs.map((r) => r[0])).toFixed(1)} ms, compile ${med(runs.map((r) => r[1])).toFixed(1)} ms (median of ${runs.length})`,
);
