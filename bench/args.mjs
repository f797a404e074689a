// Command-line options of the bench scripts: `--name value`, `--name=value`, or a bare `--flag`
// ("true"), over the script's defaults. Values stay strings; each script converts what it reads.
export function parseArgs(argv, defaults) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
    else o[a.slice(2)] = i + 1 < argv.length && !argv[i + 1].startsWith("--") ? argv[++i] : "true";
  }
  return o;
}
