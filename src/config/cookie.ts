// `cookie NAME [insert|rewrite|prefix] [options]`: a backend's persistence cookie, checked as haproxy 2.6
// checks it.
import type { CookiePersistence } from "./model.js";
import type { KeywordContext } from "./proxy-keywords.js";
import { capOk } from "./proxy-keywords.js";
import { parseTime } from "./duration.js";

const FLAGS = ["indirect", "nocache", "postonly", "preserve", "httponly", "secure"] as const;
const MODES = ["insert", "rewrite", "prefix"] as const;

export function parseCookie(c: KeywordContext): void {
  const w = c.words;
  // As haproxy's, a cookie line in a frontend is checked, then ignored.
  const keep = capOk(c, "be", "cookie");
  const name = w[1];
  if (!name) return c.alert(`'cookie' expects <cookie_name> as argument.`);
  const ck: CookiePersistence = {
    name,
    mode: "passive",
    indirect: false,
    nocache: false,
    postonly: false,
    preserve: false,
    httponly: false,
    secure: false,
    domains: [],
    maxidle: 0,
    maxlife: 0,
    // haproxy resets everything at each cookie line but the attributes, which add up.
    attrs: [...(c.px.cookie?.attrs ?? [])],
  };
  const modes = new Set<string>();
  // As haproxy's, the options end at the first empty word.
  for (let i = 2; i < w.length && w[i] !== ""; i++) {
    const a = w[i]!;
    const value = w[i + 1];
    if ((MODES as readonly string[]).includes(a)) {
      modes.add(a);
      ck.mode = a as CookiePersistence["mode"];
    } else if ((FLAGS as readonly string[]).includes(a)) ck[a as (typeof FLAGS)[number]] = true;
    else if (a === "domain") {
      // haproxy writes the place of its domain, maxidle, maxlife and attr messages `parsing [f:l]:`.
      if (!value) return c.alert(`'domain' expects <domain> as argument.`, true);
      if (!value.includes("."))
        c.warning(
          `domain '${value}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).`,
          true,
        );
      const bad = /[^A-Za-z0-9._-]/.exec(value);
      if (bad) return c.alert(`character '${bad[0]}' is not permitted in domain name '${value}'.`, true);
      ck.domains.push(value);
      i++;
    } else if (a === "maxidle" || a === "maxlife") {
      if (!value)
        return c.alert(
          `'${a}' expects <${a === "maxidle" ? "idletime" : "lifetime"}> in seconds as argument.`,
          true,
        );
      const s = parseTime(value, "s", (m) => c.warning(m));
      if (s === "over")
        return c.alert(
          `timer overflow in argument <${value}> to <${a}>, maximum value is 2147483647 s (~68 years).`,
          true,
        );
      if (typeof s === "object")
        return c.alert(`unexpected character '${s.bad}' in argument to <${a}>.`, true);
      ck[a] = s;
      i++;
    } else if (a === "attr") {
      if (!value) return c.alert(`'attr' expects <value> as argument.`, true);
      const bad = [...value].find((ch) => ch < " " || ch === "\x7f" || ch === ";");
      if (bad !== undefined) {
        const hex = bad.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
        return c.alert(`character '%x${hex}' is not permitted in attribute value.`, true);
      }
      ck.attrs.push(value);
      i++;
    } else if (a === "dynamic")
      return c.alert(
        `'cookie ... dynamic' is not supported by sluice yet (dynamic-cookie-key is not either).`,
      );
    else
      return c.alert(
        `'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.`,
      );
  }
  // haproxy reports each conflict and keeps going; the section is refused either way.
  let ok = true;
  if (modes.has("rewrite") && ck.indirect) {
    c.alert(`cookie 'rewrite' and 'indirect' modes are incompatible.`);
    ok = false;
  }
  if (modes.size > 1) {
    c.alert(`cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.`);
    ok = false;
  }
  if (ck.preserve && ck.mode !== "insert" && !ck.indirect) {
    c.alert(`cookie 'preserve' requires at least 'insert' or 'indirect'.`);
    ok = false;
  }
  if (ok && keep) c.px.cookie = ck;
}
