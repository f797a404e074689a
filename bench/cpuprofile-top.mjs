// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and the
// inclusive time (the function and everything it calls) of the functions named with --incl.
//
//   node bench/cpuprofile-top.mjs PROFILE.cpuprofile [--top 30] [--incl emit,formatHttplog,flush]
//   node bench/cpuprofile-top.mjs LOG.cpuprofile --per 260000 --vs PLAIN.cpuprofile --vs-per 260000
//
// Shares are of all samples, idle included, and of the non-idle ones ("busy": without "(idle)").
// A name matches a function name exactly, or "name@file" to tell apart functions of the same name.
// --per N divides times by N (e.g. the requests served while profiling) and prints µs per unit;
// with --vs BASE (and its --vs-per), also the difference per unit, function by function, largest
// first: where the extra time of PROFILE over BASE goes.
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
const file = args.find((x) => !x.startsWith("--"));
const opt = (k, d) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
if (!file) {
  console.error("usage: node bench/cpuprofile-top.mjs PROFILE.cpuprofile [--top N] [--incl a,b,c]");
  process.exit(2);
}
const TOP = Number(opt("top", "30"));
const INCL = opt("incl", "").split(",").filter(Boolean);

function load(file) {
  const prof = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map();
  const parent = new Map();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const label = (n) => {
    const cf = n.callFrame;
    const name = cf.functionName || "(anonymous)";
    const url = cf.url ? path.basename(cf.url) : "";
    return url ? `${name}@${url}:${cf.lineNumber + 1}` : name;
  };
  // Sample weights: the time deltas (µs) when present, else 1 per sample.
  const self = new Map();
  const incl = new Map(INCL.map((k) => [k, 0]));
  let total = 0;
  let idle = 0;
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const w = deltas[i + 1] ?? deltas[i] ?? 1; // a sample's delta is the time until the next one
    const n = byId.get(samples[i]);
    if (!n) continue;
    total += w;
    const l = label(n);
    if (n.callFrame.functionName === "(idle)") idle += w;
    self.set(l, (self.get(l) ?? 0) + w);
    if (INCL.length) {
      const seen = new Set();
      for (let id = n.id; id !== undefined; id = parent.get(id)) {
        const m = byId.get(id);
        const name = m.callFrame.functionName;
        const full = `${name}@${m.callFrame.url ? path.basename(m.callFrame.url) : ""}`;
        for (const k of INCL) {
          if ((k === name || full.startsWith(k)) && !seen.has(k)) {
            seen.add(k);
            incl.set(k, incl.get(k) + w);
          }
        }
      }
    }
  }
  return { self, incl, total, idle };
}
const { self, incl, total, idle } = load(file);
const busy = total - idle;
const pct = (x, of) => ((100 * x) / of).toFixed(2).padStart(6) + "%";
console.log(
  `${path.basename(file)}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy ` +
    `(${pct(busy, total).trim()})`,
);
console.log(`\nself time, top ${TOP}:        of all   of busy`);
for (const [l, w] of [...self].sort((x, y) => y[1] - x[1]).slice(0, TOP))
  console.log(`  ${pct(w, total)}  ${pct(w, busy)}  ${l}`);
if (INCL.length) {
  console.log("\ninclusive time:               of all   of busy");
  for (const [k, w] of incl) console.log(`  ${pct(w, total)}  ${pct(w, busy)}  ${k}`);
}

const PER = Number(opt("per", "0"));
const VS = opt("vs", "");
if (PER) {
  console.log(`\nbusy: ${(busy / PER).toFixed(2)} µs per unit (${PER} units)`);
}
if (VS && PER) {
  const VSPER = Number(opt("vs-per", String(PER)));
  const b = load(VS);
  const bbusy = b.total - b.idle;
  console.log(
    `${path.basename(VS)}: busy ${(bbusy / VSPER).toFixed(2)} µs per unit; difference ` +
      `${(busy / PER - bbusy / VSPER >= 0 ? "+" : "") + (busy / PER - bbusy / VSPER).toFixed(2)} µs per unit`,
  );
  const names = new Set([...self.keys(), ...b.self.keys()]);
  names.delete("(idle)");
  const rows = [...names].map((l) => [l, (self.get(l) ?? 0) / PER - (b.self.get(l) ?? 0) / VSPER]);
  rows.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  console.log(`\nself time difference, µs per unit, top ${TOP} by size:`);
  for (const [l, d] of rows.slice(0, TOP))
    console.log(`  ${(d >= 0 ? "+" : "") + d.toFixed(3).padStart(7)}  ${l}`);
  if (INCL.length) {
    console.log("\ninclusive time, µs per unit:   this     base");
    for (const [k, w] of incl)
      console.log(
        `  ${(w / PER).toFixed(3).padStart(8)} ${((b.incl.get(k) ?? 0) / VSPER).toFixed(3).padStart(8)}  ${k}`,
      );
  }
}
