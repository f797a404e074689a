// Indexed patterns: what map_ip and `-m ip` ACLs find, and what add-acl, del-acl and set-map change
// in place, each answer as haproxy 2.6.12 gave it for the same file and the same changes; and a
// lookup or a change that costs about the same for 10 patterns as for 20000.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileAcl, type Acl } from "../../src/acl/index.js";
import { patternRef, withPatternRefs, type PatternRef } from "../../src/acl/pattern-ref.js";
import { compileLogFormat, formatFor, type LogFormat } from "../../src/log/log-format.js";
import { scratchDir, scratchFile } from "../helpers/harness.js";
import { ctx, spec } from "./head.js";

const dir = scratchDir("pattern-index");

const fail = (m: string): never => {
  throw new Error(m);
};

const NETS = [
  "10.0.0.0/8 net8",
  "10.1.0.0/16 net16",
  "10.1.2.0/24 net24a",
  "10.1.2.0/24 net24b",
  "10.1.2.3/24 net24c",
  "10.0.255.0/255.0.255.0 noncontig10",
  "::ffff:10.9.0.0/112 v6mapped",
  "20.0.0.0/8 first20",
  "20.0.0.0/255.0.0.0 second20",
  "30.0.255.0/255.0.255.0 nc30",
  "::ffff:30.0.0.0/104 mapped30",
  "2001:db8::/32 v6net",
  "2001:db8:1::/48 v6net48",
  "40.0.0.0/8 v4forty",
  "50.0.255.0/255.0.255.0 ncA",
  "50.0.0.0/255.0.0.255 ncB",
  "60.0.0.0/255.0.0.255 nc60",
  "::ffff:60.0.0.0/104 m60",
  "70.1.2.3 host70",
  "70.1.2.3/32 host70b",
];

/** A map_ip of `lines` and the reference set-map and del-map change. */
function mapIp(name: string, lines: string[]): { format: LogFormat; ref: PatternRef } {
  const path = scratchFile(dir, name, lines.join("\n") + "\n");
  return withPatternRefs(() => ({
    format: compileLogFormat(`%[req.hdr(x-q),map_ip(${path},none)]`, "request", fail),
    ref: patternRef(path, true),
  }));
}

const look = (format: LogFormat, q: string): string => formatFor(format, ctx(`GET / HTTP/1.1\nX-Q: ${q}`));

test("map_ip: the longest network of the sample's family, then of the other, then the masks that are no prefix, in the file's order", () => {
  const { format } = mapIp("nets.map", NETS);
  const rows: [string, string][] = [
    ["10.1.2.3", "net24a"], // the longest prefix; of a network written three times, the first
    ["10.1.3.3", "net16"],
    ["10.9.255.7", "net8"], // an IPv4 prefix before a mask that is none (noncontig10, 16 bits)
    ["10.9.1.1", "net8"], // an IPv4 sample's IPv4 networks before its ::ffff: form's
    ["20.1.1.1", "first20"], // 20.0.0.0/8 and 20.0.0.0/255.0.0.0: one network, the first written
    ["30.1.255.5", "mapped30"], // the IPv6 networks before the list
    ["::ffff:30.1.255.5", "mapped30"],
    ["2001:db8:1::5", "v6net48"],
    ["2001:db8:2::5", "v6net"],
    ["::ffff:40.1.2.3", "v4forty"], // an IPv6 sample standing for an IPv4 address: ::ffff:, ::, 2002:
    ["::40.1.2.3", "v4forty"],
    ["2002:2801:0203::", "v4forty"],
    ["50.1.255.0", "ncA"], // the list in the file's order
    ["::ffff:50.1.255.0", "ncA"],
    ["2002:3201:ff00::", "ncA"],
    ["60.1.255.0", "m60"],
    ["70.1.2.3", "host70"],
    ["1.1.1.1", "none"],
    ["::1", "none"],
    ["::ffff:10.9.1.1", "v6mapped"], // an IPv6 sample's IPv6 networks before its IPv4 form's
    ["::ffff:10.1.2.3", "net24a"],
    ["3000::1", "none"],
  ];
  for (const [q, want] of rows) assert.equal(look(format, q), want, q);
});

