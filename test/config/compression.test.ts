// `compression`, `filter compression` and the global compression limits, read and refused as
// haproxy 2.6 reads and refuses them (messages from haproxy 2.6.12).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.js";

const parse = (text: string) => parseConfig([{ name: "t.cfg", text }], {});

const BASE = `defaults
  mode http
  timeout client 1s
  timeout connect 1s
  timeout server 1s
`;

function messages(text: string, level: "alert" | "warning"): string[] {
  return parse(text)
    .diagnostics.filter((d) => d.level === level)
    .map((d) => `${d.where?.line ?? "-"}: ${d.message}`);
}

const frontend = (line: string): string => `${BASE}frontend f\n  bind :8080\n  ${line}\n`;

test("compression lists its algorithms and types as haproxy checks them; a proxy adds to its defaults'", () => {
  const { config } = parse(`${BASE}  compression algo gzip
  compression type text/html
  compression offload
frontend f
  bind :8080
  compression algo deflate identity
  compression type text/plain application/json
`);
  const c = config.frontends[0]!.compression!;
  assert.deepEqual(c.algos, ["identity", "deflate", "gzip"]);
  assert.deepEqual(c.types, ["application/json", "text/plain", "text/html"]);
  // Not inherited, and said to be ignored where it was written.
  assert.equal(c.offload, false);
  assert.deepEqual(messages(`${BASE}  compression offload\n`, "warning"), [
    "6: 'compression' : 'offload' ignored in 'defaults' section.",
  ]);
});

test("compression's mistakes get haproxy's alerts", () => {
  assert.deepEqual(messages(frontend("compression"), "alert"), [
    "8: 'compression' expects 'algo', 'type' or 'offload'",
  ]);
  assert.deepEqual(messages(frontend("compression algo"), "alert"), [
    "8: parsing [t.cfg:8] : 'compression' expects <algorithm>.",
  ]);
  assert.deepEqual(messages(frontend("compression algo gzip brotli"), "alert"), [
    "8: 'compression' : 'brotli' is not a supported algorithm.",
  ]);
  assert.deepEqual(messages(frontend("compression type"), "alert"), ["8: 'compression' expects <type>."]);
});

test("filter compression is taken once; other filters are refused by name", () => {
  assert.deepEqual(messages(frontend("filter compression"), "alert"), []);
  assert.deepEqual(messages(frontend("filter compression\n  filter compression"), "alert"), [
    "9: 'filter' : 'f: Proxy supports only one compression filter\n'",
  ]);
  assert.deepEqual(messages(frontend("filter"), "alert"), [
    "8: parsing [t.cfg:8] : missing argument for 'filter' in frontend 'f'.",
  ]);
  assert.deepEqual(messages(frontend("filter compression now"), "alert"), [
    "8: 'filter compression' : unknown keyword 'now'.",
  ]);
  assert.deepEqual(messages(frontend("filter trace"), "alert"), [
    "8: 'filter trace' is a haproxy keyword that sluice does not support yet.",
  ]);
  assert.deepEqual(messages(`${BASE}  filter compression\n`, "alert"), [
    "6: parsing [t.cfg:6] : filter is not allowed in a 'default' section.",
  ]);
});

test("the global compression limits", () => {
  const { config } = parse(`global
  tune.comp.maxlevel 6
  maxcomprate 100
  maxcompcpuusage 80
${BASE}`);
  assert.equal(config.global.compMaxLevel, 6);
  assert.equal(config.global.compRate, 100 * 1024);
  assert.equal(config.global.compMinIdle, 20);
  const alerts = (line: string) => messages(`global\n  ${line}\n${BASE}`, "alert");
  for (const v of ["0", "10", "x", ""])
    assert.deepEqual(alerts(`tune.comp.maxlevel ${v}`), [
      "2: 'tune.comp.maxlevel' expects a numeric value between 1 and 9",
    ]);
  assert.deepEqual(alerts("maxcomprate"), ["2: 'maxcomprate' expects an integer argument in kb/s."]);
  assert.deepEqual(alerts("maxcomprate 1 2"), ["2: 'maxcomprate' cannot handle unexpected argument '2'."]);
  for (const v of ["101", "-1", ""])
    assert.deepEqual(alerts(`maxcompcpuusage ${v}`), [
      "2: 'maxcompcpuusage' expects an integer argument between 0 and 100.",
    ]);
  assert.deepEqual(alerts("maxzlibmem"), ["2: 'maxzlibmem' expects an integer argument."]);
  assert.equal(messages(`global\n  maxzlibmem 10\n${BASE}`, "warning").length, 1);
});
