// The digest, checksum and encoding converters. Every expected value below is what haproxy 2.6.12
// (OpenSSL 3.0) gave for the same expression, argument or input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileLogFormat, formatFor } from "../../src/log/log-format.js";
import { Scope, Vars } from "../../src/acl/vars.js";
import { Sample, T } from "../../src/acl/sample.js";
import { crc32c, xxh3, xxh32, xxh64 } from "../../src/acl/digest-conv.js";
import { ctx } from "./head.js";

const REQUEST = `GET / HTTP/1.1
Host: x`;

function evaluator() {
  const vars = new Vars(new Map());
  const c = ctx(REQUEST, { vars });
  const set = (name: string, value: string | number, type: T) => {
    const smp = new Sample();
    if (typeof value === "number") smp.setInt(value, type);
    else smp.setStr(value, type);
    vars.set({ scope: Scope.Txn, name }, smp, 0);
  };
  set("k", "Zm9v", T.Str);
  set("badkey", "Zm9", T.Str);
  // "Zm9v", a NUL, then more: as text, the key ends at the NUL.
  set("binkey", "Zm9v\0Z", T.Bin);
  set("s", "abc", T.Str);
  set("i", 7, T.Int);
  set("b", "a\0b", T.Bin);
  set("n", "qrvM3e7/ABEiM0RV", T.Str);
  set("key", "AAECAwQFBgcICQoLDA0ODw==", T.Str);
  set("tag", "1QsDXZKZScBkxpmorEuRTg==", T.Str);
  // 14000 printable bytes, as a request body haproxy was sent.
  set("big", String.fromCharCode(...Array.from({ length: 14000 }, (_, i) => 32 + ((i * 7 + 3) % 95))), T.Str);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  return (f: string) => formatFor(compileLogFormat(f, "request", fail), c);
}

