import { test } from "node:test";
import assert from "node:assert/strict";
import { ConsistentHash } from "../../src/balance/chash.js";
import { ServerMap } from "../../src/balance/map.js";
import { fullHash, hashKey, type HashFunction } from "../../src/balance/hash.js";
import type { ServerLookup } from "../../src/balance/balancer.js";

interface Srv {
  id: number;
  name: string;
  weight: number;
  backup: boolean;
  maint: boolean;
  cur: number;
  readonly usable: boolean;
  saturated: boolean;
}

/**
 * balance hdr(x-k) replayed on haproxy's ring (or table): each word a request with that header
 * value, `-` one without (the walk), `down:a`/`up:a` a into and out of maintenance; the servers that
 * answered, `!` for a 503. With one server in use haproxy hashes nothing: hash 0, header or not.
 */
function replay(spec: string, hashType: string, steps: string): string {
  const allbackups = spec.endsWith(" allbackups");
  const servers: Srv[] = spec
    .replace(" allbackups", "")
    .split(" ")
    .map((t, i) => ({
      id: i + 1,
      name: t[0]!,
      weight: Number(/\d+/.exec(t)![0]),
      backup: t.endsWith("b"),
      maint: false,
      cur: 0,
      get usable() {
        return !this.maint;
      },
      saturated: false,
    }));
  const [method, fn = "sdbm", modifier] = hashType.split(" ");
  const avalanche = modifier === "avalanche" || hashType === "consistent";
  const lookup: ServerLookup<Srv> =
    method === "consistent" ? new ConsistentHash(servers, allbackups) : new ServerMap(servers, allbackups);
  const inUse = () => {
    const act = servers.filter((s) => s.usable && !s.backup).length;
    const bck = servers.filter((s) => s.usable && s.backup).length;
    return act > 0 ? act : bck > 0 && !allbackups ? 1 : bck;
  };
  let out = "";
  for (const step of steps.split(" ")) {
    const [op, name] = step.split(":");
    if (name !== undefined) {
      const s = servers.find((x) => x.name === name)!;
      s.maint = op === "down";
      if (s.maint) lookup.down(s);
      else lookup.up(s);
      continue;
    }
    let s: Srv | undefined;
    if (inUse() === 1) s = lookup.hashed(0, undefined);
    else if (step === "-") s = lookup.rotate(undefined);
    else {
      const h = hashKey(fn as HashFunction, step);
      s = lookup.hashed(avalanche ? fullHash(h) : h, undefined);
    }
    out += s ? s.name : "!";
  }
  return out;
}

// Recorded from haproxy 2.6.12: `balance hdr(x-k)`, `disable server`/`enable server` on the stats socket.
const RECORDED: [string, string, string, string][] = [
  [
    "a16 b1 c16 d2",
    "consistent sdbm avalanche",
    "user50985 user25789 user94901 user50985 user50985 user50985 user50985 down:a down:c user60351 user50985 user74732 user74732 user7020 down:c user18357 user60351 down:c - user18357 user7020 user50985 down:b user60351 up:c user7020 user7020 - user60351 - user18357 user37175 down:d user90009 user90009 user88110 user88110 user74732 - user50985",
    "acaaaaadbbbbbddbbbdccdccccccccccc",
  ],
  [
    "a256 b3 c3 allbackups",
    "consistent wt6",
    "user53388 - user95933 user66317 user51078 user98682 user53388 user66317 user53388 user33092 user51078 user16342 user98682 user16476 up:b down:c - user33092 user227 - user51078 down:a up:c up:c user16342 down:b user95933 user16342 user51078 user16342 user98682 user66317 user34903 user51078 user16342 user227 user51078 user95933 down:a -",
    "aaaaaaaaaaaaaaaaaaacccccccccccccc",
  ],
  [
    "a10 b16 c1 d1b",
    "consistent sdbm",
    "down:a - - user31213 user15264 - user48821 user6228 user17053 user17804 user6228 user25405 user17053 up:a - user400 down:d user48821 user6228 - user89042 user6228 user89042 user15264 user17053 up:c - user25405 user36408 down:d - user15264 user15264 user15264 - user89042 user36408 user17053 user41695 -",
    "bbbbbbbbcbbbbaaabbabbbbaacbbbbbabbb",
  ],
  [
    "a100b b2 c2",
    "map-based djb2 avalanche",
    "down:a user62953 up:a user99050 user5063 user5063 user10188 user62953 - user57443 up:a down:c user50385 - user57443 user24531 user78007 user15425 user50385 down:b - user78007 down:c user57443 user24531 user24531 user28472 - up:b - down:b user83534 user15425 user5063 user83534 user15425 user5063 user62953 user88659 user62953",
    "bcccbbbbbbbbbbbaaaaaaabaaaaaaaaa",
  ],
];

