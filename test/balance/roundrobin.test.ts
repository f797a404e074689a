import { test } from "node:test";
import assert from "node:assert/strict";
import { RoundRobin } from "../../src/balance/roundrobin.js";

interface Srv {
  name: string;
  weight: number;
  backup: boolean;
  maint: boolean;
  maxconn: number;
  /** Connects fail: the request is redispatched once, avoiding it. */
  dead: boolean;
  held: number;
  readonly usable: boolean;
  readonly saturated: boolean;
}

/** Servers as `a3` (weight 3), with `b` backup, `d` disabled, `mN` maxconn N, `x` dead. */
function servers(spec: string): Srv[] {
  return spec.split(" ").map((t) => {
    const m = /^([a-z])(\d+)(b?)(d?)(?:m(\d+))?(x?)$/.exec(t)!;
    return {
      name: m[1]!,
      weight: Number(m[2]),
      backup: m[3] === "b",
      maint: m[4] === "d",
      maxconn: Number(m[5] ?? 0),
      dead: m[6] === "x",
      held: 0,
      get usable() {
        return !this.maint && this.weight > 0;
      },
      get saturated() {
        return this.maxconn > 0 && this.held >= this.maxconn;
      },
    };
  });
}

/**
 * Replays what haproxy 2.6.12 was seen doing and writes down what Sluice does, in the same words:
 * each letter a request and the server that answered (`!`: 503), `(a)` a request held open on a,
 * `-a`/`+a` a into and out of maintenance, `r` the held requests answered.
 */
function replay(spec: string, allbackups: boolean, seen: string): string {
  const all = servers(spec);
  const rr = new RoundRobin(all, allbackups);
  const byName = (n: string) => all.find((s) => s.name === n)!;
  const pick = (): Srv | undefined => {
    const s = rr.pick(undefined);
    return s?.dead ? rr.pick(s) : s;
  };
  const out: string[] = [];
  for (const word of seen.split(" ")) {
    if (word === "r") {
      for (const s of all) s.held = 0;
      out.push("r");
    } else if (word[0] === "-" || word[0] === "+") {
      const s = byName(word[1]!);
      s.maint = word[0] === "-";
      if (s.maint) rr.down(s);
      else rr.up(s);
      out.push(word);
    } else {
      let run = "";
      for (const [, held] of word.matchAll(/\((.)\)|./g)) {
        const s = pick();
        const name = !s || s.dead ? "!" : s.name;
        if (held) {
          if (s) s.held++;
          run += `(${name})`;
        } else run += name;
      }
      out.push(run);
    }
  }
  return out.join(" ");
}

// Recorded from haproxy 2.6.12 (`balance roundrobin`, `disable server`/`enable server` on the
// stats socket, held requests on servers with maxconn, dead servers with `retries 1` and
// `option redispatch`).
const RECORDED: [string, string][] = [
  ["a1 b3", "bbbabbbabbbabbbabbbabbba"],
  ["a256 b100 c100 d100", "abacadabacda -d bacaabacabaca +d abacadbacadab -c aadabaadabad -a bbdbdbdbdbd -d"],
  [
    "a1b b3b c5 d7",
    "ddcdcdcdd -d ccccccccccccccccc -c aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa +c",
  ],
  [
    "a10 b10 c2d d3 e5x f1dx allbackups",
    "abababdababa -f bdabababadbabababdababab +f dababababdabababdababa",
  ],
  ["a1bx b100 c1x d1 e5 allbackups", "bb -b eeeee -e dddddddd +e eedeeeeedeeeeedeeeeedeeeeedeeeeedeeee"],
  [
    "a7m1 b7m1 c2m1 d2m2 e5m1",
    "abeabc(a)ebbedb(e)c(b)dcdcdc(d)cdcdc(d)ccc -d ccccccccccccc -c !!!!! r babaeb r",
  ],
  ["a1m2 b16m1 c3bm2 d1m1 e100bm2", "bbb(b)ad(a)da +b dadadadada(d)aaaaaa(a)!!!!(!)!! r bbbbbbbba r r"],
];

test("roundrobin: servers come in haproxy's order, through maintenance, saturation and redispatch", () => {
  for (const [spec, seen] of RECORDED) {
    const allbackups = spec.endsWith(" allbackups");
    const s = allbackups ? spec.slice(0, -" allbackups".length) : spec;
    assert.equal(replay(s, allbackups, seen), seen, spec);
  }
});
