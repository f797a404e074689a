// Text converters (dates, json, json_query, JWTs, iif, add_item, language): each expected value is
// what haproxy 2.6.12 wrote for the same sample and arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, createHmac, sign } from "node:crypto";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileLogFormat, formatFor } from "../../src/log/log-format.js";
import { Scope, Vars } from "../../src/acl/vars.js";
import { Sample, T } from "../../src/acl/sample.js";
import { ltimeIn } from "../../src/acl/text-conv.js";
import { formatG } from "../../src/acl/json-text.js";
import { ctx } from "./head.js";

const REQUEST = `GET / HTTP/1.1
Host: x
X-J: {"a":1,"b":"x\\ny","c":true,"d":false,"e":null,"f":[1,2,3],"g":{"h":"i"},"j":1.5,"k":-0.000012345,"l":1700000000,"m":1e400,"n":"\\u00e9\\u0041","o":"a\\/b","p":"\\u20ac","r":010,"u":1234565,"x2":1.,"y":-,"z":5}
X-K: {"b":{"a":1},"a":2,"W":[{"a":1},{"b":2}],"N":[[1,2],[3,4]]}
X-L: en-US;q=0.8,fr;q=0.9`;

function evaluator() {
  const vars = new Vars(new Map());
  const c = ctx(REQUEST, { vars });
  const v = new Sample();
  v.setStr("v1");
  vars.set({ scope: Scope.Txn, name: "v" }, v, 0);
  const e = new Sample();
  e.setStr("");
  vars.set({ scope: Scope.Txn, name: "e" }, e, 0);
  const alg = new Sample();
  alg.setStr("HS256");
  vars.set({ scope: Scope.Txn, name: "alg" }, alg, 0);
  const ip = new Sample();
  ip.setStr("1.2.3.4", T.Ip);
  vars.set({ scope: Scope.Txn, name: "ip" }, ip, 0);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  return (f: string) => formatFor(compileLogFormat(f, "request", fail), c);
}

function check(rows: [string, string][]): void {
  const fmt = evaluator();
  for (const [expr, want] of rows) assert.equal(fmt(`%[${expr}]`), want, expr);
}

test("http_date, utime and ltime (TZ unset: the machine's UTC)", () => {
  check([
    ["int(1700000000),http_date", "Tue, 14 Nov 2023 22:13:20 GMT"],
    ["int(1700000000),http_date(3600)", "Tue, 14 Nov 2023 23:13:20 GMT"],
    // The fraction is not zero-padded.
    ["int(1700000000005),http_date(0,ms)", "Tue, 14 Nov 2023 22:13:20.5 GMT"],
    ["int(1700000000123456),http_date(0,us)", "Tue, 14 Nov 2023 22:13:20.123456 GMT"],
    // 55 bits of a negative date.
    ["int(-5),http_date", "Sun, 13 Jun 1141709097 06:26:03 GMT"],
    [
      "int(1700000000),utime('%Y-%m-%d %H:%M:%S %a %b %A %B %j %e %y %Z %z %s %T %D %F %R %p %u %w %%')",
      "2023-11-14 22:13:20 Tue Nov Tuesday November 318 14 23 GMT +0000 1700000000 22:13:20 11/14/23 2023-11-14 22:13 PM 2 2 %",
    ],
    [
      "int(1700000000),utime('%c|%C|%g|%G|%V|%U|%W|%h|%I|%k|%l|%t|%P|%r|%x|%X|%q|%E|%Ey|%Od|%-d|%_m|%05Y|%^a|%#b|%10A|%|%Ec')",
      "Tue Nov 14 22:13:20 2023|20|23|2023|46|46|46|Nov|10|22|10|\t|pm|10:13:20 PM|11/14/23|22:13:20|%q|%E|23|14|14|11|02023|TUE|NOV|   Tuesday|%|Tue Nov 14 22:13:20 2023",
    ],
    // glibc's widths: a number's digits are at least the width (zeros unless _ or -, spaces for %e,
    // %k, %l), %s's only its own; names, composites and bad conversions are padded with spaces (zeros
    // with 0); %z's sign is padded too; + is no flag; # lowercases %p and %Z even with ^.
    [
      "int(1700000000),utime('%5Y|%_5Y|%-5Y|%05Y|%3d|%5e|%05e|%-5e|%12s|%012s|%5z|%_5z|%05z|%5a|%05a|%-5a|%^#p|%^#Z|%26c|%010D|%^x|%#c')",
      "02023| 2023| 2023|02023|014|   14|00014|   14|  1700000000|001700000000|    +00000|    +    0|0000+00000|  Tue|00Tue|  Tue|pm|gmt|  Tue Nov 14 22:13:20 2023|0011/14/23|11/14/23|Tue Nov 14 22:13:20 2023",
    ],
    [
      "int(1700000000),utime('%+Y|%5+Y|%^5q|%05q|%Ob|%Et|%Eu|%OC|%E%|%5')",
      "%+Y|  %5+Y| %^5Q|0%05q|Nov|\t|2|20|%|   %5",
    ],
    ["int(0),utime('%5Y|%_5Y|%5C|%_5C|%_8Y',-62167219300)", "-0001|   -1|-0001|   -1|      -1"],
    ["int(0),utime('%Y|%F|%C|%G|%y',-62000000000)", "5|5-04-19|0|5|05"],
    ["int(0),utime('%Y|%F|%C|%G|%y',-70000000000)", "-249|-249-10-15|-3|-249|51"],
    ["int(9223372036854775807),utime('%Y-%m-%d %H:%M:%S %s')", "1141709097-06-13 06:26:07 36028797018963967"],
    ["int(1700000000),utime()", ""],
    ["str(abc),utime(%Y)", "1970"],
  ]);
  if (process.env.TZ === undefined)
    check([["int(1700000000),ltime('%F %T %Z %z')", "2023-11-14 22:13:20 UTC +0000"]]);
});

