// haproxy's canned checks, each a ruleset of its own run by the tcp-check engine. Their texts come
// from the response, where haproxy's rulesets read it with sample expressions.
import type { CannedCheck } from "../config/model.js";
import { compileTcpCheck, type TcpCheckRuleset } from "./tcp-check.js";
import { redisCheck } from "./redis-check.js";
import { smtpchk } from "./smtpchk.js";
import { sslHelloChk } from "./ssl-hello-chk.js";

export function cannedRuleset(c: CannedCheck): TcpCheckRuleset {
  const rules =
    c.option === "redis-check" ? redisCheck() : c.option === "smtpchk" ? smtpchk(c.hello) : sslHelloChk();
  return compileTcpCheck(
    rules.map((r, index) => ({ ...r, index })),
    true,
  );
}
