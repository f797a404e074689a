// add-acl, del-acl, set-map and del-map: what later requests see of the pattern files they change,
// each answer as haproxy 2.6.12 gave it for the same configuration and requests.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULTS,
  alertsFor,
  exchange,
  httpBackend,
  scratchDir,
  scratchFile,
  startProxy,
} from "../helpers/harness.js";

const dir = scratchDir("pattern-actions");
const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stops) await stop();
});

/** The body of the answer to a GET of `path` with these headers. */
async function ask(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const lines = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`);
  const text = await exchange(
    port,
    `GET ${path} HTTP/1.1\r\nhost: h\r\n${lines.join("")}connection: close\r\n\r\n`,
  );
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

/** A change (a GET of `path` with x-v and x-w; none for an empty path), then what x-k gets answered. */
type Step = [path: string, v: string, w: string, k: string, seen: string];

async function play(port: number, steps: Step[]): Promise<void> {
  for (const [path, v, w, k, seen] of steps) {
    if (path !== "") await ask(port, path, { "x-k": "-", "x-v": v, "x-w": w });
    assert.equal((await ask(port, "/", { "x-k": k })).trim(), seen, `${path} ${v} ${w}, then ${k}`);
  }
}

async function start(text: string): Promise<number> {
  const p = await startProxy(text);
  stops.push(p.stop);
  return p.port;
}

/** A frontend whose answer says which ACLs matched header x-k and what its maps give for it. */
function frontend(acls: string[], rules: string[], answer: string): string {
  return `${DEFAULTS}frontend f
  bind 127.0.0.1:1
${acls.map((a) => `  acl ${a}\n`).join("")}${rules.map((r) => `  http-request ${r}\n`).join("")}  http-request set-var(txn.r) str(.)
${acls.map((a) => `  http-request set-var(txn.r) var(txn.r),concat(${a.split(" ")[0]},,) if ${a.split(" ")[0]}\n`).join("")}  http-request return status 200 content-type text/plain lf-string "acl=%[var(txn.r)] ${answer}"
`;
}

test("add-acl and del-acl change every ACL of the file, each with its flags and method (-M: a map's keys)", async () => {
  const a = scratchFile(dir, "a.lst", "foo\nfoo\nbar\n");
  const r = scratchFile(dir, "r.lst", "^ab+c$\n");
  const ip = scratchFile(dir, "ip.lst", "10.0.0.0/8\n");
  const b = scratchFile(dir, "b.lst", "/api\n");
  const e = scratchFile(dir, "e.lst", "");
  const m = scratchFile(dir, "keys.map", "k1 v1\n");
  const files = { a, r, ip, b, e };
  const port = await start(
    frontend(
      [
        `s hdr(x-k) -f ${a}`,
        `i hdr(x-k) -i -f ${a}`,
        `c hdr(x-k) -f ${a} inl`,
        `g hdr(x-k) -m reg -f ${r}`,
        `p hdr(x-k) -m ip -f ${ip}`,
        `b hdr(x-k) -m beg -f ${b}`,
        `e hdr(x-k) -f ${e}`,
        `k hdr(x-k) -M -f ${m}`,
      ],
      [
        ...Object.entries(files).flatMap(([n, f]) => [
          `add-acl(${f}) %[req.hdr(x-v)] if { path /add/${n} }`,
          `del-acl(${f}) %[req.hdr(x-v)] if { path /del/${n} }`,
        ]),
        `set-map(${m}) %[req.hdr(x-v)] %[req.hdr(x-w)] if { path /set/m }`,
        `del-map(${m}) %[req.hdr(x-v)] if { path /del/m }`,
      ],
      "",
    ),
  );
  await play(port, [
    ["", "", "", "foo", "acl=.sic"],
    ["", "", "", "FOO", "acl=.i"],
    ["/add/a", "FOO", "", "FOO", "acl=.sic"],
    ["", "", "", "Foo", "acl=.i"],
    // Added twice, there once: one del-acl takes it out, "foo" still matching it with -i.
    ["/add/a", "FOO", "", "FOO", "acl=.sic"],
    ["/del/a", "FOO", "", "FOO", "acl=.i"],
    // Every entry with the key goes, those of the file too; the patterns written stay.
    ["/del/a", "foo", "", "foo", "acl=."],
    ["/del/a", "inl", "", "inl", "acl=.c"],
    // A regex, a network, a prefix; an empty file's ACL matches once it has a pattern.
    ["/add/r", "^zz", "", "zzt", "acl=.g"],
    ["/add/ip", "192.168.0.0/16", "", "192.168.5.5", "acl=.p"],
    ["/add/b", "/v2", "", "/v2/x", "acl=.b"],
    ["/add/e", "hello", "", "hello", "acl=.e"],
    // A pattern the ACL's method cannot read is not added; a network is deleted as written.
    ["/add/r", "(", "", "(", "acl=."],
    ["/add/ip", "notanip", "", "notanip", "acl=."],
    ["/del/ip", "10.0.0.0/255.0.0.0", "", "10.1.1.1", "acl=.p"],
    ["/del/ip", "10.0.0.0/8", "", "10.1.1.1", "acl=."],
    // With -M, a map's keys: set-map and del-map change them.
    ["", "", "", "k1", "acl=.k"],
    ["", "", "", "k1 v1", "acl=."],
    ["/set/m", "k2", "v2", "k2", "acl=.k"],
    ["/del/m", "k1", "", "k1", "acl=."],
  ]);
});

test("set-map replaces or adds, del-map deletes, for every map converter of the file", async () => {
  const m = scratchFile(dir, "m.map", "k1 v1\nk1 v1b\nk2 v2\n");
  const mr = scratchFile(dir, "mr.map", "^a a-first\n");
  const mi = scratchFile(dir, "mi.map", "10 100\n");
  const mip = scratchFile(dir, "mip.map", "10.0.0.0/8 ten\n");
  const a = scratchFile(dir, "acl.lst", "foo\n");
  const port = await start(
    frontend(
      [`a hdr(x-k) -f ${a}`],
      [
        ...Object.entries({ m, mr, mi, mip, a }).flatMap(([n, f]) => [
          `set-map(${f}) %[req.hdr(x-v)] %[req.hdr(x-w)] if { path /set/${n} }`,
          `del-map(${f}) %[req.hdr(x-v)] if { path /del/${n} }`,
        ]),
        `add-acl(${m}) %[req.hdr(x-v)] if { path /add/m }`,
        `set-map(${m}) %[req.hdr(x-v)] "%[req.hdr(x-w)] two  words " if { path /spaces/m }`,
      ],
      [
        `m=[%[req.hdr(x-k),map(${m},none)]]`,
        `b=%[req.hdr(x-k),map_beg(${m},none)]`,
        `r=%[req.hdr(x-k),map_reg(${mr},none)]`,
        `i=%[req.hdr(x-k),map_int_int(${mi},-1)]`,
        `ip=%[req.hdr(x-k),map_ip(${mip},none)]`,
        `ips=%[req.hdr(x-k),map_str(${mip},none)]`,
      ].join(" "),
    ),
  );
  const key = async (k: string) => (await ask(port, "/", { "x-k": k })).trim();
  const run = (path: string, v: string, w = "") => ask(port, path, { "x-k": "-", "x-v": v, "x-w": w });
  await play(port, [
    ["", "", "", "k1", "acl=. m=[v1] b=v1 r=none i=-1 ip= ips=none"],
    ["/set/m", "k1", "NEW", "k1", "acl=. m=[NEW] b=NEW r=none i=-1 ip= ips=none"],
    ["/set/m", "k3", "v3", "k3zz", "acl=. m=[none] b=v3 r=none i=-1 ip= ips=none"],
    ["/del/m", "nokey", "", "k2", "acl=. m=[v2] b=v2 r=none i=-1 ip= ips=none"],
    ["/del/m", "k1", "", "k1", "acl=. m=[none] b=none r=none i=-1 ip= ips=none"],
    // A new entry comes last: the first regex that matches still gives its value.
    ["/set/mr", "^abc", "added", "abc", "acl=. m=[none] b=none r=a-first i=-1 ip= ips=none"],
    ["/set/mr", "^z", "zed", "zz", "acl=. m=[none] b=none r=zed i=-1 ip= ips=none"],
    // A value or a key one converter cannot read changes nothing, for none of them.
    ["/set/mip", "notip", "v", "notip", "acl=. m=[none] b=none r=none i=-1 ip= ips=none"],
    ["/set/mip", "192.168.0.0/16", "net", "192.168.1.1", "acl=. m=[none] b=none r=none i=-1 ip=net ips=none"],
    // add-acl on a map's file: a key without a value, which a map gives as 1; set-map on an ACL's.
    ["/add/m", "k9", "", "k9", "acl=. m=[1] b=1 r=none i=-1 ip= ips=none"],
    ["/set/a", "qq", "ignored", "qq", "acl=.a m=[none] b=none r=none i=-1 ip= ips=none"],
    // The value as built, blanks and all; an empty one.
    ["/spaces/m", "k2", "W", "k2", "acl=. m=[W two  words ] b=W two  words  r=none i=-1 ip= ips=none"],
    ["/set/m", "k2", "", "k2", "acl=. m=[] b= r=none i=-1 ip= ips=none"],
  ]);
  // What map_int_int gives for key k once set-map has set v to w.
  const int = async (v: string, w: string, k: string) => {
    await run("/set/mi", v, w);
    return /i=(\S+)/.exec(await key(k))![1];
  };
  assert.equal(await int("10", "notint", "10"), "100");
  assert.equal(await int("20", "notint", "20"), "-1");
  assert.equal(await int("10", "7", "10"), "7");
});

test("http-response rules change the files from the response, and a file is named as written", async () => {
  const m = scratchFile(dir, "resp.map", "k1 v1\n");
  const a = scratchFile(dir, "resp.lst", "foo\n");
  // The same file under another name is another reference, which no ACL reads: nothing changes.
  const other = `${dir}/./resp.lst`;
  const server = await httpBackend("s", (req, res) => {
    res.setHeader("x-rk", "rkey");
    res.setHeader("x-rv", "rval");
    res.setHeader("x-ra", "fromres");
    res.end("served");
  });
  stops.push(server.close);
  const port = await start(`${DEFAULTS}frontend f
  bind 127.0.0.1:1
  acl a hdr(x-k) -f ${a}
  http-request add-acl(${other}) %[req.hdr(x-k)] if { path /other }
  http-request add-acl(${dir}/nothing.lst) %[req.hdr(x-k)] if { path /nothing }
  http-request set-var(txn.a) int(1) if a
  http-request return status 200 content-type text/plain lf-string "a=%[var(txn.a)] m=%[req.hdr(x-k),map(${m},none)]" unless { path_beg /resp }
  use_backend b
backend b
  http-response set-map(${m}) %[res.hdr(x-rk)] %[res.hdr(x-rv)]
  http-response add-acl(${a}) %[res.hdr(x-ra)] if { res.hdr(x-ra) -m found }
  server s 127.0.0.1:${server.port}
`);
  const key = async (k: string, path = "/") => (await ask(port, path, { "x-k": k })).trim();
  assert.equal(await key("fromres"), "a= m=none");
  await key("zz", "/other");
  await key("zz", "/nothing");
  assert.equal(await key("zz"), "a= m=none");
  assert.equal(await key("x", "/resp"), "served");
  assert.equal(await key("rkey"), "a= m=rval");
  assert.equal(await key("fromres"), "a=1 m=none");
});

test("each configuration has its files of its own: a change in one is not seen by another", async () => {
  const a = scratchFile(dir, "own.lst", "");
  const text = frontend([`s hdr(x-k) -f ${a}`], [`add-acl(${a}) %[req.hdr(x-k)] if { path /add }`], "");
  const one = await start(text);
  const two = await start(text);
  await ask(one, "/add", { "x-k": "k" });
  assert.equal((await ask(one, "/", { "x-k": "k" })).trim(), "acl=.s");
  assert.equal((await ask(two, "/", { "x-k": "k" })).trim(), "acl=.");
});

test("the actions' words, and a file read with one column and two, refused in haproxy's words", () => {
  const a = scratchFile(dir, "words.lst", "foo\n");
  const m = scratchFile(dir, "words.map", "k v\n");
  const rule = (r: string) => `error detected in frontend 'f' while parsing '${r}' rule :`;
  assert.deepEqual(alertsFor(`http-request add-acl(${a})`), [
    `${rule(`http-request add-acl(${a})`)} expects exactly 1 arguments.`,
  ]);
  assert.deepEqual(alertsFor(`http-request set-map(${m}) k`), [
    `${rule(`http-request set-map(${m})`)} expects exactly 2 arguments.`,
  ]);
  assert.deepEqual(alertsFor(`http-request set-map(${m}) "" v`), [
    `${rule(`http-request set-map(${m})`)} expects exactly 2 arguments.`,
  ]);
  assert.deepEqual(alertsFor(`http-request del-map(${m}) k v`), [
    `'http-request del-map(${m})' expects either 'if' or 'unless' followed by a condition but found 'v'.`,
  ]);
  assert.deepEqual(alertsFor(`http-request add-acl(${a}) %[res.hdr(x)]`), [
    `${rule(`http-request add-acl(${a})`)} sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here.`,
  ]);
  assert.deepEqual(alertsFor(`http-response set-map(${m}) k %[req.hdr(y)]`), [
    `${rule(`http-response set-map(${m})`)} sample fetch <req.hdr(y)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.`,
  ]);
  // haproxy would cut a file's name out of these too: Sluice takes only the documented form.
  for (const kw of ["add-acl", "add-acl(x", "del-mapx(x)"])
    assert.deepEqual(alertsFor(`http-request ${kw} k`), [
      `'http-request ${kw}' is not supported by sluice yet (supported: '${kw.slice(0, 7)}(<file-name>)')`,
    ]);
  // A name no ACL or map reads is no error: the rule then changes nothing.
  assert.deepEqual(alertsFor(`http-request add-acl(${dir}/none.lst) k`), []);
  assert.deepEqual(alertsFor(`http-after-response set-map(${m}) k v`), [
    `'http-after-response' expects 'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', but got 'set-map(${m})'.`,
  ]);
  const two = (f: string) =>
    `"${f}" is already used as two column file and cannot be used by as one column file..`;
  const one = (f: string) =>
    `"${f}" is already used as one column file and cannot be used by as two column file..`;
  assert.deepEqual(alertsFor(`acl x hdr(x) -f ${a}\n  acl y hdr(y),map(${a}) -m found`), [
    `error detected while parsing ACL 'y' : ACL keyword 'hdr' : invalid args in converter 'map' : The file ${one(a)}.`,
  ]);
  assert.deepEqual(alertsFor(`http-request set-var(txn.x) req.hdr(x),map(${m})\n  acl y hdr(y) -f ${m}`), [
    `error detected while parsing ACL 'y' : The file ${two(m)}`,
  ]);
  assert.deepEqual(alertsFor(`acl x hdr(x) -M -f ${a}\n  acl y hdr(y) -f ${a}`), [
    `error detected while parsing ACL 'y' : The file ${two(a)}`,
  ]);
  // -M reads the files that follow it as maps'.
  assert.deepEqual(alertsFor(`acl x hdr(y),map(${m}) -m found\n  acl y hdr(y) -f ${a} -M -f ${m}`), []);
});
