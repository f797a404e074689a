// `option smtpchk`: a 2xx banner, then HELO (or EHLO) and QUIT, each answered 2xx. The reply
// code is the check's code and the reply's text its info.
import type { TcpCheckExpect } from "../config/model.js";
import { firstLine, type CannedRule } from "./tcp-check.js";

/** The reply's text: after its code and the blanks that follow. */
const text = (buf: Buffer): string => firstLine(buf, 4).replace(/^ +/, "");

/** The reply's three-digit code, 0 when it has none. */
const code = (buf: Buffer): number => {
  const c = buf.subarray(0, 3).toString("latin1");
  return /^\d{3}$/.test(c) ? Number(c) : 0;
};

/**
 * A 2xx reply; `minRecv` 4 concludes on the first four bytes, -1 waits on a mismatch (haproxy
 * waits so for the HELO's reply alone).
 */
const positive = (minRecv: number, success = false): CannedRule => ({
  ...regex("^2[0-9]{2}[- \r]", minRecv),
  errorStatus: "L7STS",
  read: { onError: text, statusCode: code, ...(success && { onSuccess: text }) },
});

const regex = (pattern: string, minRecv: number): TcpCheckExpect => ({
  action: "expect",
  kind: "rstring",
  pattern,
  negate: false,
  minRecv,
});

export const smtpchk = (hello: string): CannedRule[] => [
  { action: "connect", sendProxy: false, useDefault: true, linger: true },
  { ...regex("^[0-9]{3}[ \r]", 4), errorStatus: "L7RSP", read: { onError: (buf) => firstLine(buf) } },
  positive(4),
  { action: "send", data: `${hello}\r\n` },
  positive(-1),
  { action: "send", data: "QUIT\r\n" },
  positive(4, true),
];
