// The outcome of one check, in haproxy's vocabulary: a status (HCHK_STATUS_*) with its words,
// an optional HTTP code and an optional `info` text.

export type CheckStatus =
  | "L4OK"
  | "L4TOUT"
  | "L4CON"
  | "SOCKERR"
  | "L6OK"
  | "L6TOUT"
  | "L6RSP"
  | "L7TOUT"
  | "L7RSP"
  | "L7STS"
  | "L7OK";

/** The words haproxy prints after `reason:` for each status. */
export const REASON: Record<CheckStatus, string> = {
  L4OK: "Layer4 check passed",
  L4TOUT: "Layer4 timeout",
  L4CON: "Layer4 connection problem",
  SOCKERR: "Socket error",
  L6OK: "Layer6 check passed",
  L6TOUT: "Layer6 timeout",
  L6RSP: "Layer6 invalid response",
  L7TOUT: "Layer7 timeout",
  L7RSP: "Layer7 invalid response",
  L7STS: "Layer7 wrong status",
  L7OK: "Layer7 check passed",
};

export interface CheckResult {
  ok: boolean;
  status: CheckStatus;
  /** The HTTP status, shown for a passed or wrong-status HTTP check. */
  code?: number;
  info?: string;
  durationMs: number;
}

export type Outcome = Omit<CheckResult, "durationMs">;

export const passed = (status: "L4OK" | "L6OK" | "L7OK", code?: number): Outcome =>
  code === undefined ? { ok: true, status } : { ok: true, status, code };

export const failed = (status: CheckStatus, info?: string, code?: number): Outcome => {
  const r: Outcome = { ok: false, status };
  if (code !== undefined) r.code = code;
  if (info !== undefined) r.info = info;
  return r;
};

/** `, reason: ..., code: ..., info: "...", check duration: Nms` as haproxy appends it. */
export function describeResult(r: CheckResult): string {
  let s = `, reason: ${REASON[r.status]}`;
  if (r.code !== undefined) s += `, code: ${r.code}`;
  if (r.info !== undefined) s += `, info: "${r.info}"`;
  return s + `, check duration: ${r.durationMs}ms`;
}
