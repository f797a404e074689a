// Converters, each value as haproxy 2.6.12 wrote it in a header for the same request and format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileAcl } from "../../src/acl/index.js";
import { compileLogFormat, formatFor } from "../../src/log/log-format.js";
import { Cond, Scope, Vars } from "../../src/acl/vars.js";
import { Sample, T } from "../../src/acl/sample.js";
import { ctx, spec } from "./head.js";

const REQUEST = `GET / HTTP/1.1
Host: x
X-A: /a/b/c/d
X-U: __foo__bar_baz_
X-S: Hello, World
X-N: 42
X-M: -42
X-E: 
X-Big: ${"9".repeat(320)}
X-L: aBc\xff\xdf`;

function evaluator() {
  const vars = new Vars(new Map());
  const c = ctx(REQUEST, { vars });
  const k = new Sample();
  k.setInt(3);
  vars.set({ scope: Scope.Txn, name: "k" }, k, 0);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  return {
    fmt: (f: string) => formatFor(compileLogFormat(f, "request", fail), c),
    acl: (line: string) => compileAcl(spec(line)).match(c),
  };
}

test("converters give what haproxy 2.6.12 gives, a failing one no sample", () => {
  const { fmt } = evaluator();
  const rows: [string, string][] = [
    ["%[req.hdr(x-a),field(2,/)]", "a"],
    ["%[req.hdr(x-a),field(-1,/)]", "d"],
    ["%[req.hdr(x-a),field(2,/,2)]", "a/b"],
    ["%[req.hdr(x-a),field(9,/)]", ""],
    ["%[req.hdr(x-a),field(-2,/,2)]", "b/c"],
    ["%[req.hdr(x-a),field(1,/)]", ""],
    ["%[req.hdr(x-a),field(-9,/)]", ""],
    ["%[req.hdr(x-a),field(3,/,0)]", "b/c/d"],
    ["%[req.hdr(x-u),word(1,_)]", "foo"],
    ["%[req.hdr(x-u),word(2,_)]", "bar"],
    ["%[req.hdr(x-u),word(-1,_)]", "baz"],
    ["%[req.hdr(x-u),word(5,_)]", ""],
    ["%[req.hdr(x-u),word(1,_,2)]", "foo__bar"],
    ["%[req.hdr(x-u),word(-2,_,2)]", "foo__bar"],
    // hdr's last value: "World".
    ["%[req.hdr(x-s),regsub(o,0)]", "W0rld"],
    ["%[req.hdr(x-s),regsub(l*,-,g)]", "-W-o-r--d-"],
    ["%[req.hdr(x-s),regsub(^w,J,i)]", "Jorld"],
    ["%[req.hdr(x-s),regsub(^.,X,g)]", "Xorld"],
    ['%[req.hdr(x-s),regsub("([a-z]+)",<\\1>,g)]', "W<orld>"],
    ["%[req.hdr(x-s),regsub(x*,-)]", "-World"],
    ["%[req.hdr(x-n),add(8)]", "50"],
    ["%[req.hdr(x-n),sub(50)]", "-8"],
    ["%[req.hdr(x-n),mul(-2)]", "-84"],
    ["%[req.hdr(x-n),div(5)]", "8"],
    ["%[req.hdr(x-n),div(0)]", "9223372036854775807"],
    ["%[req.hdr(x-n),mod(5)]", "2"],
    ["%[req.hdr(x-n),neg]", "-42"],
    [
      "%[req.hdr(x-n),and(15)]-%[req.hdr(x-n),or(1)]-%[req.hdr(x-n),xor(2)]-%[req.hdr(x-n),cpl]",
      "10-43-40--43",
    ],
    // A variable's value, a missing one (no sample), a text read as the integer it starts with (0),
    // an empty one (no integer).
    [
      "%[req.hdr(x-n),add(txn.k)]-%[req.hdr(x-n),add(txn.none)]-%[req.hdr(x-s),add(1)]-%[req.hdr(x-e),add(1)]",
      "45--1-",
    ],
    [
      "%[req.hdr(x-n),mul(9223372036854775807)]-%[req.hdr(x-n),mod(-5)]-%[req.hdr(x-m),div(5)]-%[req.hdr(x-m),mod(5)]",
      "9223372036854775807-2--8--2",
    ],
    ["%[req.hdr(x-n),bool]-%[req.hdr(x-n),not]-%[req.hdr(x-n),odd]-%[req.hdr(x-n),even]", "1-0-0-1"],
    ["%[req.hdr(x-s),length]-%[str(abc),length]-%[req.hdr(x-e),length]", "5-3-0"],
    [
      "%[req.hdr(x-s),hex]-%[req.hdr(x-s),base64]-%[req.hdr(x-s),lower,hex]-%[req.hdr(x-n),hex]",
      "576F726C64-V29ybGQ=-776F726C64-3432",
    ],
    // bytes: from an offset, at most a length; a negative offset gives nothing, a negative length all.
    [
      "[%[req.hdr(x-s),bytes(1)]]-[%[req.hdr(x-s),bytes(1,2)]]-[%[req.hdr(x-s),bytes(5)]]-[%[req.hdr(x-s),bytes(0,0)]]-[%[req.hdr(x-s),bytes(-1)]]-[%[req.hdr(x-s),bytes(1,-1)]]-[%[req.hdr(x-s),bytes(4,9)]]",
      "[orld]-[or]-[]-[]-[]-[orld]-[d]",
    ],
    [
      "%[req.hdr(x-u),ltrim(_)]-%[req.hdr(x-u),rtrim(_)]-%[req.hdr(x-u),ltrim(_f)]",
      "foo__bar_baz_-__foo__bar_baz-oo__bar_baz_",
    ],
  ];
  for (const [format, value] of rows) assert.equal(fmt(format), value, format);
});

