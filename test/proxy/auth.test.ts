// HTTP basic authentication as haproxy 2.6 does it: userlist sections, http_auth and
// http_auth_group ACLs, the http_auth_* fetches and http-request auth's 401, each compared with what
// haproxy 2.6.12 sent for the same requests.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  startProxy,
  exchange,
  Client,
  DEFAULTS,
  scratchDir,
  syslogReceiver,
  loggedDefaults,
  type Proxy,
} from "../helpers/harness.js";
import { parseConfig } from "../../src/config/parse.js";
import { Runtime } from "../../src/proxy/runtime.js";
import { ConfigError } from "../../src/config/errors.js";

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

// "secret" hashed by crypt(3) (libxcrypt): SHA-512, SHA-256, MD5.
const SHA512 =
  "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
const SHA256 = "$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0";
const MD5 = "$1$xyz$Qia9Wq6FxQkYcwNWMk/RM0";

const USERLIST = `userlist L1
  group G1 users tiger,scott
  group G2
  user tiger password ${SHA512}
  user scott insecure-password elgato groups G2
  user md password ${MD5}
  user sha256 password ${SHA256}
  user c insecure-password a:b
`;

const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");
const get = (path: string, auth?: string, version = "1.1"): string =>
  `GET ${path} HTTP/${version}\r\nHost: h\r\n${auth === undefined ? "" : `Authorization: ${auth}\r\n`}Connection: close\r\n\r\n`;
const body = (res: string): string => res.slice(res.indexOf("\r\n\r\n") + 4);
const head = (res: string): string => res.slice(0, res.indexOf("\r\n\r\n"));

let p: Proxy;

