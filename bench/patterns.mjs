// Pattern files at scale: what an ACL `src -f FILE` and a `src,map_ip(FILE)` cost per request for
// 10, 1000 and 100000 patterns (hosts and networks, IPv4 and IPv6 mixed), and what one add-acl,
// del-acl or set-map costs on a 100000-line file (each file read by one ACL and one map).
// Run after `npx tsc -p .`: node bench/patterns.mjs [DIST], DIST a build's dist directory
// (default: this one's; /work/main/dist for the build before).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "../dist"));
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { compileAcl } = await load("src/acl/acl.js");
const { patternRef, withPatternRefs } = await load("src/acl/pattern-ref.js");
const { compileLogFormat, formatFor } = await load("src/log/log-format.js");
const { ctx } = await load("test/acl/head.js");

const dir = mkdtempSync(join(tmpdir(), "sluice-patterns-"));
const fail = (m) => {
  throw new Error(m);
};

/** Pattern i: a host, a /24, a /16 network or an IPv6 /64, in turn; spread over the address space. */
function pattern(i) {
  const a = 1 + (i % 223);
  const b = (i >> 8) & 255;
  const c = (i * 7) & 255;
  switch (i % 4) {
    case 0:
      return `${a}.${b}.${c}.${i & 255}`;
    case 1:
      return `${a}.${b}.${c}.0/24`;
    case 2:
      return `${a}.${(b + 128) & 255}.0.0/16`;
    default:
      return `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
  }
}

/** Sources to look up: every other one in some pattern, the others in none. */
const sources = Array.from({ length: 1000 }, (_, i) =>
  i % 2 ? `${1 + (i % 223)}.${(i >> 8) & 255}.${(i * 7) & 255}.9` : `224.1.${i & 255}.7`,
);
const contexts = sources.map((src) => ctx("GET / HTTP/1.1\nHost: x", { src }));

/** The best of 5 rounds, each as many requests as fit in about 0.3 s (at most 200000). */
function perRequest(fn) {
  for (let i = 0; i < 2000; i++) fn(contexts[i % contexts.length]); // warm up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    let n = 0;
    while (n < 200_000 && (n % 1000 !== 0 || Number(process.hrtime.bigint() - t) < 3e8))
      fn(contexts[n++ % contexts.length]);
    best = Math.min(best, Number(process.hrtime.bigint() - t) / n);
  }
  return best;
}

/** The cost of `op(i)`, as many times as fit in about a second (at least 3, at most 2000). */
function perChange(op) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  while (n < 3 || (n < 2000 && Number(process.hrtime.bigint() - t0) < 1e9)) op(n++);
  return Number(process.hrtime.bigint() - t0) / n;
}

const where = { file: "bench", line: 1 };
const fmtNs = (ns) =>
  ns >= 1e6
    ? `${(ns / 1e6).toFixed(1)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(1)} µs`
      : `${ns.toFixed(0)} ns`;

console.log(`build: ${dist}`);
for (const size of [10, 1000, 100_000]) {
  const lst = join(dir, `p${size}.lst`);
  const map = join(dir, `p${size}.map`);
  const pats = Array.from({ length: size }, (_, i) => pattern(i));
  writeFileSync(lst, pats.join("\n") + "\n");
  writeFileSync(map, pats.map((p, i) => `${p} v${i}`).join("\n") + "\n");
  let acl, format, aclRef, mapRef;
  const t = process.hrtime.bigint();
  withPatternRefs(() => {
    acl = compileAcl({ fetch: "src", words: ["-f", lst], where });
    format = compileLogFormat(`%[src,map_ip(${map},none)]`, "request", fail);
    aclRef = patternRef(lst, false);
    mapRef = patternRef(map, true);
  });
  const loadMs = Number(process.hrtime.bigint() - t) / 1e6;
  let hits = 0;
  const aclNs = perRequest((c) => (hits += acl.match(c) ? 1 : 0));
  const mapNs = perRequest((c) => formatFor(format, c));
  const line = [`${String(size).padStart(6)} patterns: load ${loadMs.toFixed(0)} ms`];
  line.push(`acl src -f ${fmtNs(aclNs)}/request`, `map_ip ${fmtNs(mapNs)}/request`);
  if (size === 100_000) {
    const add = perChange((i) => (i % 2 ? aclRef.delete("224.9.9.0/24") : aclRef.add("224.9.9.0/24")));
    const set = perChange((i) => mapRef.set("224.9.9.0/24", `x${i}`));
    line.push(`add-acl/del-acl ${fmtNs(add)}`, `set-map ${fmtNs(set)}`);
  }
  console.log(line.join(", "));
  if (hits === 0) throw new Error("no source matched: the bench measures nothing");
}
rmSync(dir, { recursive: true, force: true });
