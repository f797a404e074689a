// `daemon` and -D: the process goes to the background once it listens, as haproxy's does. Node
// cannot fork, so the command starts itself again, detached, and waits until that copy listens.
import { spawn, type StdioOptions } from "node:child_process";

const CHILD = "SLUICE_DAEMON_CHILD";

/** Read once: the variable is no business of the configuration's `env()`. */
const child = process.env[CHILD] === "1";
delete process.env[CHILD];

/** This process is the background copy. */
export const isDaemon = (): boolean => child;

/**
 * Starts this command again in the background and relays its messages until it listens (or
 * fails); resolves with this process's exit code: 0 once the copy listens, the copy's own if it
 * ended first. `fds`: the inherited sockets (`bind fd@N`) the copy needs at the same numbers.
 */
export function background(fds: readonly number[]): Promise<number> {
  const stdio: StdioOptions = ["ignore", "ignore", "pipe"];
  for (let fd = 3; fd <= Math.max(2, ...fds); fd++) stdio.push(fds.includes(fd) ? fd : "ignore");
  stdio.push("ipc");
  const copy = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio,
    env: { ...process.env, [CHILD]: "1" },
  });
  copy.stderr!.pipe(process.stderr, { end: false });
  return new Promise((resolve) => {
    copy.once("message", () => {
      copy.stderr!.destroy();
      copy.disconnect();
      copy.unref();
      resolve(0);
    });
    // "close", not "exit": the copy's last alert is read to its end first.
    copy.once("close", (code) => resolve(code ?? 1));
  });
}

/** In the copy, once it listens: the first process may end; nobody reads our stderr any more. */
export function detached(): void {
  process.stderr.on("error", () => {});
  process.send?.("listening");
  process.disconnect?.();
}
