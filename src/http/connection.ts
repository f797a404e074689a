// The Connection header as haproxy 2.6 reads and forwards it. Its close and keep-alive words belong
// to one hop: they leave the header on the way through, and the proxy says what becomes of the next
// hop's connection in a header of its own. Other words stay where they were.
import { COMMA, isBlank, latin1, nameIs } from "./chars.js";
import { headerNameIs, type HttpHead } from "./message.js";
import type { HeadEdits } from "./serialize.js";

export const enum ConnectionWord {
  Other = 0,
  Close = 1,
  KeepAlive = 2,
  Upgrade = 3,
}

/** What buf[s, e), one comma-separated element of a Connection header, says; blanks around it do not count. */
export function connectionWord(buf: Buffer, s: number, e: number): ConnectionWord {
  while (e > s && isBlank(buf[e - 1])) e--;
  while (s < e && isBlank(buf[s])) s++;
  switch (e - s) {
    case 5:
      return nameIs(buf, s, "close") ? ConnectionWord.Close : ConnectionWord.Other;
    case 7:
      return nameIs(buf, s, "upgrade") ? ConnectionWord.Upgrade : ConnectionWord.Other;
    case 10:
      return nameIs(buf, s, "keep-alive") ? ConnectionWord.KeepAlive : ConnectionWord.Other;
    default:
      return ConnectionWord.Other;
  }
}

/** Takes close and keep-alive out of the head's Connection headers; a header left empty is dropped. */
export function cleanConnectionHeaders(head: HttpHead, edits: HeadEdits): void {
  if (!head.connClose && !head.connKeepAlive) return;
  for (let i = 0; i < head.count; i++) {
    if (!headerNameIs(head, i, "connection")) continue;
    const v = withoutHopWords(head.buf, head.hdr[i * 4 + 2]!, head.hdr[i * 4 + 3]!);
    if (v === "") edits.dropHeader(i);
    else if (v !== undefined) edits.rewriteHeader(i, v);
  }
}

/**
 * buf[s, e) without its close and keep-alive words, or undefined when it has none. Like haproxy, the
 * bytes before the first word taken out stay as they are, and the words after it follow, each after
 * a bare comma.
 */
export function withoutHopWords(buf: Buffer, s: number, e: number): string | undefined {
  let kept = s;
  let out: string | undefined;
  for (let p = s; p < e;) {
    while (p < e && isBlank(buf[p])) p++;
    let n = p;
    while (n < e && buf[n] !== COMMA) n++;
    const w = connectionWord(buf, p, n);
    if (w === ConnectionWord.Close || w === ConnectionWord.KeepAlive) out ??= latin1(buf, s, kept);
    else if (out === undefined) kept = n;
    else {
      let we = n;
      while (we > p && isBlank(buf[we - 1])) we--;
      out += (out === "" ? "" : ",") + latin1(buf, p, we);
    }
    p = n + 1;
  }
  return out;
}