test("hash-type consistent: the ring sends each key where haproxy's does, through maintenance; the table too", () => {
  for (const [spec, hashType, steps, seen] of RECORDED)
    assert.equal(replay(spec, hashType, steps), seen, `${spec}, hash-type ${hashType}`);
});

test("full_hash: haproxy's values", () => {
  // Computed with haproxy's function compiled from C.
  const cases = [0, 1, 2, 4096, 4097, 8191, 0x7f000001, 0xffffffff, 123456789].map(fullHash);
  assert.deepEqual(
    cases,
    [
      2874071335, 881230262, 3798448204, 1237450891, 2761370759, 1804246060, 2317047883, 2120532354,
      2578161185,
    ],
  );
});

/** The ring as haproxy lays it out: server i (from 1) at full_hash(i * 4096 + j), weight * 16 points. */
function ringOf(servers: Srv[]): { key: number; s: Srv }[] {
  const points = servers.flatMap((s, i) =>
    Array.from({ length: s.weight * 16 }, (_, j) => ({ key: fullHash((i + 1) * 4096 + j), s })),
  );
  return points.sort((a, b) => a.key - b.key);
}

const three = (): Srv[] =>
  ["a", "b", "c"].map((name, i) => ({
    id: i + 1,
    name,
    weight: 1,
    backup: false,
    maint: false,
    cur: 0,
    saturated: false,
    get usable() {
      return !this.maint;
    },
  }));

test("the ring: a hash halfway between two servers' points goes to the one before", () => {
  const servers = three();
  const ring = ringOf(servers);
  const i = ring.findIndex((p, k) => k > 0 && p.s !== ring[k - 1]!.s && (p.key + ring[k - 1]!.key) % 2 === 0);
  assert.ok(i > 0);
  const chash = new ConsistentHash(servers, false);
  const middle = (ring[i - 1]!.key + ring[i]!.key) / 2;
  assert.equal(chash.hashed(middle, undefined), ring[i - 1]!.s);
  assert.equal(chash.hashed(middle + 1, undefined), ring[i]!.s);
  // Passing over a server: the next point's, around the circle.
  assert.equal(chash.hashed(middle, ring[i - 1]!.s), ring[i]!.s);
});

test("the walk without a key: from the first point only at first; after its server leaves, from the next point left", () => {
  const servers = three();
  const ring = ringOf(servers);
  const chash = new ConsistentHash(servers, false);
  // Nothing walked yet: haproxy looks at the first point alone, and finds its server full.
  ring[0]!.s.saturated = true;
  assert.equal(chash.rotate(undefined), undefined);
  ring[0]!.s.saturated = false;
  // Walk to the first point whose next one belongs to another server, then take that server out.
  let at = 0;
  assert.equal(chash.rotate(undefined), ring[0]!.s);
  while (ring[at + 1]!.s === ring[at]!.s || ring[at + 2]!.s === ring[at]!.s) {
    at++;
    assert.equal(chash.rotate(undefined), ring[at]!.s);
  }
  const gone = ring[at]!.s;
  gone.maint = true;
  chash.down(gone);
  // The walk stands on the point after it now, and goes on from there.
  const left = ring.filter((p) => p.s !== gone);
  const next = left.indexOf(ring[at + 1]!);
  assert.equal(chash.rotate(undefined), left[(next + 1) % left.length]!.s);
});