test("ltime in other zones, as haproxy started with TZ set", () => {
  const F = "%Y-%m-%d %H:%M:%S %Z %z %s %a %j %V %G %p %k";
  assert.equal(
    ltimeIn(F, 1700000000n, "Europe/Paris"),
    "2023-11-14 23:13:20 CET +0100 1700000000 Tue 318 46 2023 PM 23",
  );
  assert.equal(
    ltimeIn(F, 1690000000n, "Europe/Paris"),
    "2023-07-22 06:26:40 CEST +0200 1690000000 Sat 203 29 2023 AM  6",
  );
  assert.equal(ltimeIn("%F %T %Z %z", -2000000000n, "Europe/Paris"), "1906-08-16 20:36:01 PMT +0009");
  assert.equal(ltimeIn("%F %T %Z", 4000000000n, "Europe/Paris"), "2096-10-02 09:06:40 CEST");
  // glibc's POSIX rules: years up to 1970 count from 1970, far ones wrap.
  const rule = "CET-1CEST,M3.5.0,M10.5.0/3";
  assert.equal(ltimeIn("%F %T %Z", -2000000000n, rule), "1906-08-16 21:26:40 CET");
  assert.equal(ltimeIn("%F %T %Z", 36028797018963963n, "Europe/Paris"), "1141709097-06-13 07:26:03 CET");
});

test("json escapes for each input code", () => {
  check([
    ["str(abc),url_dec,json", "abc"],
    ["str(a%22b%5Cc/d),url_dec,json", 'a\\"b\\\\c\\/d'],
    ["str(a%01b%7fc%ffd),url_dec,json", "a\\u0001b\\u007fc\\u00ffd"],
    ["str(%c3%a9%e2%82%ac%f0%9f%98%80),url_dec,json(utf8)", ""],
    ["str(%c3%a9%e2%82%ac),url_dec,json(utf8)", "\\u00e9\\u20ac"],
    ["str(%c3%a9%e2%82%ac%f0%9f%98%80),url_dec,json(utf8s)", "\\u00e9\\u20ac"],
    ["str(%c3%a9%e2%82%ac%f0%9f%98%80),url_dec,json(utf8p)", ""],
    ["str(a%ffb),url_dec,json(utf8s)", "ab"],
    ["str(a%c0%80b),url_dec,json(utf8)", ""],
    ["str(a%c0%80b),url_dec,json(utf8p)", "a\\u0000b"],
    ["str(a%c0%80b),url_dec,json(utf8s)", "ab"],
    ["str(a%ed%a0%80b),url_dec,json(utf8p)", ""],
    ["str(a%ed%a0%80b),url_dec,json(utf8ps)", "ab"],
    ["str(a%e2%82),url_dec,json(utf8s)", "a"],
    ["int(12),json", "12"],
  ]);
});

test("json_query keeps mjson's ways", () => {
  const q = (p: string, t = ""): string => `req.fhdr(x-j),json_query('${p}'${t})`;
  check([
    [q("$.a"), "1"],
    [q("$.b"), "x%0Ay"],
    [q("$.c"), "1"],
    [q("$.d"), "0"],
    [q("$.e"), ""],
    [q("$.f"), ""],
    [q("$.g"), ""],
    [q("$.g.h"), "i"],
    [q("$.f[2]"), "3"],
    [q("$.f[3]"), ""],
    [q("$.j"), "1.5"],
    [q("$.k"), "-1.2345e-05"],
    [q("$.l"), "1.7e+09"],
    [q("$.m"), "inf"],
    [q("$.n"), "\xe9A"],
    [q("$.o"), ""],
    [q("$.p"), ""],
    [q("$.r"), "10"],
    [q("$.u"), "1.23456e+06"],
    [q("$.x2"), "1"],
    // Invalid JSON before the key: nothing.
    [q("$.z"), ""],
    [q("$.r", ",int"), "8"],
    [q("$.j", ",int"), "1"],
    [q("$.m", ",int"), "1"],
    [q("$.c", ",int"), "1"],
    [q("a"), ""],
    ["req.fhdr(x-k),json_query('$.a')", "2"],
    ["req.fhdr(x-k),json_query('$.W[0].b')", "2"],
    ["req.fhdr(x-k),json_query('$.N[1][0]')", "3"],
  ]);
  assert.equal(formatG(100000), "100000");
  assert.equal(formatG(999999.5), "1e+06");
  assert.equal(formatG(0.000123456789), "0.000123457");
  assert.equal(formatG(123456.5), "123456");
});