test("set-map and del-map change a map_ip in place as haproxy's trees: equal networks keep their order, a key add-acl put there keeps giving 1", () => {
  const { format, ref } = mapIp("changes.map", NETS);
  const steps: [() => void, string, string][] = [
    // Another text for the same network comes last among equals.
    [() => ref.set("10.1.2.0/255.255.255.0", "RT24"), "10.1.2.3", "net24a"],
    // Both entries of the key take the value, in their place.
    [() => ref.set("10.1.2.0/24", "NEW24"), "10.1.2.3", "NEW24"],
    [() => ref.delete("10.1.2.0/24"), "10.1.2.3", "net24c"],
    [() => ref.delete("10.1.2.3/24"), "10.1.2.3", "RT24"],
    [() => ref.set("10.1.2.0/25", "R25"), "10.1.2.3", "R25"],
    // A dotted mask that is a prefix goes to the IPv4 networks, before the IPv6 ones.
    [() => ref.set("50.1.0.0/255.255.0.0", "ncC"), "50.1.255.0", "ncC"],
    [() => ref.delete("50.1.0.0/255.255.0.0"), "50.1.255.0", "ncA"],
    [() => ref.delete("50.0.255.0/255.0.255.0"), "50.1.255.0", "ncB"],
    // Added again, it comes after ncB in the list.
    [() => ref.set("50.0.255.0/255.0.255.0", "ncA2"), "50.1.255.0", "ncB"],
    [() => ref.add("5.0.0.0/8"), "5.1.1.1", "1"],
    [() => ref.set("5.0.0.0/8", "five"), "5.1.1.1", "1"],
    // What is no address changes nothing.
    [() => ref.set("bogus", "v"), "5.1.1.1", "1"],
    [() => ref.delete("10.1.2.0/25"), "10.1.2.3", "RT24"],
    [() => ref.set("2001:db8:1:2::/64", "v64"), "2001:db8:1:2::7", "v64"],
    [() => undefined, "2001:db8:1:3::7", "v6net48"],
    [() => ref.delete("2001:db8::/32"), "2001:db8:2::5", "none"],
    [() => ref.set("::ffff:40.1.2.0/120", "m40"), "40.1.2.3", "v4forty"],
    [() => undefined, "::ffff:40.1.2.3", "m40"],
    [() => undefined, "2002:2801:0203::", "v4forty"],
    [() => ref.set("0.0.0.0/0", "all"), "99.1.1.1", "all"],
    [() => undefined, "::ffff:99.1.1.1", "all"],
    [() => undefined, "3000::1", "none"],
    [() => ref.set("::/0", "all6"), "3000::1", "all6"],
    [() => undefined, "99.1.1.1", "all"],
  ];
  steps.forEach(([change, q, want], i) => {
    change();
    assert.equal(look(format, q), want, `step ${i}: ${q}`);
  });
});

/** An ACL's answers for a few samples, as a string of 0s and 1s. */
const answers = (acl: Acl, qs: string[]): string =>
  qs.map((q) => (acl.match(ctx(`GET / HTTP/1.1\nX-Q: ${q}`)) ? "1" : "0")).join("");

