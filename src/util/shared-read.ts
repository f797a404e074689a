// Every socket of the proxy reads into one shared buffer, and each read is copied out at once at
// its own size. By default Node allocates 64 KiB for every read, shrinks it to the size read, and
// pushes the chunk through the socket's Readable, which costs a tick per read; a proxy that writes
// each chunk on at once needs none of that. Server connections hand the buffer to their handle
// themselves (server-socket.ts). A net.Socket takes it in its `onread` option, which net.Server
// does not give, so an accepted socket gets the state the option would give it. Node keeps that
// state under symbols of its own, found here on a socket made with the option; on a Node that
// keeps them otherwise, client sockets read the default way ('data' events).
import net from "node:net";

export const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** The last `n` bytes read, as a chunk of their own: the buffer is read into again next time. */
export function lastRead(n: number): Buffer {
  const chunk = Buffer.allocUnsafe(n);
  readBuffer.copy(chunk, 0, 0, n);
  return chunk;
}

interface ReadSymbols {
  buffer: symbol;
  callback: symbol;
  gen: symbol;
}

function findSymbols(): ReadSymbols | undefined {
  const opts = { onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts;
  const probe = new net.Socket(opts);
  const byName = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
  const buffer = byName.get("kBuffer");
  const callback = byName.get("kBufferCb");
  const gen = byName.get("kBufferGen");
  if (!buffer || !callback || !gen) return undefined;
  const p = probe as unknown as Record<symbol, unknown>;
  if (!Buffer.isBuffer(p[buffer]) || typeof p[callback] !== "function" || p[gen] !== null) return undefined;
  return { buffer, callback, gen };
}

const symbols = findSymbols();

type Handle = { reading?: boolean; useUserBuffer?(buf: Uint8Array): void };

/**
 * Makes `socket`, accepted and not reading yet (pauseOnConnect), pass each read to `onData` (as a
 * chunk it may keep, `this` being the socket) instead of emitting 'data'. 'end', 'close', pause()
 * and resume() work as before. Returns false, having changed nothing, when it cannot: the caller
 * then listens to 'data'.
 */
export function readIntoSharedBuffer(
  socket: net.Socket,
  onData: (this: net.Socket, chunk: Buffer) => void,
): boolean {
  const handle = (socket as unknown as { _handle?: Handle })._handle;
  if (!symbols || !handle || handle.reading || typeof handle.useUserBuffer !== "function") return false;
  const s = socket as unknown as Record<symbol, unknown>;
  s[symbols.buffer] = readBuffer;
  s[symbols.gen] = null;
  s[symbols.callback] = function (this: net.Socket, n: number): boolean {
    onData.call(this, lastRead(n));
    return true;
  };
  handle.useUserBuffer(readBuffer);
  return true;
}
