#!/usr/bin/env node
// Argument handling only, shaped like haproxy's command line.
import { VERSION } from "./version.js";
import { evalCondExpr, CondExprError } from "./config/condexpr.js";
import { checkOnly, serve } from "./sluice.js";

export interface CliOptions {
  files: string[];
  check: boolean;
  debug: boolean;
  quiet: boolean;
  /** -D: to the background once listening, as `daemon` does. */
  daemon: boolean;
  /** -d, -db: in the foreground whatever `daemon` says. */
  foreground: boolean;
  pidfile?: string;
  /** -sf / -st: old processes to soft-stop or terminate once we listen. */
  finishPids: number[];
  terminatePids: number[];
  maxconn?: number;
  /** -m: memory limit in megabytes. */
  memmax?: number;
}

const USAGE = `Usage : sluice [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -D goes daemon
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -q quiet mode : don't display messages
        -p writes pids of all children to this file
        -sf/-st [pid ]* finishes/terminates old pids.
        -dM[<byte>], -dI, -dW, -m <megs>, -L <name> are accepted for compatibility and have no effect.
`;

function usage(message?: string): never {
  if (message) process.stderr.write(`[ALERT]    (${process.pid}) : ${message}\n`);
  process.stderr.write(USAGE);
  process.exit(1);
}

function versionLine(): string {
  return `Sluice version ${VERSION.sluice} ${VERSION.date} - haproxy ${VERSION.haproxy} configuration language\n`;
}

export function parseArgs(argv: string[]): CliOptions | "version" | "build-options" | { cc: string } {
  const o: CliOptions = {
    files: [],
    check: false,
    debug: false,
    quiet: false,
    daemon: false,
    foreground: false,
    finishPids: [],
    terminatePids: [],
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined) usage(`option '${flag}' expects an argument.`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.files.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-")) usage(`unexpected argument '${a}'.`);
    switch (a) {
      case "-f":
        o.files.push(value(++i, a));
        continue;
      case "-c":
        o.check = true;
        continue;
      case "-cc":
        return { cc: value(++i, a) };
      case "-v":
        return "version";
      case "-vv":
        return "build-options";
      case "-h":
      case "--help":
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      case "-d":
      case "-db":
        o.debug = a === "-d";
        o.foreground = true;
        continue;
      case "-V":
        continue;
      case "-D":
        o.daemon = true;
        continue;
      case "-W":
      case "-Ws":
      case "-dI":
      case "-dW":
      case "-dr":
      case "-dV":
        continue;
      case "-q":
        o.quiet = true;
        continue;
      case "-p":
        o.pidfile = value(++i, a);
        continue;
      case "-n":
      case "-N":
      case "-m": {
        const n = Number(value(++i, a));
        if (!Number.isInteger(n) || n <= 0) usage(`option '${a}' expects a positive integer.`);
        if (a === "-n") o.maxconn = n;
        else if (a === "-m") o.memmax = n;
        continue;
      }
      case "-L":
      case "-C":
        value(++i, a);
        continue;
      case "-sf":
      case "-st": {
        const list = a === "-sf" ? o.finishPids : o.terminatePids;
        while (argv[i + 1] !== undefined && /^\d+$/.test(argv[i + 1]!)) list.push(Number(argv[++i]));
        continue;
      }
    }
    if (a.startsWith("-dM")) continue;
    usage(`unknown option '${a}'.`);
  }
  return o;
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed === "version") {
    process.stdout.write(versionLine());
    return;
  }
  if (parsed === "build-options") {
    process.stdout.write(
      `${versionLine()}Running on: Node.js ${process.version} ${process.platform} ${process.arch}\n`,
    );
    return;
  }
  if ("cc" in parsed) {
    try {
      process.exitCode = evalCondExpr([parsed.cc], process.env) ? 0 : 1;
    } catch (e) {
      if (!(e instanceof CondExprError)) throw e;
      process.stderr.write(`[ALERT]    (${process.pid}) : config : ${e.message}\n`);
      process.exitCode = 2;
    }
    return;
  }
  if (parsed.files.length === 0) usage("No configuration file specified.");
  if (parsed.check) process.exitCode = await checkOnly(parsed);
  // Serving ends on a signal: exit at once, whatever timers or sockets are left.
  else process.exit(await serve(parsed));
}

await main();
