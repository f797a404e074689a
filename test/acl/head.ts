// Test-local: builds an HttpHead from a literal head ("\n" line ends allowed) and a SampleContext.
import type { SampleContext } from "../../src/acl/index.js";
import { BodyKind, type HttpHead } from "../../src/http/message.js";

export function head(text: string): HttpHead {
  const raw = text.replace(/\r?\n/g, "\r\n") + "\r\n\r\n";
  const buf = Buffer.from(raw, "latin1");
  const lines = raw.slice(0, -4).split("\r\n");
  const first = lines[0]!.split(" ");
  const isRes = first[0]!.startsWith("HTTP/");
  const hdr = new Int32Array(4 * (lines.length - 1));
  let off = lines[0]!.length + 2;
  let body = BodyKind.None;
  let contentLength = -1;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(":");
    let vs = colon + 1;
    let ve = l.length;
    while (vs < ve && (l[vs] === " " || l[vs] === "\t")) vs++;
    while (ve > vs && (l[ve - 1] === " " || l[ve - 1] === "\t")) ve--;
    hdr.set([off, off + colon, off + vs, off + ve], (i - 1) * 4);
    const name = l.slice(0, colon).toLowerCase();
    if (name === "content-length") {
      body = BodyKind.Length;
      contentLength = parseInt(l.slice(vs, ve), 10);
    }
    if (name === "transfer-encoding") body = BodyKind.Chunked;
    off += l.length + 2;
  }
  return {
    buf,
    start: 0,
    end: buf.length,
    method: isRes ? "" : first[0]!,
    uri: isRes ? "" : first[1]!,
    status: isRes ? parseInt(first[1]!, 10) : 0,
    reason: isRes ? first.slice(2).join(" ") : "",
    versionMinor: (isRes ? first[0]! : first[2]!).endsWith("1.0") ? 0 : 1,
    version: isRes ? first[0]! : first[2]!,
    startLineAsIs: true,
    hdr,
    count: lines.length - 1,
    body,
    contentLength,
    strayLengths: false,
    connClose: false,
    connKeepAlive: false,
    connUpgrade: false,
    upgradeWebSocket: false,
    repeatedLength: false,
    repeatedHost: false,
    repeats: undefined,
    bareLf: false,
    looseValue: false,
    expectContinue: false,
    hostValue: undefined,
    weight: 0,
    htxSize: 0,
  };
}

export function ctx(req: string, more: Partial<SampleContext> & { resHead?: string } = {}): SampleContext {
  const { resHead, ...rest } = more;
  return {
    req: head(req),
    res: resHead === undefined ? undefined : head(resHead),
    src: "127.0.0.1",
    srcPort: 40000,
    dst: "127.0.0.1",
    dstPort: 8080,
    feName: "fe",
    beName: "",
    nbsrv: (b) => (b === "bk" ? 2 : b === "empty" ? 0 : -1),
    ...rest,
  };
}

export const where = { file: "test.cfg", line: 1 };

/** Splits an ACL line as the tokenizer would (blanks only; no quotes needed in these tests). */
export function spec(line: string): { fetch: string; words: string[]; where: typeof where } {
  const [fetch, ...words] = line.trim().split(/\s+/);
  return { fetch: fetch!, words, where };
}
