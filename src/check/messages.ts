// State-change messages in haproxy 2.6's words (srv_update_status / srv_append_status).
import type { RtBackend, RtServer } from "../proxy/backend.js";
import { describeResult, type CheckResult } from "./result.js";
import type { Health } from "./health.js";

/** syslog levels haproxy uses for these messages. */
export const LEVEL = { emerg: 0, alert: 1, notice: 5 } as const;

const who = (s: RtServer): string => `${s.backend.name}/${s.name}`;

const runningOnBackup = (c: { active: number; backup: number }): string =>
  c.backup > 0 && c.active === 0 ? " Running on backup." : "";

/** `option log-health-checks`: one line per check that moved the counter or changed the status. */
export function checkLine(s: RtServer, r: CheckResult, h: Health): string {
  const [a, b] = h.progress;
  const state = h.up ? (s.weight > 0 ? "UP" : "DRAIN") : "DOWN";
  return (
    `Health check for ${s.backup ? "backup " : ""}server ${who(s)} ${r.ok ? "succeeded" : "failed"}` +
    `${describeResult(r)}, status: ${a}/${b} ${state}.`
  );
}

/** The reason is left out when `option log-health-checks` already told it. */
export function downLine(
  s: RtServer,
  r: CheckResult | undefined,
  sessions: number,
  requeued: number,
): string {
  const c = s.backend.serverCounts();
  return (
    `${s.backup ? "Backup " : ""}Server ${who(s)} is DOWN${r ? describeResult(r) : ""}. ` +
    `${c.active} active and ${c.backup} backup servers left.${runningOnBackup(c)} ` +
    `${sessions} sessions active, ${requeued} requeued, ${s.queue.length} remaining in queue.`
  );
}

export function upLine(s: RtServer, r: CheckResult | undefined, requeued: number): string {
  const c = s.backend.serverCounts();
  return (
    `${s.backup ? "Backup " : ""}Server ${who(s)} is UP${r ? describeResult(r) : ""}. ` +
    `${c.active} active and ${c.backup} backup servers online.${runningOnBackup(c)} ` +
    `${requeued} sessions requeued, ${s.queue.length} total in queue.`
  );
}

/** The log says `backend bk has ...`, stderr says `backend 'bk' has ...`. */
export const noServerLine = (be: RtBackend, quoted: boolean): string =>
  `backend ${quoted ? `'${be.name}'` : be.name} has no server available!`;