test("iif, add_item, language", () => {
  check([
    ["bool(1),iif(yes,no)", "yes"],
    ["bool(0),iif(yes,no)", "no"],
    ["str(abc),iif(yes,no)", "no"],
    ["int(-3),iif(yes,no)", "yes"],
    ["str(12abc),iif(yes,no)", "yes"],
    // Empty text is no integer, and an address is no boolean: no sample.
    ["str(),iif(yes,no)", ""],
    ["var(txn.ip),iif(yes,no)", ""],
    ["str(a),add_item(-,txn.v,s)", "a-v1s"],
    ["str(a),add_item(-,txn.e)", "a"],
    ["str(),add_item(-,txn.v,s)", "v1s"],
    ["str(a),add_item(-,txn.none,s)", "a-s"],
    ["req.fhdr(x-l),language(fr;en)", "fr"],
    ["req.fhdr(x-l),language(es;en)", "en"],
    ["str(de),language(es;en,def)", "def"],
    ["str(de),language(es;en)", ""],
    ["str(en-gb),language(en;en-gb)", "en"],
    ["str(EN),language(en)", ""],
  ]);
});

test("jwt_verify and the JWT queries, with keys made here", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-jwt-"));
  try {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "rsa.pub"), rsa.publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(dir, "ec.pub"), ec.publicKey.export({ type: "spki", format: "pem" }));
    const b64u = (b: string | Buffer): string => Buffer.from(b).toString("base64url");
    const pay = b64u('{"sub":"1234","iss":"me","n":42,"adm":true}');
    const si = (alg: string): string => `${b64u(`{"alg":"${alg}","typ":"JWT"}`)}.${pay}`;
    const hs = `${si("HS256")}.${b64u(createHmac("sha256", "secret").update(si("HS256")).digest())}`;
    const rs = `${si("RS256")}.${b64u(sign("sha256", Buffer.from(si("RS256")), rsa.privateKey))}`;
    const es = `${si("ES256")}.${b64u(sign("sha256", Buffer.from(si("ES256")), { key: ec.privateKey, dsaEncoding: "ieee-p1363" }))}`;
    const esDer = `${si("ES256")}.${b64u(sign("sha256", Buffer.from(si("ES256")), ec.privateKey))}`;
    const none = `${b64u('{"alg":"none"}')}.${pay}.`;
    check([
      [`str(${hs}),jwt_verify(HS256,secret)`, "1"],
      [`str(${hs}),jwt_verify(HS256,wrong)`, "0"],
      [`str(${hs}),jwt_verify(HS384,secret)`, "0"],
      [`str(${hs}),jwt_verify(txn.alg,secret)`, "1"],
      [`str(${rs}),jwt_verify(RS256,${dir}/rsa.pub)`, "1"],
      [`str(${rs}),jwt_verify(RS512,${dir}/rsa.pub)`, "0"],
      [`str(${rs}),jwt_verify(ES256,${dir}/rsa.pub)`, "0"],
      [`str(${rs}),jwt_verify(RS256,${dir}/missing.pub)`, "-5"],
      [`str(${es}),jwt_verify(ES256,${dir}/ec.pub)`, "1"],
      [`str(${esDer}),jwt_verify(ES256,${dir}/ec.pub)`, "0"],
      [`str(${none}),jwt_verify(none,x)`, "1"],
      [`str(a.b),jwt_verify(none,x)`, "1"],
      [`str(${hs}),jwt_verify(none,x)`, "0"],
      [`str(a.b.c.d),jwt_verify(HS256,x)`, "-3"],
      [`str(a.b),jwt_verify(HS256,x)`, "-3"],
      [`str(${none}),jwt_verify(HS256,x)`, "-3"],
      [`str(${hs}),jwt_header_query('$.alg')`, "HS256"],
      [`str(${hs}),jwt_payload_query('$.n',int)`, "42"],
      [`str(${hs}),jwt_payload_query('$.adm')`, "1"],
      [`str(${hs}),jwt_payload_query('$.iss')`, "me"],
      // Without a path haproxy 2.6 gives no sample.
      [`str(${hs}),jwt_header_query`, ""],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
