// maxcomprate and maxcompcpuusage: the global limits past which haproxy compresses no new response
// and lowers the level of those under way. The input and output rates count the bytes of responses
// compressed at a level above 0, over one second; the idle share is the event loop's, over the last
// second measured.
import { performance, type EventLoopUtilization } from "node:perf_hooks";
import { FreqCtr } from "../stick/freq-ctr.js";

const PERIOD = 1000;

export class CompressionLimits {
  private readonly bytesIn = new FreqCtr();
  private readonly bytesOut = new FreqCtr();
  private loop: EventLoopUtilization = performance.eventLoopUtilization();
  private loopAt = 0;
  private idle = 100;

  /**
   * @param rate maxcomprate in bytes per second (0: none)
   * @param minIdle the idle percentage under which compression backs off (100 - maxcompcpuusage)
   */
  constructor(
    private readonly rate: number,
    private readonly minIdle: number,
  ) {}

  /** A new response may be compressed. */
  allowNew(now: number): boolean {
    if (this.rate > 0 && this.bytesIn.read(now, PERIOD) > this.rate) return false;
    return this.idlePct(now) >= this.minIdle;
  }

  /** Counts a piece compressed at a level above 0; true when compression runs over its limits. */
  counted(now: number, bytesIn: number, bytesOut: number): boolean {
    this.bytesIn.add(now, PERIOD, bytesIn);
    this.bytesOut.add(now, PERIOD, bytesOut);
    return this.over(now);
  }

  /** Compression runs over its limits: the output rate or the busy share. */
  over(now: number): boolean {
    if (this.rate > 0 && this.bytesOut.read(now, PERIOD) > this.rate) return true;
    return this.idlePct(now) < this.minIdle;
  }

  private idlePct(now: number): number {
    if (this.minIdle === 0) return 100;
    if (now - this.loopAt >= PERIOD) {
      const cur = performance.eventLoopUtilization();
      this.idle = 100 * (1 - performance.eventLoopUtilization(cur, this.loop).utilization);
      this.loop = cur;
      this.loopAt = now;
    }
    return this.idle;
  }
}
