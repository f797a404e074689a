// Every socket of the proxy reads into one shared buffer (tcp-socket.ts gives it to each handle),
// and each read is copied out at once at its own size. By default Node allocates 64 KiB for every
// read, shrinks it to the size read, and pushes the chunk through the socket's Readable, which costs
// a tick per read; a proxy that writes each chunk on at once needs none of that.

// Buffer as an import: the global is a getter, a call at each use on the data path.
import { Buffer } from "node:buffer";

export const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Views on the buffer's first n bytes, for reads shorter than CACHED_VIEWS, each made at its size's
 * first read: Buffer.copy makes such a view for every copy of a part of its source.
 */
const CACHED_VIEWS = 4096;
const views: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(CACHED_VIEWS).fill(undefined);

/**
 * Larger reads are cut from slabs of this size, as Node's pool cuts small buffers. A buffer of its own
 * per read (a 64 KiB malloc, freed at the next GC) made glibc give the top of its heap back to the
 * kernel and take it again, over and over: in a bulk tunnel, a third more system time per MB than with
 * slabs (bench/README, stop 40). A chunk still held keeps its slab: at most four times a 64 KiB read.
 */
const SLAB = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

/** The last `n` bytes read, as a chunk of their own: the buffer is read into again next time. */
export function lastRead(n: number): Buffer {
  if (n < CACHED_VIEWS) {
    const chunk = Buffer.allocUnsafe(n);
    chunk.set((views[n] ??= new Uint8Array(readBuffer.buffer, readBuffer.byteOffset, n)));
    return chunk;
  }
  if (slabUsed + n > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabUsed = 0;
  }
  const chunk = slab.subarray(slabUsed, slabUsed + n);
  // Each chunk starts 8-byte aligned, as typed-array views over it may need.
  slabUsed += (n + 7) & ~7;
  readBuffer.copy(chunk, 0, 0, n);
  return chunk;
}
