// set-priority-class and set-priority-offset at run time: the stream's place in a queue (queue.ts),
// from a sample cast and bounded as haproxy 2.6 does it.
import type { PriorityAction } from "../config/model.js";
import type { SampleContext } from "../acl/context.js";
import type { FetchImpl } from "../acl/fetch.js";
import { Sample, toBig } from "../acl/sample.js";

/** The bounds, either way, of a class (haproxy's 0x7ff) and of an offset in ms (0x7ffff). */
const CLASS_LIMIT = 2047;
const OFFSET_LIMIT = 524287;

const smp = new Sample();

/**
 * The rule's sample as an integer sets the stream's class or offset; no sample, or one that does not
 * cast (bytes, a method, an empty string), changes nothing. haproxy passes the 64-bit integer as a C
 * int first, its low 32 bits (4294967297 is 1, 2^63-1 is -1), then bounds it.
 */
export function setPriority(kind: PriorityAction["kind"], fetch: FetchImpl, ctx: SampleContext): void {
  if (!fetch.first(ctx, smp)) return;
  const n = smp.getInt();
  if (n === undefined) return;
  const int = Number.isSafeInteger(n) ? n | 0 : Number(BigInt.asIntN(32, toBig(n)));
  if (kind === "set-priority-class") ctx.priorityClass = bound(int, CLASS_LIMIT);
  else ctx.priorityOffset = bound(int, OFFSET_LIMIT);
}

const bound = (n: number, limit: number): number => (n > limit ? limit : n < -limit ? -limit : n);
