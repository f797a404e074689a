// haproxy's predefined ACLs (manual section 7.4), written as the ACL lines they stand for.
import type { AclSpec } from "../config/model.js";

const DEFS: Record<string, [string, ...string[]]> = {
  FALSE: ["always_false"],
  HTTP: ["req.proto_http"],
  "HTTP_1.0": ["req.ver", "1.0"],
  "HTTP_1.1": ["req.ver", "1.1"],
  // The manual's definition: content-length only, so a chunked request is not HTTP_CONTENT (as in haproxy).
  HTTP_CONTENT: ["req.hdr_val(content-length)", "gt", "0"],
  HTTP_URL_ABS: ["url_reg", "^[^/:]*://"],
  HTTP_URL_SLASH: ["url_beg", "/"],
  HTTP_URL_STAR: ["url", "*"],
  LOCALHOST: ["src", "127.0.0.1/8", "::1"],
  METH_CONNECT: ["method", "CONNECT"],
  METH_DELETE: ["method", "DELETE"],
  METH_GET: ["method", "GET", "HEAD"],
  METH_HEAD: ["method", "HEAD"],
  METH_OPTIONS: ["method", "OPTIONS"],
  METH_POST: ["method", "POST"],
  METH_PUT: ["method", "PUT"],
  METH_TRACE: ["method", "TRACE"],
  // req.len counts the parsed head in HTTP mode, so haproxy 2.6 finds REQ_CONTENT true for every request.
  REQ_CONTENT: ["req.len", "gt", "0"],
  TRUE: ["always_true"],
  WAIT_END: ["wait_end"],
};

/** The ACL line a predefined name stands for, or undefined. */
export function predefinedAcl(name: string): AclSpec | undefined {
  const d = DEFS[name];
  if (d === undefined) return undefined;
  return { fetch: d[0], words: d.slice(1), where: { file: "<predefined>", line: 0 } };
}

export const PREDEFINED_NAMES: readonly string[] = Object.keys(DEFS);
