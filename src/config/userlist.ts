// `userlist` sections: their `user` and `group` lines as haproxy 2.6 reads them (its messages, its
// warnings for what it ignores), and the cross-references between users and groups, resolved once
// every file is read.
import type { AuthUser, Userlist, Where } from "./model.js";
import type { Reporter } from "./server.js";
import { cryptScheme } from "../util/crypt.js";

const BAD_NAME_CHAR = /[^A-Za-z0-9_.:-]/;

export class UserlistSections {
  readonly lists = new Map<string, Userlist>();
  /** Where `user` and `group` lines go: the last list made (a duplicated one's lines go there too, as in haproxy). */
  private current: Userlist | undefined;

  open(words: string[], where: Where, r: Reporter): void {
    const name = words[1];
    if (!name) return r.alert(`'userlist' expects <name> as arguments.`, true);
    if (words.length > 2) return r.alert(`'userlist' cannot handle unexpected argument '${words[2]}'.`);
    if (!validName("userlist", name, r)) return;
    if (this.lists.has(name)) return r.warning(`ignoring duplicated userlist '${name}'.`, true);
    this.current = { name, where, users: new Map(), groups: new Map() };
    this.lists.set(name, this.current);
  }

  keyword(words: string[], where: Where, r: Reporter): void {
    const [kw, name] = words;
    if (kw !== "user" && kw !== "group") return r.alert(`unknown keyword '${kw}' in 'users' section`, true);
    if (!name) return r.alert(`'${kw}' expects <name> as arguments.`, true);
    if (kw === "group") this.group(name, words, where, r);
    else this.user(name, words, where, r);
  }

  private group(name: string, words: string[], where: Where, r: Reporter): void {
    if (!validName("group", name, r)) return;
    const list = this.current;
    if (!list) return;
    if (list.groups.has(name))
      return r.warning(`ignoring duplicated group '${name}' in userlist '${list.name}'.`, true);
    let users: string | undefined;
    for (let i = 2; i < words.length; i += 2) {
      if (words[i] !== "users") return r.alert(`'group' only supports 'users' option.`, true);
      users = words[i + 1] ?? "";
    }
    list.groups.set(name, { users, where });
  }

  private user(name: string, words: string[], where: Where, r: Reporter): void {
    const list = this.current;
    if (!list) return;
    if (list.users.has(name))
      return r.warning(`ignoring duplicated user '${name}' in userlist '${list.name}'.`, true);
    const user: AuthUser = {
      password: undefined,
      insecure: false,
      groupNames: undefined,
      groups: new Set(),
      where,
    };
    list.users.set(name, user);
    for (let i = 2; i < words.length; i += 2) {
      const value = words[i + 1] ?? "";
      switch (words[i]) {
        case "password":
          // haproxy asks the system's crypt(3), which knows more schemes than Sluice implements.
          if (cryptScheme(value) === undefined)
            return r.alert(
              `the encrypted password used for user '${name}' is not supported by sluice: it checks crypt(3)'s ` +
                `MD5 ($1$), SHA-256 ($5$) and SHA-512 ($6$) hashes (for another scheme, make one of these, ` +
                `e.g. with 'mkpasswd -m sha-512').`,
              true,
            );
          user.password = value;
          break;
        case "insecure-password":
          // Once set, it stays: a later `password` is then compared as it is written, as in haproxy.
          user.password = value;
          user.insecure = true;
          break;
        case "groups":
          user.groupNames = value;
          break;
        default:
          return r.alert(`'user' only supports 'password', 'insecure-password' and 'groups' options.`, true);
      }
    }
  }

  /** Each user's groups, from its own `groups` and from each group's `users`; a name nobody declared is refused. */
  resolve(alert: (message: string, where: Where) => void): void {
    for (const list of this.lists.values()) {
      for (const [name, user] of list.users)
        for (const group of names(user.groupNames)) {
          if (list.groups.has(group)) user.groups.add(group);
          else
            alert(
              `userlist '${list.name}': no such group '${group}' specified in user '${name}'`,
              user.where,
            );
        }
      for (const [name, group] of list.groups)
        for (const userName of names(group.users)) {
          const user = list.users.get(userName);
          if (user) user.groups.add(name);
          else
            alert(
              `userlist '${list.name}': no such user '${userName}' specified in group '${name}'`,
              group.where,
            );
        }
    }
  }
}

function validName(kind: string, name: string, r: Reporter): boolean {
  const bad = BAD_NAME_CHAR.exec(name);
  if (bad) r.alert(`character '${bad[0]}' is not permitted in '${kind}' name '${name}'.`, true);
  return !bad;
}

/** A comma-separated list as strtok reads it: empty items are skipped. */
const names = (list: string | undefined): string[] => (list ?? "").split(",").filter((n) => n !== "");