before(async () => {
  p = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  http-request return status 200 content-type text/plain lf-string "ok u=%[http_auth_user] p=%[http_auth_pass] t=%[http_auth_type] g=%[http_auth_group(L1)]" if { http_auth(L1) } { path /ret }
  http-request return status 200 content-type text/plain lf-string "t=%[http_auth_type] b=[%[http_auth_bearer]] x=[%[http_auth_bearer(x-tok)]]" if { path /show }
  http-request auth if { path /a }
  http-request auth realm Gimme if { path /b }
  http-request auth realm "two words" unless { http_auth_group(L1) G2 }
  http-request return status 200 content-type text/plain lf-string "in u=%[http_auth_user]"
${USERLIST}`);
  cleanup.push(p.stop);
});

test("http-request auth answers 401 with a Basic challenge for the proxy's name or the rule's realm", async () => {
  const page = await exchange(p.port, get("/a"));
  assert.equal(
    head(page),
    'HTTP/1.1 401 Unauthorized\r\ncontent-length: 85\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="f"\r\nconnection: close',
  );
  assert.match(body(page), /^<html><body><h1>401 Unauthorized<\/h1>/);
  const old = await exchange(p.port, "GET /b HTTP/1.0\r\n\r\n");
  assert.match(head(old), /\r\nwww-authenticate: Basic realm="Gimme"\r\nconnection: close$/);
  // A keep-alive client's connection goes on after the challenge, as haproxy's does.
  const c = new Client(p.port);
  cleanup.push(async () => c.close());
  c.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  const first = await c.response();
  assert.equal(first.status, 401);
  assert.doesNotMatch(first.head, /connection:/i);
  c.send(`GET /ret HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ${b64("scott:elgato")}\r\n\r\n`);
  assert.equal((await c.response()).body, "ok u=scott p=elgato t=Basic g=scott");
});

test("http_auth checks SHA-512, SHA-256 and MD5 crypt(3) hashes and plain passwords", async () => {
  for (const user of ["tiger", "md", "sha256"])
    assert.equal(
      body(await exchange(p.port, get("/ret", `Basic ${b64(`${user}:secret`)}`))),
      `ok u=${user} p=secret t=Basic g=${user}`,
    );
  for (const bad of ["tiger:Secret", "md:secre", "sha256:", "scott:secret", "nobody:secret"])
    assert.match(
      head(await exchange(p.port, get("/ret", `Basic ${b64(bad)}`))),
      /^HTTP\/1.1 401 .*realm="two words"/s,
    );
  // The password is what follows the first colon.
  assert.equal(
    body(await exchange(p.port, get("/ret", `Basic ${b64("c:a:b")}`))),
    "ok u=c p=a:b t=Basic g=c",
  );
});

test("http_auth_group matches the groups a user has from its line and from the groups' own", async () => {
  // scott is in G2 by its line; tiger only in G1, by the group's.
  assert.equal(body(await exchange(p.port, get("/x", `Basic ${b64("scott:elgato")}`))), "in u=scott");
  assert.match(head(await exchange(p.port, get("/x", `Basic ${b64("tiger:secret")}`))), /realm="two words"/);
});

test("the Authorization value read as haproxy reads it", async () => {
  const show = async (auth: string): Promise<string> => body(await exchange(p.port, get("/show", auth)));
  const ret = async (auth: string): Promise<string> => body(await exchange(p.port, get("/ret", auth)));
  // A scheme in any case, written short, after any number of spaces.
  assert.equal(await ret(`basic   ${b64("tiger:secret")}`), "ok u=tiger p=secret t=Basic g=tiger");
  assert.equal(await ret(`B ${b64("md:secret")}`), "ok u=md p=secret t=Basic g=md");
  // Base64 as haproxy's decoder takes it: padding may end each group of four.
  assert.equal(await show(`Basic ${b64("c:a:b")}${b64("a")}`), "t=Basic b=[] x=[]");
  assert.match(await ret(`Basic ${b64("c:a:b")}${b64("a")}`), /^<html>/);
  // No colon, no padding, a bad character, a tab: no credentials at all.
  for (const bad of [
    `Basic ${b64("nocolon")}`,
    "Basic YzphOmI",
    "Basic !!!",
    `Basic\t${b64("c:a:b")}`,
    "Digest x",
  ])
    assert.equal(await show(bad), "t= b=[] x=[]", bad);
  // Bearer: the token up to a comma; from another header, the scheme spelled out or an empty token.
  assert.equal(await show("Bearer   tok en, x"), "t=Bearer b=[tok en] x=[]");
  assert.equal(await show("Bea tok"), "t=Bearer b=[tok] x=[]");
  const withTok = (tok: string): string =>
    `GET /show HTTP/1.1\r\nHost: h\r\nX-Tok: ${tok}\r\nConnection: close\r\n\r\n`;
  assert.equal(body(await exchange(p.port, withTok("bearer  zz"))), "t= b=[] x=[zz]");
  assert.equal(body(await exchange(p.port, withTok("Bea zz"))), "t= b=[] x=[]");
});

test("an errorfile for 401 keeps its page, its WWW-Authenticate lines replaced by the challenge", async () => {
  const dir = scratchDir("auth");
  const file = join(dir, "401.http");
  const page = "<p>who?</p>\n";
  writeFileSync(
    file,
    `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Length: ${page.length}\r\nWWW-Authenticate: Basic realm="old"\r\nX-Page: mine\r\n\r\n${page}`,
  );
  const q = await startProxy(`${DEFAULTS}
  errorfile 401 ${file}
frontend f
  bind 127.0.0.1:1
  http-request auth realm new
${USERLIST}`);
  cleanup.push(q.stop);
  const res = await exchange(q.port, get("/"));
  assert.equal(
    res,
    `HTTP/1.1 401 Unauthorized\r\ncontent-length: ${page.length}\r\nx-page: mine\r\nwww-authenticate: Basic realm="new"\r\nconnection: close\r\n\r\n${page}`,
  );
});

test("http-request auth is logged as the proxy's own answer, LR--, as haproxy logs it", async () => {
  const rx = await syslogReceiver();
  cleanup.push(rx.close);
  const q = await startProxy(`${loggedDefaults(rx)}
frontend f
  bind 127.0.0.1:1
  http-request auth
${USERLIST}`);
  cleanup.push(q.stop);
  await exchange(q.port, get("/x"));
  const line = await rx.take(/ "GET \/x HTTP\/1.1"/);
  assert.match(line, / f f\/<NOSRV> \d+\/-1\/-1\/-1\/\d+ 401 \d+ - - LR-- /);
});

test("option http-use-proxy-header: a proxy's request is answered 407 and sends Proxy-Authorization", async () => {
  const q = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option http-use-proxy-header
  http-request auth realm px unless { http_auth(L1) }
  http-request return status 200 content-type text/plain lf-string "u=%[http_auth_user]"
${USERLIST}`);
  cleanup.push(q.stop);
  const scott = b64("scott:elgato");
  const ask = async (target: string, header: string): Promise<string> =>
    exchange(
      q.port,
      `GET ${target} HTTP/1.1\r\nHost: x\r\n${header}: Basic ${scott}\r\nConnection: close\r\n\r\n`,
    );
  assert.equal(body(await ask("http://x/", "Proxy-Authorization")), "u=scott");
  assert.match(
    head(await ask("http://x/", "Authorization")),
    /^HTTP\/1.1 407 Unauthorized\r\n.*\r\nproxy-authenticate: Basic realm="px"\r\nconnection: close$/s,
  );
  // A target that starts with '/' or '*' is no proxy's: Authorization and 401, as without the option.
  assert.equal(body(await ask("/", "Authorization")), "u=scott");
  assert.match(
    head(await ask("/", "Proxy-Authorization")),
    /^HTTP\/1.1 401 .*www-authenticate: Basic realm="px"/s,
  );
  // As the request arrived: a rule that rewrites the target does not make it another's.
  const r = await startProxy(`${DEFAULTS}
frontend f
  bind 127.0.0.1:1
  option http-use-proxy-header
  http-request set-uri /x
  http-request auth realm px
${USERLIST}`);
  cleanup.push(r.stop);
  const res = await exchange(r.port, "GET http://x/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  assert.match(head(res), /^HTTP\/1.1 407 .*proxy-authenticate: Basic realm="px"/s);
});

