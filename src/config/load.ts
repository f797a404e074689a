// Reading `-f` paths (files, or directories of *.cfg in lexical order) and printing diagnostics
// in haproxy's shape.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic, Global } from "./model.js";
import { parseConfig, type ParseResult, type SourceFile } from "./parse.js";
import type { Env } from "./tokenize.js";

/** Expands `-f` arguments into the files haproxy would read, in order. */
export function readSources(paths: string[]): SourceFile[] | string {
  const files: SourceFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      return `Could not open configuration file ${p} : No such file or directory`;
    }
    const names = st.isDirectory()
      ? readdirSync(p)
          .filter((n) => n.endsWith(".cfg"))
          .sort()
          .map((n) => join(p, n))
          .filter((n) => statSync(n).isFile())
      : [p];
    for (const name of names) files.push({ name, text: readFileSync(name, "utf8") });
  }
  return files;
}

export function loadConfig(
  paths: string[],
  env: Env = process.env,
  preset: Partial<Global> = {},
): ParseResult | string {
  const sources = readSources(paths);
  if (typeof sources === "string") return sources;
  return parseConfig(sources, env, preset);
}

/** One diagnostic as haproxy prints it, e.g. `[ALERT]    (123) : config : parsing [a.cfg:8] : ...`. */
export function formatDiagnostic(d: Diagnostic, pid = process.pid): string {
  const tag = d.level === "alert" ? "[ALERT]   " : "[WARNING] ";
  const loc = !d.where
    ? ""
    : d.bare
      ? `[${d.where.file}:${d.where.line}] : `
      : `${d.checked ? "Parsing" : "parsing"} [${d.where.file}:${d.where.line}]${d.tight || d.checked ? "" : " "}: `;
  return `${tag} (${pid}) : config : ${loc}${d.message}`;
}
