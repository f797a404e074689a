import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenize, TokenizeError } from "../../src/config/tokenize.js";
import { parseDuration } from "../../src/config/duration.js";
import { evalCondExpr, compareVersions } from "../../src/config/condexpr.js";
import { alertsFor } from "../helpers/harness.js";

const env = { HOME: "/root", PORT: "8080", EMPTY: "" };

test("words split on blanks; # starts a comment outside quotes", () => {
  assert.deepEqual(tokenize("  bind  :80\tname http  # the web", env), ["bind", ":80", "name", "http"]);
  assert.deepEqual(tokenize("# only a comment", env), []);
  assert.deepEqual(tokenize("acl a hdr(x) '#not a comment' \"# nor this\"", env), [
    "acl",
    "a",
    "hdr(x)",
    "#not a comment",
    "# nor this",
  ]);
});

test("backslash escapes", () => {
  const cases: [string, string[]][] = [
    ["a\\ b", ["a b"]],
    ["a\\#b", ["a#b"]],
    ["a\\\\b", ["a\\b"]],
    ["a\\'b", ["a'b"]],
    ['a\\"b', ['a"b']],
    ["a\\r\\n\\tb", ["a\r\n\tb"]],
    ["\\x41\\x7e", ["A~"]],
    // Unknown escapes keep the backslash: regexes such as ^www\. rely on it (haproxy 2.6 does the same).
    ["^www\\.", ["^www\\."]],
    // Escapes work inside double quotes but not inside single quotes.
    ['"a\\tb"', ["a\tb"]],
    ["'a\\tb'", ["a\\tb"]],
    // \$ is a dollar in double quotes only (json_query('$.a') in a format), as haproxy 2.6.12 reads it.
    ['"a\\$b"', ["a$b"]],
    ["a\\$b", ["a\\$b"]],
    ["'a\\$b'", ["a\\$b"]],
  ];
  for (const [line, words] of cases) assert.deepEqual(tokenize(line, env), words, line);
  assert.throws(() => tokenize("\\xZZ", env), TokenizeError);
});

test("a NUL written \\x00 ends its word, as in haproxy's C strings; the line goes on", () => {
  assert.deepEqual(tokenize("str(a\\x00b) x", env), ["str(a", "x"]);
  assert.deepEqual(tokenize('"p\\x00q" \\x00r', env), ["p", ""]);
  // haproxy 2.6.12's refusals of the words cut short, and a header value cut at its NUL.
  assert.deepEqual(alertsFor("http-request deny if { str(a\\x00b) -m found }"), [
    "error detected while parsing an 'http-request deny' condition : fetch method 'str' : expected ')' in ACL expression 'str(a'.",
  ]);
  assert.deepEqual(
    alertsFor('http-request return status 200 content-type text/plain lf-string "%[str(a\\x00b)]"'),
    [
      "error detected in frontend 'f' while parsing 'http-request return' rule : failed to parse sample expression <str(a> : fetch method 'str' : expected ')'.",
    ],
  );
  assert.deepEqual(alertsFor('http-request set-header X "p\\x00q"'), []);
});

test("quotes join and delimit words; empty quotes give an empty word", () => {
  assert.deepEqual(tokenize(`a"b c"d 'e f'`, env), ["ab cd", "e f"]);
  assert.deepEqual(tokenize(`x "" y`, env), ["x", "", "y"]);
  // haproxy's message; the caller adds the position and points at the opening quote.
  assert.throws(() => tokenize(`"open`, env), { message: "unmatched quote", at: 0 });
  assert.throws(() => tokenize(`x 'open`, env), { message: "unmatched quote", at: 2 });
});

test("environment expansion only in double quotes", () => {
  assert.deepEqual(tokenize(`"$HOME" '$HOME' $HOME`, env), ["/root", "$HOME", "$HOME"]);
  assert.deepEqual(tokenize(`"\${PORT}" ":\${PORT}"`, env), ["8080", ":8080"]);
  assert.deepEqual(tokenize(`"\${NOPE-9000}" "\${PORT-9000}" "\${NOPE}"`, env), ["9000", "8080", ""]);
  // A set but empty variable is used as is (haproxy's `-` default applies to unset variables only).
  assert.deepEqual(tokenize(`"\${EMPTY-x}"`, env), [""]);
  assert.throws(() => tokenize(`"\${PORT"`, env), TokenizeError);
});

test("more than 64 words is an error", () => {
  assert.throws(
    () => tokenize(Array.from({ length: 65 }, (_, i) => `w${i}`).join(" "), env),
    /too many words/,
  );
  assert.equal(tokenize(Array.from({ length: 64 }, (_, i) => `w${i}`).join(" "), env).length, 64);
});

test("durations: bare numbers are milliseconds, units us ms s m h d", () => {
  const cases: [string, number][] = [
    ["100", 100],
    ["100ms", 100],
    ["25s", 25000],
    ["3600s", 3_600_000],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1500us", 2],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  assert.match(String(parseDuration("5x")), /unexpected character 'x'/);
  assert.match(String(parseDuration("abc")), /unexpected character 'a'/);
  assert.match(String(parseDuration("30d")), /timer overflow/);
  // As haproxy's parse_time_err: characters after a unit are warned about, not refused.
  const warned: string[] = [];
  assert.equal(
    parseDuration("10sx", (m) => warned.push(m)),
    10_000,
  );
  assert.equal(
    parseDuration("2mq", (m) => warned.push(m)),
    120_000,
  );
  assert.match(warned[0]!, /^unexpected character 'x' after the timer value '10sx'/);
  assert.equal(warned.length, 2);
  assert.match(String(parseDuration("10u")), /unexpected character 'u'/);
});

test("condition expressions", () => {
  const ev = (s: string): boolean => evalCondExpr([s], { A: "1", B: "" });
  assert.equal(ev("defined(A)"), true);
  assert.equal(ev("defined(B)"), true);
  assert.equal(ev("defined(C)"), false);
  assert.equal(ev("streq(a,a)"), true);
  assert.equal(ev("strneq(a,a)"), false);
  assert.equal(ev("version_atleast(2.4)"), true);
  assert.equal(ev("version_atleast(2.6)"), true);
  assert.equal(ev("version_atleast(2.7)"), false);
  assert.equal(ev("version_before(3.0)"), true);
  assert.equal(ev("feature(POLL)"), true);
  assert.equal(ev("feature(QUIC)"), false);
  assert.equal(ev("!defined(C) && defined(A)"), true);
  assert.equal(ev("defined(C) || (defined(A) && !defined(C))"), true);
  assert.equal(ev("1"), true);
  assert.equal(ev("0"), false);
  assert.throws(() => ev("nosuch(x)"), /unknown/);
  assert.throws(() => ev("defined(A"), /missing/);
  assert.ok(compareVersions("2.10", "2.6") > 0);
  assert.equal(compareVersions("2.6", "2.6.0"), 0);
});