/** The alerts and warnings reading `text` gives, each as `line: message`. */
function diagnostics(text: string): string[] {
  return parseConfig([{ name: "t.cfg", text }], {}).diagnostics.map(
    (d) => `${d.level} ${d.where?.line ?? "-"}: ${d.message}`,
  );
}

test("userlist sections are read with haproxy's messages", () => {
  const FE = `${DEFAULTS.slice(1)}frontend f\n  bind :1\n`;
  assert.deepEqual(diagnostics(`${FE}userlist\n`), ["alert 8: 'userlist' expects <name> as arguments."]);
  assert.deepEqual(diagnostics(`${FE}userlist L x\n`), [
    "alert 8: 'userlist' cannot handle unexpected argument 'x'.",
  ]);
  assert.deepEqual(diagnostics(`${FE}userlist L/1\n`), [
    "alert 8: character '/' is not permitted in 'userlist' name 'L/1'.",
  ]);
  assert.deepEqual(diagnostics(`${FE}userlist L\nuserlist L\n  user a\n  user a\n  group g\n  group g\n`), [
    "warning 9: ignoring duplicated userlist 'L'.",
    "warning 11: ignoring duplicated user 'a' in userlist 'L'.",
    "warning 13: ignoring duplicated group 'g' in userlist 'L'.",
  ]);
  assert.deepEqual(diagnostics(`${FE}userlist L\n  bogus x\n  user\n  user a foo\n  group g foo x\n`), [
    "alert 9: unknown keyword 'bogus' in 'users' section",
    "alert 10: 'user' expects <name> as arguments.",
    "alert 11: 'user' only supports 'password', 'insecure-password' and 'groups' options.",
    "alert 12: 'group' only supports 'users' option.",
  ]);
  assert.deepEqual(diagnostics(`${FE}userlist L\n  group g users a,b\n  user a groups g,,h\n`), [
    "alert 10: userlist 'L': no such group 'h' specified in user 'a'",
    "alert 9: userlist 'L': no such user 'b' specified in group 'g'",
  ]);
  // A hash Sluice cannot check is refused rather than never matching.
  const [bcrypt] = diagnostics(
    `${FE}userlist L\n  user a password $2b$12$PRL/kI3mX1fot3cAxGxIW.UHHPdCZVpuLS7OHVfkiYN\n`,
  );
  assert.match(bcrypt!, /^alert 9: the encrypted password used for user 'a' is not supported by sluice: /);
});

test("http-request auth's words, and a userlist an ACL names that does not exist, refused as haproxy does", async () => {
  const FE = `${DEFAULTS.slice(1)}frontend f\n  bind :1\n`;
  assert.deepEqual(diagnostics(`${FE}  http-request auth realm\n`), [
    "alert 8: error detected in frontend 'f' while parsing 'http-request auth' rule : missing realm value.\n.",
  ]);
  assert.deepEqual(diagnostics(`${FE}  http-request auth realm a b\n`), [
    "alert 8: 'http-request auth' expects either 'if' or 'unless' followed by a condition but found 'b'.",
  ]);
  for (const [acl, message] of [
    [
      "http_auth(NOPE)",
      "unable to find userlist 'NOPE' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'f'.",
    ],
    ["http_auth_group G1", "missing userlist name in arg 1 of ACL keyword 'http_auth_group' in proxy 'f'."],
    // An ACL that could never match.
    ["http_auth_group(L1)", "proxy f: acl a http_auth_group(): no groups specified."],
    ["http_auth_group(L1) G1 G9", "proxy f: acl a http_auth_group(): invalid group 'G9'."],
  ]) {
    const { config, diagnostics: ds } = parseConfig(
      [{ name: "t.cfg", text: `${FE}  acl a ${acl}\n  http-request deny if a\n${USERLIST}` }],
      {},
    );
    assert.deepEqual(
      ds.filter((d) => d.level === "alert"),
      [],
    );
    await assert.rejects(
      Runtime.build(config),
      (e: unknown) => e instanceof ConfigError && e.message === message,
    );
  }
});
