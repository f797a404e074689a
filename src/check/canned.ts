// haproxy's canned checks, each a ruleset of its own run by the tcp-check engine. Their texts come
// from the response, where haproxy's rulesets read it with sample expressions, or with custom expect
// functions (MySQL's and LDAP's judges).
import type { CannedCheck } from "../config/model.js";
import { compileTcpCheck, type CannedRule, type TcpCheckRuleset } from "./tcp-check.js";
import { redisCheck } from "./redis-check.js";
import { smtpchk } from "./smtpchk.js";
import { sslHelloChk } from "./ssl-hello-chk.js";
import { pgsqlCheck } from "./pgsql-check.js";
import { mysqlCheck } from "./mysql-check.js";
import { ldapCheck } from "./ldap-check.js";

function rulesOf(c: CannedCheck): CannedRule[] {
  switch (c.option) {
    case "redis-check":
      return redisCheck();
    case "smtpchk":
      return smtpchk(c.hello);
    case "ssl-hello-chk":
      return sslHelloChk();
    case "pgsql-check":
      return pgsqlCheck(c.user);
    case "mysql-check":
      return mysqlCheck(c.login);
    case "ldap-check":
      return ldapCheck();
  }
}

export function cannedRuleset(c: CannedCheck): TcpCheckRuleset {
  return compileTcpCheck(
    rulesOf(c).map((r, index) => ({ ...r, index })),
    true,
  );
}