test("-m ip, -m str and -m beg ACLs of many patterns follow add-acl and del-acl in place, patterns written on the line staying", () => {
  const ips = scratchFile(
    dir,
    "a.lst",
    "10.0.0.0/8\n192.168.1.0/24\n192.168.1.7\n10.0.255.0/255.0.255.0\n::ffff:172.16.0.0/108\n2001:db8::/32\n40.0.0.0/8\n1.2.3.4\n1.2.3.5\n1.2.3.6\n1.2.3.7\n1.2.3.8\n",
  );
  const begs = scratchFile(dir, "b.lst", "/api\n/api/v2\n/static/\n/a\n/b\n/c\n/d\n/e\n/f\n/g\n/h\n/API\n");
  const strs = scratchFile(dir, "c.lst", "foo\nbar\nBaz\nq1\nq2\nq3\nq4\nq5\nq6\nq7\nq8\nq9\n");
  const { ip, ip2, beg, str, stri, a, b, c } = withPatternRefs(() => ({
    ip: compileAcl(spec(`req.hdr(x-q) -m ip -f ${ips}`)),
    ip2: compileAcl(spec(`req.hdr(x-q) -m ip -f ${ips} 9.9.9.9`)),
    beg: compileAcl(spec(`req.hdr(x-q) -m beg -f ${begs}`)),
    str: compileAcl(spec(`req.hdr(x-q) -m str -f ${strs}`)),
    stri: compileAcl(spec(`req.hdr(x-q) -m str -i -f ${strs}`)),
    a: patternRef(ips, false),
    b: patternRef(begs, false),
    c: patternRef(strs, false),
  }));
  const v4 = ["10.1.1.1", "192.168.1.9", "::ffff:172.16.5.5", "2002:0a01:0101::", "11.0.255.1", "9.9.9.9"];
  assert.equal(answers(ip, v4), "111100");
  assert.equal(answers(ip2, v4), "111101");
  a.delete("10.0.0.0/8");
  assert.equal(answers(ip, ["10.1.1.1", "10.0.255.3"]), "01");
  a.delete("10.0.255.0/255.0.255.0");
  assert.equal(answers(ip, ["10.0.255.3"]), "0");
  a.add("10.0.0.0/255.0.0.0");
  assert.equal(answers(ip, ["10.1.1.1"]), "1");
  a.add("garbage");
  a.delete("2001:db8::/32");
  assert.equal(answers(ip, ["2001:db8::1", "10.1.1.1"]), "01");
  a.add("::/0");
  assert.equal(answers(ip, ["3000::1", "8.8.8.8"]), "11");
  a.delete("::/0");
  a.delete("10.0.0.0/255.0.0.0");
  assert.equal(answers(ip2, ["8.8.8.8", "10.1.1.1", "9.9.9.9"]), "001");

  const paths = ["/api/x", "/API/x", "/static", "/static/x", "/zzz", "/Ap"];
  assert.equal(answers(beg, paths), "110100");
  b.delete("/a");
  b.delete("/api");
  assert.equal(answers(beg, paths), "010100");
  b.add("");
  assert.equal(answers(beg, paths), "111111");
  b.delete("");
  b.add("/Ap");
  assert.equal(answers(beg, paths), "010101");

  const words = ["foo", "FOO", "baz", "Baz", "q9", "Q9"];
  assert.equal(answers(str, words), "100110");
  assert.equal(answers(stri, words), "111111");
  c.delete("foo");
  c.add("FOO");
  c.add("Q9");
  c.delete("q9");
  assert.equal(answers(str, words), "010101");
  assert.equal(answers(stri, words), "111111");
  c.delete("Q9");
  assert.equal(answers(stri, words), "111100");
});

test("a lookup and a change cost about the same for 10 and for 20000 patterns (best of 5 rounds)", () => {
  const pattern = (i: number): string =>
    i % 3 === 0
      ? `${1 + (i % 223)}.${(i >> 8) & 255}.${i & 255}.1`
      : i % 3 === 1
        ? `${1 + (i % 223)}.${(i >> 8) & 255}.${i & 255}.0/24`
        : `2001:db8:${(i & 0xffff).toString(16)}::/48`;
  const setUp = (n: number) => {
    const lines = Array.from({ length: n }, (_, i) => pattern(i));
    const path = scratchFile(dir, `scale${n}.lst`, lines.join("\n") + "\n");
    return withPatternRefs(() => ({
      acl: compileAcl(spec(`req.hdr(x-q) -m ip -f ${path}`)),
      ref: patternRef(path, false),
    }));
  };
  const qs = Array.from({ length: 64 }, (_, i) =>
    ctx(`GET / HTTP/1.1\nX-Q: ${i % 2 ? `${1 + (i % 223)}.0.${i}.1` : `224.0.${i}.9`}`),
  );
  const best = (round: () => void): number => {
    let min = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      round();
      min = Math.min(min, performance.now() - t);
    }
    return min;
  };
  const cost = (n: number): { lookup: number; change: number } => {
    const { acl, ref } = setUp(n);
    let hits = 0;
    const lookup = best(() => {
      for (let i = 0; i < 20000; i++) if (acl.match(qs[i & 63]!)) hits++;
    });
    assert.ok(hits > 0, "some lookup matched");
    const change = best(() => {
      for (let i = 0; i < 200; i++) {
        ref.add("224.1.2.0/24");
        ref.delete("224.1.2.0/24");
      }
    });
    return { lookup, change };
  };
  const small = cost(10);
  const large = cost(20000);
  // One by one, 2000 times the patterns would cost hundreds of times as much.
  const lookupRatio = large.lookup / small.lookup;
  const changeRatio = large.change / small.change;
  assert.ok(lookupRatio < 20, `lookups among 20000 patterns took ${lookupRatio.toFixed(1)} times as long`);
  assert.ok(changeRatio < 20, `changes of 20000 patterns took ${changeRatio.toFixed(1)} times as long`);
});
