// The request line a log keeps (haproxy's txn->uri), and its parts as haproxy finds them there.

/**
 * A part of a kept request line: the method, the target (to the next space, or the end of a line
 * cut short), its path or query, the version (`HTTP/0.9` when the line was cut before it).
 */
export function requestLinePart(line: string, part: "method" | "uri" | "path" | "query" | "version"): string {
  const sp1 = line.indexOf(" ");
  let sp2 = line.indexOf(" ", sp1 + 1);
  if (part === "method") return line.slice(0, sp1);
  if (part === "version") return sp2 < 0 ? "HTTP/0.9" : line.slice(sp2 + 1);
  if (sp2 < 0) sp2 = line.length;
  const uri = line.slice(sp1 + 1, sp2);
  const q = uri.indexOf("?");
  if (part === "uri") return uri;
  if (part === "path") return q < 0 ? uri : uri.slice(0, q);
  return q < 0 ? "" : uri.slice(q);
}
