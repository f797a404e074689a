// `npm start`: the article's test bed on loopback. Two demo servers (web pages + echo-protocol
// WebSocket application) and Sluice in front of them with the article's configuration.
//
//   node dist/demo/start.js [advanced|simple]
// Ports: SLUICE_PORT (8080), WEBSRV1_PORT (8081), WEBSRV2_PORT (8082).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface DemoPorts {
  sluice: number;
  websrv1: number;
  websrv2: number;
}

export interface Demo {
  children: Map<string, ChildProcess>;
  stop(): Promise<void>;
}

/** Starts the three processes; resolves once Sluice and both servers listen. */
export async function startDemo(
  config: "advanced" | "simple",
  ports: DemoPorts,
  quiet = false,
): Promise<Demo> {
  const children = new Map<string, ChildProcess>();
  const env = {
    ...process.env,
    SLUICE_PORT: String(ports.sluice),
    WEBSRV1_PORT: String(ports.websrv1),
    WEBSRV2_PORT: String(ports.websrv2),
  };
  const launch = (name: string, args: string[], ready: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
      children.set(name, child);
      let seen = "";
      const onOutput = (d: Buffer): void => {
        const text = d.toString();
        if (!quiet) process.stdout.write(text.replace(/^(?=.)/gm, `[${name}] `));
        seen += text;
        if (ready.test(seen)) resolve();
      };
      child.stdout!.on("data", onOutput);
      child.stderr!.on("data", onOutput);
      child.once("exit", (code, signal) => {
        reject(new Error(`${name} exited (${signal ?? code}): ${seen.trim()}`));
        if (!stopping && !quiet)
          process.stdout.write(`[demo] ${name} stopped (${signal ?? `exit ${code}`})\n`);
      });
    });
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGTERM");
            setTimeout(() => c.kill("SIGKILL"), 3000).unref();
          }),
      ),
    );
  };
  try {
    await Promise.all([
      launch(
        "websrv1",
        [join(ROOT, "dist/demo/server.js"), "--name", "websrv1", "--port", String(ports.websrv1)],
        /listening/,
      ),
      launch(
        "websrv2",
        [join(ROOT, "dist/demo/server.js"), "--name", "websrv2", "--port", String(ports.websrv2)],
        /listening/,
      ),
    ]);
    await launch(
      "sluice",
      [join(ROOT, "dist/src/cli.js"), "-d", "-f", join(ROOT, "examples", `${config}.cfg`)],
      /listening on/,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { children, stop };
}

const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const config = process.argv[2] === "simple" ? "simple" : "advanced";
  const ports = {
    sluice: port("SLUICE_PORT", 8080),
    websrv1: port("WEBSRV1_PORT", 8081),
    websrv2: port("WEBSRV2_PORT", 8082),
  };
  try {
    const demo = await startDemo(config, ports);
    const pid = (n: string): number | undefined => demo.children.get(n)?.pid;
    process.stdout.write(`
  Sluice demo (${config} configuration, examples/${config}.cfg)

    open  http://127.0.0.1:${ports.sluice}/     the page, through Sluice
          websrv1 on 127.0.0.1:${ports.websrv1} (pid ${pid("websrv1")}), websrv2 on 127.0.0.1:${ports.websrv2} (pid ${pid("websrv2")})
          Sluice's log lines appear below, prefixed [sluice].

    try   kill ${pid("websrv1")}        stop websrv1: its health check fails, traffic moves to websrv2
          Ctrl-C                stop everything
`);
    const quit = (): void => {
      process.stdout.write("\n[demo] stopping\n");
      void demo.stop().then(() => process.exit(0));
    };
    process.once("SIGINT", quit);
    process.once("SIGTERM", quit);
  } catch (e) {
    process.stderr.write(`[demo] could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