test("an ACL matches a converted sample by its type: a string, an integer, a boolean", () => {
  const { acl } = evaluator();
  assert.equal(acl("req.hdr(x-a),field(2,/) -m str a"), true);
  assert.equal(acl("req.hdr(x-n),add(8) 50"), true);
  assert.equal(acl("req.hdr(x-n),odd"), false);
  assert.equal(acl("req.hdr(x-n),even"), true);
  assert.equal(acl("req.hdr(x-s),length gt 10"), false);
  assert.equal(acl("method,length 3"), true);
});

test("converters' arguments are read and refused as haproxy 2.6.12 reads and refuses them", () => {
  const { fmt } = evaluator();
  const refusals: [string, string][] = [
    ["%[path,field(0,/)]", "invalid args in converter 'field' : Unexpected value 0 for index"],
    ["%[path,field(1,)]", "invalid args in converter 'field' : Empty separators list"],
    [
      "%[path,field(x,/)]",
      "invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1",
    ],
    [
      "%[path,field(1)]",
      "invalid arg 2 in converter 'field' : missing arguments (got 1/2), type 'string' expected",
    ],
    [
      "%[path,regsub(a,b,x)]",
      "invalid args in converter 'regsub' : invalid regex flag 'x', only 'i' and 'g' are supported",
    ],
    ["%[path,add(x)]", "invalid args in converter 'add' : expects an integer or a variable name"],
    ["%[path,lower(1)]", "invalid arg 1 in converter 'lower' : expected ')' before '1)]'"],
    ["%[path,add(1,2)]", "invalid arg 2 in converter 'add' : expected ')' before ',2)]'"],
    // A regex's parentheses end the argument unless quoted.
    [
      "%[path,regsub(([a-z]+),<\\1>,g)]",
      "invalid arg 2 in converter 'regsub' : missing arguments (got 1/2), type 'string' expected",
    ],
  ];
  for (const [format, reason] of refusals)
    assert.throws(
      () => fmt(format),
      { message: `failed to parse sample expression <${format.slice(2)}> : ${reason}` },
      format,
    );
  // Where the expression ends decides where its `]` must be.
  assert.throws(() => fmt("%[hdr(a)x]"), { message: "expected ']' after 'hdr(a)', but found 'x'" });
  assert.equal(fmt("%[path,add()]"), "0");
  assert.equal(fmt('%[str("a,b")]'), "a,b");
});

test("a variable keeps bytes whole, NULs too; as text they end at the first NUL (haproxy 2.6.12)", () => {
  const vars = new Vars(new Map());
  const c = ctx(REQUEST, { vars });
  const set = (name: string, bytes: string, cond: number) => {
    const smp = new Sample();
    smp.setStr(bytes, T.Bin);
    vars.set({ scope: Scope.Txn, name }, smp, cond);
  };
  set("b", "A\0BC", 0);
  set("e", "A\0BC", Cond.IfEmpty);
  set("f", "\0A", Cond.IfNotEmpty);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  const fmt = (f: string) => formatFor(compileLogFormat(f, "request", fail), c);
  assert.equal(
    fmt(
      "%[var(txn.b)] %[var(txn.b),hex] %[var(txn.b),length] [%[var(txn.e)]] [%[var(txn.f)]] %[var(txn.f),hex]",
    ),
    "A 41004243 1 [] [] 0041",
  );
  assert.equal(compileAcl(spec("var(txn.b) -m bin 41004243")).match(c), true);
  assert.equal(compileAcl(spec("var(txn.b) -m len 1")).match(c), true);
});