test("digests and MACs give haproxy 2.6.12's bytes; an algorithm OpenSSL lacks gives no sample", () => {
  const fmt = evaluator();
  const rows: [string, string][] = [
    ["%[str(abc),sha1,hex]", "A9993E364706816ABA3E25717850C26C9CD0D89D"],
    ["%[int(5),sha1,hex]", "216A788021417AD345B1B1EE10753127C457AFC0"],
    ["%[str(abc),sha2,hex]", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"],
    ["%[str(abc),sha2(224),hex]", "23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7"],
    ["%[str(abc),digest(SHA3-256),hex]", "3A985DA74FE225B2045C172D6BD390BD855F086E3E9D525B46BFE24511431532"],
    ["%[str(abc),digest(shake128),hex]", "5881092DD818BF5CF8A3DDB793FBCBA7"],
    ["%[str(abc),digest(md4),length]", ""],
    ["%[str(abc),hmac(sha256,Zm9v),hex]", "2FEBDE8CAD3B3E67067BC8784B1BCF966529C89A999E6C430B9CD536E3A16B52"],
    [
      "%[str(abc),hmac(sha256,txn.k),hex]",
      "2FEBDE8CAD3B3E67067BC8784B1BCF966529C89A999E6C430B9CD536E3A16B52",
    ],
    [
      "%[str(abc),hmac(sha256,txn.binkey),hex]",
      "2FEBDE8CAD3B3E67067BC8784B1BCF966529C89A999E6C430B9CD536E3A16B52",
    ],
    ["%[str(abc),hmac(sha1,),hex]", "9B4A918F398D74D3E367970ABA3CBE54E4D2B5D9"],
    // A quartet may follow a padded one: the key is "AABC".
    ["%[str(abc),hmac(md5,QQ==QUJD),hex]", "C9FE2711441522A55CDAB8B0C095AEDD"],
    ["%[str(abc),hmac(sha256,txn.badkey),length]", ""],
    ["%[str(abc),hmac(sha256,txn.unset),length]", ""],
    ["%[str(abc),hmac(shake128,Zm9v),length]", ""],
    [
      "%[str(abc),secure_memcmp(txn.s)] %[str(abd),secure_memcmp(txn.s)] %[str(ab),secure_memcmp(txn.s)]",
      "1 0 0",
    ],
    ["%[int(7),secure_memcmp(txn.i)] %[str(7),secure_memcmp(txn.i)]", "1 0"],
    ["%[bin(610062),secure_memcmp(txn.b)] %[str(abc),secure_memcmp(txn.unset),length]", "1 "],
  ];
  for (const [format, want] of rows) assert.equal(fmt(format), want, format);
});

test("aes_gcm_dec decrypts as haproxy 2.6.12 does: short tags, long keys, variables", () => {
  const fmt = evaluator();
  const ct = "bin(11af0fc8e1eb7e79f4d21d0e)";
  const [n, k] = ["qrvM3e7/ABEiM0RV", "AAECAwQFBgcICQoLDA0ODw=="];
  const rows: [string, string][] = [
    [`%[${ct},aes_gcm_dec(128,${n},${k},1QsDXZKZScBkxpmorEuRTg==)]`, "secret text!"],
    [`%[${ct},aes_gcm_dec(128,${n},${k},1QsDXZI=)]`, "secret text!"],
    [`%[${ct},aes_gcm_dec(128,${n},${k},1Q==)]`, "secret text!"],
    [`%[${ct},aes_gcm_dec(128,${n},${k},1QsDXZKZScBkxpmorEuRTw==),length]`, ""],
    [`%[${ct},aes_gcm_dec(128,${n},${k},1QsDXZKZScBkxpmorEuRTgE=),length]`, ""],
    [
      `%[${ct},aes_gcm_dec(128,${n},AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,1QsDXZKZScBkxpmorEuRTg==)]`,
      "secret text!",
    ],
    [`%[${ct},aes_gcm_dec(128,${n},AAECAwQFBgc=,1QsDXZKZScBkxpmorEuRTg==),length]`, ""],
    [`%[${ct},aes_gcm_dec(128,txn.n,txn.key,txn.tag)]`, "secret text!"],
    [`%[${ct},aes_gcm_dec(128,txn.unset,txn.key,txn.tag),length]`, ""],
    [`%[${ct},aes_gcm_dec(128,,${k},1QsDXZKZScBkxpmorEuRTg==),length]`, ""],
    [
      "%[bin(0faa3edc0ae2f6a8faac4c),aes_gcm_dec(256,qrvM3e7/ABEiM0RV,AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,YuiJNMJOlOoSbwij02WnNg==)]",
      "hello world",
    ],
  ];
  for (const [format, want] of rows) assert.equal(fmt(format), want, format);
});

test("encodings, be2dec, be2hex, hex2i, htonl, url_enc and cut_crlf as haproxy 2.6.12", () => {
  const fmt = evaluator();
  const rows: [string, string][] = [
    ["%[str(SGVsbG8=),b64dec] [%[str(SGVsbG8),b64dec,length]]", "Hello []"],
    ["%[str(QQ==QUJD),b64dec,hex] %[str(X===),b64dec,length] [%[str(====),b64dec,length]]", "41414243 0 []"],
    [
      "%[str(Q-_=),ub64dec,hex] %[str(Q-_),ub64dec,hex] %[str(Q==A),ub64dec,hex] [%[str(Q),ub64dec]]",
      "43EFFF 43EF 43FFC0 []",
    ],
    ["%[bin(fbff),ub64enc] %[bin(fb),ub64enc] %[int(1),ub64enc]", "-_8 -w AAAAAAAAAAE"],
    [
      "%[bin(01020304050607),be2dec(:,2)] %[bin(01020304050607),be2dec(-,2,1)]",
      "258:772:1286:7 258-772-1286",
    ],
    ["%[bin(ffffffffffffffffff),be2dec(:,8)] [%[bin(01),be2dec(:,2,1)]]", "18446744073709551615:255 []"],
    ["%[int(-1),be2dec(.,3)]", "16777215.16777215.65535"],
    [
      "%[bin(01020304050607),be2hex] %[bin(01020304050607),be2hex(--,2,1)]",
      "01020304050607 0102--0304--0506",
    ],
    [
      "%[bin(0102030405060708),be2hex(,3,1)] %[bin(0102030405060708),be2hex(,-3)]",
      "010203040506 0102030405060708",
    ],
    ["%[str(ff),hex2i] %[str(),hex2i] [%[str(xyz),hex2i]] [%[str(-1),hex2i]]", "255 0 [] []"],
    ["%[str(fffffffff),hex2i]", "68719476735"],
    ["%[int(1),htonl,hex] %[int(-1),htonl,hex] %[int(4294967297),htonl,hex]", "00000001 FFFFFFFF 00000001"],
    [
      "%[str(a b/c?d=&x~y.z_-),url_enc] %[str(a b),url_enc(query)] %[str(a\\tb),url_enc]",
      "a%20b%2Fc%3Fd%3D%26x~y.z_- a%20b a%09b",
    ],
    ["[%[str(abc\\r\\ndef),cut_crlf]] [%[str(\\nabc),cut_crlf]]", "[abc] []"],
    // Every byte but NUL (which ends the text that bytes are cast to).
    [
      "%[bin(0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff),url_enc]",
      "%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%20%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~%7F%80%81%82%83%84%85%86%87%88%89%8A%8B%8C%8D%8E%8F%90%91%92%93%94%95%96%97%98%99%9A%9B%9C%9D%9E%9F%A0%A1%A2%A3%A4%A5%A6%A7%A8%A9%AA%AB%AC%AD%AE%AF%B0%B1%B2%B3%B4%B5%B6%B7%B8%B9%BA%BB%BC%BD%BE%BF%C0%C1%C2%C3%C4%C5%C6%C7%C8%C9%CA%CB%CC%CD%CE%CF%D0%D1%D2%D3%D4%D5%D6%D7%D8%D9%DA%DB%DC%DD%DE%DF%E0%E1%E2%E3%E4%E5%E6%E7%E8%E9%EA%EB%EC%ED%EE%EF%F0%F1%F2%F3%F4%F5%F6%F7%F8%F9%FA%FB%FC%FD%FE%FF",
    ],
    ["%[str(abc),crc32c] %[str(abc),crc32c(1)] %[str(123456789),crc32c]", "910901175 1285784220 3808858755"],
    ["%[str(abc),xxh32] %[str(abc),xxh32(5)]", "852579327 1562728233"],
  ];
  for (const [format, want] of rows) assert.equal(fmt(format), want, format);
});

test("haproxy's limits: results stop, or fail, where its 16 kB chunk is full", () => {
  const fmt = evaluator();
  const rows: [string, string][] = [
    ["%[var(txn.big),be2dec(.,1),length] %[var(txn.big),be2dec(,8),length]", "16382 16378"],
    ["%[var(txn.big),be2hex(:,1),length] %[var(txn.big),be2hex(---,7),length]", "16382 16368"],
    ["%[var(txn.big),bytes(0,8192),be2hex,length] %[var(txn.big),url_enc,length]", "16384 16383"],
    ["%[var(txn.big),bytes(0,12000),ub64enc,length] [%[var(txn.big),bytes(0,12287),ub64enc]]", "16000 []"],
  ];
  for (const [format, want] of rows) assert.equal(fmt(format), want, format);
});

test("xxh32, xxh64, xxh3 and crc32c over lengths that take each path of the algorithms", () => {
  const input = (n: number) =>
    Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255)).toString("latin1");
  const seedM7 = BigInt.asUintN(64, -7n);
  // length: xxh32, xxh64(-7), xxh3, xxh3(123456789012), crc32c, as haproxy's signed integers.
  const rows: [number, number, string, string, string, number][] = [
    [0, 46947589, "3595746562089524016", "3244421341483603138", "2718353992561311042", 0],
    [2, 4082195829, "-7539563640922453765", "2058273368586827884", "-4938311350060837622", 2925852531],
    [7, 4087942832, "-8750161140299819379", "-8177813798836339154", "3351296552119015538", 2775592022],
    [15, 2194917453, "6376188002333361612", "-7007203045674962495", "-3969829459882595348", 2418589733],
    [100, 1929976397, "4032145852423413900", "-5362810412169982817", "4095657560088774894", 1498094437],
    [200, 678484906, "2365095172346436986", "8389308914288017243", "4468692340226549402", 184462485],
    [240, 1665287062, "984543044117405355", "7229805477010515663", "-9058658074576873504", 3205306219],
    [241, 1618648159, "8728862281525167093", "-8364630114420064745", "5347129536101695043", 729115132],
    [1025, 3970940781, "5760522365647398467", "-9192937061388044938", "6269259477272689658", 2993343998],
    [2049, 1610881371, "7025547236288478762", "6174105427284153526", "2957492856854852572", 4220016772],
  ];
  const signed = (h: bigint) => BigInt.asIntN(64, h).toString();
  for (const [len, h32, h64, h3, h3s, crc] of rows) {
    const s = input(len);
    assert.deepEqual(
      [xxh32(s, 0), signed(xxh64(s, seedM7)), signed(xxh3(s, 0n)), signed(xxh3(s, 123456789012n)), crc32c(s)],
      [h32, h64, h3, h3s, crc],
      `length ${len}`,
    );
  }
});

