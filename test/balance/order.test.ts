import { test } from "node:test";
import assert from "node:assert/strict";
import type { Balancer } from "../../src/balance/balancer.js";
import { RoundRobin } from "../../src/balance/roundrobin.js";
import { LeastConn } from "../../src/balance/leastconn.js";
import { First } from "../../src/balance/first.js";

interface Srv {
  id: number;
  name: string;
  weight: number;
  backup: boolean;
  maint: boolean;
  maxconn: number;
  maxqueue: number;
  cur: number;
  queue: { length: number };
  /** Connects fail: the request is redispatched once, avoiding it. */
  dead: boolean;
  readonly usable: boolean;
  readonly saturated: boolean;
}

/** Servers as `a3` (weight 3), with `b` backup, `d` disabled, `mN` maxconn N, `qN` maxqueue N, `x` dead. */
function servers(spec: string): Srv[] {
  return spec.split(" ").map((t, i) => {
    const m = /^([a-z])(\d+)(b?)(d?)(?:m(\d+))?(?:q(\d+))?(x?)$/.exec(t)!;
    return {
      id: i + 1,
      name: m[1]!,
      weight: Number(m[2]),
      backup: m[3] === "b",
      maint: m[4] === "d",
      maxconn: Number(m[5] ?? 0),
      maxqueue: Number(m[6] ?? 0),
      dead: m[7] === "x",
      cur: 0,
      queue: { length: 0 },
      get usable() {
        return !this.maint && this.weight > 0;
      },
      get saturated() {
        return this.maxconn > 0 && (this.cur >= this.maxconn || this.queue.length > 0);
      },
    };
  });
}

type Algorithm = "roundrobin" | "leastconn" | "first";

/**
 * Replays what haproxy 2.6.12 was seen doing and writes down what Sluice does, in the same words:
 * each letter a request and the server that answered (`!`: 503, after waiting in a queue), `(a)` a
 * request held open on a, `-a`/`+a` a into and out of maintenance, `r` the held requests answered.
 */
function replay(algorithm: Algorithm, spec: string, seen: string): string {
  const allbackups = spec.endsWith(" allbackups");
  const all = servers(allbackups ? spec.slice(0, -" allbackups".length) : spec);
  const lb: Balancer<Srv> =
    algorithm === "roundrobin"
      ? new RoundRobin(all, allbackups)
      : algorithm === "leastconn"
        ? new LeastConn(all, allbackups)
        : new First(all, allbackups);
  const byName = (n: string) => all.find((s) => s.name === n)!;
  /** A slot on the server chosen, as RtBackend takes it; undefined when the request would wait. */
  const take = (): Srv | undefined => {
    let s = lb.pick(undefined);
    if (s?.dead) s = lb.pick(s);
    if (!s || s.dead || (s.maxconn > 0 && s.cur >= s.maxconn)) return undefined;
    s.cur++;
    lb.loadChanged(s);
    return s;
  };
  const drop = (s: Srv) => {
    s.cur--;
    lb.loadChanged(s);
  };
  const held: Srv[] = [];
  const out: string[] = [];
  for (const word of seen.split(" ")) {
    if (word === "r") {
      for (const s of held.splice(0)) drop(s);
      out.push("r");
    } else if (word[0] === "-" || word[0] === "+") {
      const s = byName(word[1]!);
      s.maint = word[0] === "-";
      if (s.maint) lb.down(s);
      else lb.up(s);
      out.push(word);
    } else {
      let run = "";
      for (const [, hold] of word.matchAll(/\((.)\)|./g)) {
        const s = take();
        const name = s ? s.name : "!";
        if (hold) {
          if (s) held.push(s);
          run += `(${name})`;
        } else {
          run += name;
          if (s) drop(s);
        }
      }
      out.push(run);
    }
  }
  return out.join(" ");
}

// Recorded from haproxy 2.6.12: `disable server`/`enable server` on the stats socket, requests
// held open on servers with maxconn (and answered one by one, 40 ms apart), refused servers with
// `retries 1` and `option redispatch`.
const RECORDED: [Algorithm, string, [string, string][]][] = [
  [
    "roundrobin",
    "turns by weight, through maintenance, saturation and redispatch",
    [
      ["a1 b3", "bbbabbbabbbabbbabbbabbba"],
      [
        "a256 b100 c100 d100",
        "abacadabacda -d bacaabacabaca +d abacadbacadab -c aadabaadabad -a bbdbdbdbdbd -d",
      ],
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
    ],
  ],
  [
    "leastconn",
    "by load in whole steps, equals in turn",
    [
      ["a3m2 b1m1", "ababab +b abab(a)bbbbbbbbbbbbbbb r b(a)bbbbb(b)aaaaaa -b aaaaaa -b aaaaa +b aaa r"],
      ["a256m2 b1 c1m1 d256m1", "abcd r abcd(a)bc +b db(c)dbdbdbd(b)d(d)aaaaa r ac(b)d(a)cd(c)d -b r"],
      ["a256bm1 b2m1 c1m2 d10m2 e16m1q1", "bc +c debc(d)eb(c)ebeb(e)b(b)!!!!! +d !!!(!)!!!! r dcebd(c)e r r"],
      ["a3bm2q1 b10m2", "bbb(b)bb(b)!!!! r bbbb(b)bbbbb(b)!! r bbbbbb(b)bbbbb -b aaaaaaaaaa(a) r"],
      ["a1m1 b256 allbackups", "abababab r ababab(a)bb +b bbb(b)bbbb r a -a bbbb(b)bbbb r b(b) r"],
    ],
  ],
  [
    "first",
    "the first server in declaration order that is not full",
    [
      ["a1m2 b7m1 allbackups", "aa +a aaaa(a)a(a)b -b !!! r aaaa(a)aaaaa -a !!!!!!!(!)!!!!!! r"],
      ["a3bm2q1 b10m2", "bbb(b)bb(b)!!!! r bbbb(b)bbbbb(b)!! r bbbbbb(b)bbbbb -b aaaaaaaaaa(a) r"],
    ],
  ],
];

for (const [algorithm, what, cases] of RECORDED)
  test(`${algorithm}: servers come in haproxy's order, ${what}`, () => {
    for (const [spec, seen] of cases) assert.equal(replay(algorithm, spec, seen), seen, spec);
  });
