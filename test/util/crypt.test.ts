import { test } from "node:test";
import assert from "node:assert/strict";
import { crypt, cryptScheme } from "../../src/util/crypt.js";

// Every expected hash below is what the system's libxcrypt (4.4.33) crypt() returned for the same
// password bytes and setting; the "Hello world!" ones are also the vectors in Drepper's
// specification, and openssl passwd gives the same for those and for $1$saltsalt.

const text = (s: string): Buffer => Buffer.from(s, "latin1");
/** The first `n` bytes of a run of letters and digits. */
const run = (n: number): Buffer =>
  text("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+-".repeat(8).slice(0, n));
/** 80 bytes, 0x30 to 0x7f: longer than any of the digests. */
const BYTES_80 = Buffer.from(Array.from({ length: 80 }, (_, i) => 0x30 + i));
/** UTF-8 "é" and "€", bytes that are not UTF-8, DEL, a control byte and a space. */
const NON_ASCII = Buffer.from("c3a9ff807f0120e282ac", "hex");

type Vector = [name: string, password: Buffer, setting: string, expected: string];

const MD5: Vector[] = [
  ["password", text("password"), "$1$saltsalt", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"],
  ["empty password", text(""), "$1$abcdefgh", "$1$abcdefgh$M55TzYaaccxVGbptZWaxX/"],
  ["16-byte password", run(16), "$1$x7Gq/Z.1", "$1$x7Gq/Z.1$dboqh1Y8XOVzTBz7/SWwH1"],
  ["32-byte password", run(32), "$1$s32", "$1$s32$4JFjqjT/jTHdN1jDISIPD0"],
  ["64-byte password", run(64), "$1$s64", "$1$s64$fYSWWSNrS.ucLgyzOIL.w."],
  ["80-byte password", BYTES_80, "$1$long", "$1$long$omU5AindDe15t0dF2A2Gg0"],
  ["non-ASCII password", NON_ASCII, "$1$n0n", "$1$n0n$oeDrRtRCOnIJgW3MRGWL.."],
  ["salt over 8 characters", text("secret"), "$1$saltsaltXYZ", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"],
  ["empty salt", text("secret"), "$1$", "$1$$ysVNzQc4CTMkp5daOdZ.3/"],
  [
    "stored hash as setting",
    text("secret"),
    "$1$abc$iCQ2D3nhptRYi27fDYv2s1",
    "$1$abc$iCQ2D3nhptRYi27fDYv2s1",
  ],
  ["wrong password", text("wrong"), "$1$abc$iCQ2D3nhptRYi27fDYv2s1", "$1$abc$Z9yz0nNhVkYIU1yWXKv9U1"],
];

const SHA256: Vector[] = [
  [
    "Drepper's vector",
    text("Hello world!"),
    "$5$saltstring",
    "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
  ],
  ["empty password", text(""), "$5$saltstring", "$5$saltstring$FdNfA4gXqvCeO6iZs7G/.wwwoywYZqo0l1pwmfWaBA7"],
  [
    "16-byte password",
    run(16),
    "$5$rounds=1000$s16",
    "$5$rounds=1000$s16$05KMp3k2rGhoKVRDrO14.oG.Uc3Nip6U3VBTcA0zTM.",
  ],
  [
    "32-byte password",
    run(32),
    "$5$rounds=1000$s32",
    "$5$rounds=1000$s32$RY58zB.jAvCsoMDpquuzAvcLV/QkimaoVMAgw3mwStD",
  ],
  [
    "64-byte password",
    run(64),
    "$5$rounds=1000$s64",
    "$5$rounds=1000$s64$aIS.5e8PhzpfurXFfRTS3Y7mwTJVRxcg4KvXOOH9yP9",
  ],
  ["80-byte password", BYTES_80, "$5$long", "$5$long$uo/eHw5iwaZI/TO4//0GR.a4ouM8NQVMNvnh4AT0Iv2"],
  [
    "non-ASCII password",
    NON_ASCII,
    "$5$rounds=1000$n0n",
    "$5$rounds=1000$n0n$ii.IkPbnK9SMpqY4raTpLsXAgnzavWLgL5RCcYIpIrB",
  ],
  [
    "salt over 16 characters, then a hash",
    text("secret"),
    "$5$rounds=1000$0123456789abcdefXYZ$junk",
    "$5$rounds=1000$0123456789abcdef$oUHx2xFtuyubiiCcMGG7UUd1yBfHmGWG5hHZIbG9Fn8",
  ],
  ["empty salt", text("secret"), "$5$", "$5$$o1w7HPzHt8gHmL5zUzDkRqt6Az.BjDfkvuDNNLWnXx5"],
  [
    "rounds=1000",
    text("secret"),
    "$5$rounds=1000$salt",
    "$5$rounds=1000$salt$CCvcOM6b7TEJDPb37Aec/9UpOg4QhPNAxPpL9ZzjTB7",
  ],
  [
    "rounds=1001",
    text("secret"),
    "$5$rounds=1001$salt",
    "$5$rounds=1001$salt$rf6yLNJTz4frHyQJq1z/73o0uK.tHrWFXb.I5WBrTLC",
  ],
  [
    "rounds=5000 given is kept in the output",
    text("secret"),
    "$5$rounds=5000$salt",
    "$5$rounds=5000$salt$kpa26zwgX83BPSR8d7w93OIXbFt/d3UOTZaAu5vsTM6",
  ],
  [
    "rounds, then an empty salt",
    text("secret"),
    "$5$rounds=1000$",
    "$5$rounds=1000$$Obg7IOH5MYGbPhIPrPkPleaehbt86.IKR69wHoi1R94",
  ],
];

const SHA512: Vector[] = [
  [
    "Drepper's vector",
    text("Hello world!"),
    "$6$saltstring",
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
  ],
  [
    "empty password",
    text(""),
    "$6$saltstring",
    "$6$saltstring$kyGrqt6gmjAdtFLPrflEFifSYLCWWq1pyx95SvqinLDy2UHmj0sTF0MSLMwxPFZc3tu5kQckI8fks0zOPda3n1",
  ],
  [
    "16-byte password",
    run(16),
    "$6$rounds=1000$s16",
    "$6$rounds=1000$s16$.VaQFQHllEnpCQ3jgSMAwHIVezKSQEQlMVGgyHLSVdkp5T1R4sVhXhgxVP1rmIHs0tGPpi2soFYEaijRjtUtz1",
  ],
  [
    "32-byte password",
    run(32),
    "$6$rounds=1000$s32",
    "$6$rounds=1000$s32$9tmpnA6tuB3IzOCCugUksCB3aRZqMlX6yeRViNJ0sWC4YYXbCuvSHuWG9J62skcBxRuBYY774SYOp7LibYcQg1",
  ],
  [
    "64-byte password",
    run(64),
    "$6$rounds=1000$s64",
    "$6$rounds=1000$s64$lruyn9CL1J5y1m6aqIY9W0C865mrN.YZB/SnLg9I1wWxoOZjRqPFukHsbqkoxlGGeOXOJh83dtbKtdmL5Etmb0",
  ],
  [
    "80-byte password",
    BYTES_80,
    "$6$long",
    "$6$long$xvODesWD8GfpPXCfZuBIUTA8f7Qqf/LO2olDXh3vxdXvClh7.ryEYc.iZS7IMQQgWXxh13hW38ADX6IJYnek20",
  ],
  [
    "128-byte password",
    run(128),
    "$6$rounds=1000$s128",
    "$6$rounds=1000$s128$.uvDsg//UEpXPDibPrrKsvqFBFRsf7vgvvoZI/v4OT0Xaa9b/L5b9o.CWzs5Svh8bVVAU5YHvD8WA7uLlvJEN1",
  ],
  [
    "511-byte password, the longest libxcrypt takes",
    run(511),
    "$6$rounds=1000$max",
    "$6$rounds=1000$max$PtPtQjAiiPOjs674NZ/BrmX519XafVNN7ummwY6s3gmWN6ksoeAkqEpTfxg45ita0KJhuiyZS5WsqwW1r3QIw1",
  ],
  [
    "non-ASCII password",
    NON_ASCII,
    "$6$rounds=1000$n0n",
    "$6$rounds=1000$n0n$1ST3/ou8Lpe4sFYTNqVKR8lb0D.5tQ17Owcd2/TNsWY3dnuDRggPtN3.An//9Z6Z2SWyX2iqQmn3IqcA1YiJR0",
  ],
  [
    "salt over 16 characters",
    text("secret"),
    "$6$0123456789abcdefXYZ",
    "$6$0123456789abcdef$8CGkKDSyVpVlVNcs5PssRw/Tb8EgfecuA6D/zsRQFumJaU.s8KgTWWc2HfgkB7h2n1qIKiJFeSyUFrwvhILXy.",
  ],
  [
    "empty salt",
    text("secret"),
    "$6$",
    "$6$$2M9DchxW4txWyTYoZrH9D3VvAAQxBpEezYsLY6Cao.jwzEXpyL9xwip9hiUZX7GqTqe/E/z6iKvZqXUuqniQH.",
  ],
  [
    "rounds=1000",
    text("secret"),
    "$6$rounds=1000$salt",
    "$6$rounds=1000$salt$HNxBeBnDfSfUrTj6KiLnmd7tGCvHEmcExh8kl/S0cZ5WrCciNZgfhbpkeFQ4JfkHX.8vPq45lY0iINnCx1Lkm.",
  ],
  [
    "rounds=1000, empty password",
    text(""),
    "$6$rounds=1000$salt",
    "$6$rounds=1000$salt$8.6rbmbp5x0d6GHKoit3wSooHPfMEY9cwCpDMr6.bC46HXi1Eqr7xqKZ9RPwaFW/eCyoUBBNRq1xG/f612CuH0",
  ],
  [
    "ROUNDS= in capitals is salt",
    text("secret"),
    "$6$ROUNDS=1000$x",
    "$6$ROUNDS=1000$LKZHHBQeoI72heprG2T.EuYDQ2By1NL0FYVdqo5SNXQ0DHJkf61FqTdefS3ommJXF92R6fA2Y7Q/9Razk/coo.",
  ],
  [
    "a second rounds= is salt",
    text("secret"),
    "$6$rounds=1000$rounds=500$x",
    "$6$rounds=1000$rounds=500$Tf5mMkSz510mJZB2iC7Z73UueEnJYcdEnBmiRIgnsU1hEksVkRSNYc6ocqABWYdm7X5NysyhsupGOIn5N9gdB.",
  ],
  [
    "punctuation in the salt",
    text("secret"),
    '$6$rounds=1000$a#"~{}',
    '$6$rounds=1000$a#"~{}$0GjZI3WiIwaJO2/tbh4DTnt10mO6l71IuhPZwaZWcHLy7uusv5k/XAutRmigE0u10D8SInnBaagRyGvtcqgEr.',
  ],
];

for (const [scheme, vectors] of [
  ["$1$", MD5],
  ["$5$", SHA256],
  ["$6$", SHA512],
] as const) {
  test(`crypt ${scheme} matches libxcrypt`, () => {
    for (const [name, password, setting, expected] of vectors) {
      assert.equal(crypt(password, setting), expected, name);
    }
  });
}

test("crypt refuses what libxcrypt refuses, with a string no stored hash equals", () => {
  const refused = [
    // rounds outside [1000, 999999999] are refused, not clamped as glibc did
    "$6$rounds=500$salt",
    "$6$rounds=999$salt",
    "$5$rounds=0$salt",
    "$6$rounds=1000000000$salt",
    // rounds= that is not a plain decimal number followed by "$"
    "$6$rounds=abc$salt",
    "$6$rounds=01000$salt",
    "$6$rounds=$salt",
    "$6$rounds=+1000$salt",
    "$6$rounds=1000salt",
    "$6$rounds=1000",
    // characters libxcrypt takes nowhere in a setting, even after the salt
    "$6$sa:lt",
    "$1$sa lt",
    "$6$salt$ha;sh",
    "$5$sa\\lt",
    "$1$sa!lt",
    "$6$sa*lt",
    "$6$sa\tlt",
    "$6$saélt",
  ];
  for (const setting of refused) assert.equal(crypt(text("secret"), setting), "*0", setting);
  // 512 bytes and more: libxcrypt's limit, for every scheme
  for (const setting of ["$1$salt", "$5$salt", "$6$salt"]) {
    assert.equal(crypt(Buffer.alloc(512, 0x61), setting), "*0", setting);
  }
});

test("crypt reads the password only up to a NUL byte, as C's crypt(3) does", () => {
  const expected =
    "$6$rounds=1000$nul$t/69B2AMzMwTUlRfv319bBjdO3hSQHO9iul3VokT6l7UiCwIZrtDTRxU38fbRUJ5vkDSiUxF8OPYbtuaMIyKw0";
  assert.equal(crypt(text("abc\0def"), "$6$rounds=1000$nul"), expected);
  assert.equal(crypt(text("abc"), "$6$rounds=1000$nul"), expected);
  // a NUL past the 512-byte limit still leaves too long a password
  assert.equal(crypt(Buffer.concat([Buffer.alloc(600, 0x61), Buffer.alloc(1)]), "$1$s"), "*0");
});

test("crypt returns undefined for schemes that are not ours", () => {
  for (const setting of [
    "$2b$10$abcdefghijklmnopqrstuu",
    "$y$j9T$salt$hash",
    "ab01FAX.bQRSU",
    "",
    "$6",
    "$7$x",
  ]) {
    assert.equal(crypt(text("secret"), setting), undefined, setting);
  }
});

test("cryptScheme names the scheme by its prefix", () => {
  assert.equal(cryptScheme("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"), "md5");
  assert.equal(cryptScheme("$5$rounds=1000$salt$CCvcOM6b7TEJDPb37Aec/9UpOg4QhPNAxPpL9ZzjTB7"), "sha256");
  assert.equal(cryptScheme("$6$$2M9DchxW4txWyTYoZrH9D3VvAAQxBpEezYsLY6Cao"), "sha512");
  assert.equal(cryptScheme("$1$"), "md5");
  for (const stored of [
    "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
    "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
    "ab01FAX.bQRSU",
    "",
    "$6",
    "$1",
    "$$",
    "6$salt$hash",
  ]) {
    assert.equal(cryptScheme(stored), undefined, stored);
  }
});