test("the converters' arguments are refused in haproxy 2.6.12's words", () => {
  const fmt = evaluator();
  const BASE64 = "argument needs to be base64 encoded, and can either be a string or a variable";
  const refusals: [string, string][] = [
    ["str(a),sha2(100)", "invalid args in converter 'sha2' : Unsupported number of bits: '100'"],
    ["str(a),sha2(0)", "invalid args in converter 'sha2' : Unsupported number of bits: '0'"],
    [
      "str(a),digest(mdc2)",
      "invalid args in converter 'digest' : algorithm must be a valid OpenSSL message digest name.",
    ],
    [
      "str(a),digest",
      "invalid args in converter 'digest' : algorithm must be a valid OpenSSL message digest name.",
    ],
    [
      "str(a),hmac(foo,Zm9v)",
      "invalid args in converter 'hmac' : algorithm must be a valid OpenSSL message digest name.",
    ],
    ["str(a),hmac(sha256,Zm9v=)", `invalid args in converter 'hmac' : failed to parse key : ${BASE64}`],
    ["str(a),hmac(sha256,txn.a-b)", `invalid args in converter 'hmac' : failed to parse key : ${BASE64}`],
    ["str(a),secure_memcmp", "invalid args in converter 'secure_memcmp' : missing variable name"],
    [
      "str(a),secure_memcmp(foo)",
      "invalid args in converter 'secure_memcmp' : failed to register variable name 'foo'",
    ],
    ["str(a),be2dec(:)", "invalid args in converter 'be2dec' : chunk_size out of [1..8] range (0)"],
    ["str(a),be2dec(:,9)", "invalid args in converter 'be2dec' : chunk_size out of [1..8] range (9)"],
    ["str(a),be2dec(:,2,2)", "invalid args in converter 'be2dec' : Unsupported truncate value (2)"],
    ["str(a),be2hex(:)", "invalid args in converter 'be2hex' : chunk_size needs to be positive (0)"],
    ["str(a),be2hex(,0,1)", "invalid args in converter 'be2hex' : chunk_size needs to be positive (0)"],
    ["str(a),be2hex(,2,3)", "invalid args in converter 'be2hex' : Unsupported truncate value (3)"],
    [
      "str(a),url_enc(QUERY)",
      "invalid args in converter 'url_enc' : Unexpected encode type. Allowed value is 'query'",
    ],
    [
      "str(a),aes_gcm_dec(100,a,b,c)",
      "invalid args in converter 'aes_gcm_dec' : key size must be 128, 192 or 256 (bits).",
    ],
    [
      "str(a),aes_gcm_dec(128,abc,AAAA,AAAA)",
      `invalid args in converter 'aes_gcm_dec' : failed to parse nonce : ${BASE64}`,
    ],
    [
      "str(a),aes_gcm_dec(128,AAAA,abc,AAAA)",
      `invalid args in converter 'aes_gcm_dec' : failed to parse key : ${BASE64}`,
    ],
    [
      "str(a),aes_gcm_dec(128,AAAA,AAAA,a)",
      `invalid args in converter 'aes_gcm_dec' : failed to parse aead_tag : ${BASE64}`,
    ],
  ];
  for (const [expr, reason] of refusals)
    assert.throws(
      () => fmt(`%[${expr}]`),
      { message: `failed to parse sample expression <${expr}]> : ${reason}` },
      expr,
    );
  // Accepted: an algorithm OpenSSL knows but has not loaded, empty keys, be2hex's defaults.
  for (const expr of [
    "str(a),digest(md4)",
    "str(a),hmac(sha256,)",
    "str(a),be2hex(,-2)",
    "str(a),url_enc",
    "str(a),aes_gcm_dec(128,,,)",
  ])
    assert.doesNotThrow(() => fmt(`%[${expr}]`), expr);
});
