// haproxy's word rules for one configuration line: blanks split words, `#` starts a comment outside
// quotes, backslash escapes everywhere but in single quotes, `${VAR}` and `$VAR` expand in double quotes.

/** haproxy refuses lines with more words than this. */
export const MAX_LINE_ARGS = 64;

export type Env = Readonly<Record<string, string | undefined>>;

/** `at`: where in the line haproxy points its caret (0-based), for the messages that have one. */
export class TokenizeError extends Error {
  constructor(
    message: string,
    readonly at?: number,
  ) {
    super(message);
  }
}

const isBlank = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const isVarChar = (c: string): boolean => /[A-Za-z0-9_]/.test(c);

const ESCAPES: Record<string, string> = {
  " ": " ",
  "#": "#",
  "\\": "\\",
  "'": "'",
  '"': '"',
  r: "\r",
  n: "\n",
  t: "\t",
};

/** haproxy's words are C strings: a NUL (written \x00) ends the word, what follows in it is lost. */
const cString = (word: string): string => {
  const nul = word.indexOf("\0");
  return nul < 0 ? word : word.slice(0, nul);
};

/** Splits a line into words. Throws TokenizeError with haproxy's kind of message on bad input. */
export function tokenize(line: string, env: Env): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | "" = "";
  let quoteAt = 0;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = "";
      else word += c;
      i++;
      continue;
    }
    if (c === "\\") {
      const next = line[i + 1];
      if (next === undefined) {
        word += c;
        inWord = true;
        i++;
        continue;
      }
      if (next === "x") {
        const hex = line.slice(i + 2, i + 4);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex))
          throw new TokenizeError(`truncated or invalid hexadecimal sequence`, i);
        word += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else if (next === "$" && quote === '"') {
        // In double quotes, \$ is a dollar that names no variable (json_query('$.a')).
        word += "$";
        i += 2;
      } else if (ESCAPES[next] !== undefined) {
        word += ESCAPES[next];
        i += 2;
      } else {
        // Not an escape haproxy knows: both characters stay (regexes rely on this, e.g. `\.`).
        word += c + next;
        i += 2;
      }
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') {
        quote = "";
        i++;
      } else if (c === "$") {
        i = expand(line, i, env, (v) => (word += v));
      } else {
        word += c;
        i++;
      }
      continue;
    }
    if (c === "#") break;
    if (isBlank(c)) {
      if (inWord) {
        words.push(cString(word));
        word = "";
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      quoteAt = i;
      inWord = true;
      i++;
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  if (quote !== "") throw new TokenizeError(`unmatched quote`, quoteAt);
  if (inWord) words.push(cString(word));
  if (words.length > MAX_LINE_ARGS)
    throw new TokenizeError(`too many words, truncating after word ${MAX_LINE_ARGS}`);
  return words;
}

/** Expands `$NAME` or `${NAME}` / `${NAME-default}` starting at line[i] === "$"; returns the next index. */
function expand(line: string, i: number, env: Env, emit: (v: string) => void): number {
  if (line[i + 1] === "{") {
    const close = line.indexOf("}", i + 2);
    if (close < 0) throw new TokenizeError(`unmatched brace in environment variable name`, i + 1);
    const body = line.slice(i + 2, close);
    const dash = body.indexOf("-");
    const name = dash < 0 ? body : body.slice(0, dash);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TokenizeError(`invalid variable name '${name}'`);
    const value = env[name];
    emit(value !== undefined ? value : dash < 0 ? "" : body.slice(dash + 1));
    return close + 1;
  }
  let j = i + 1;
  while (j < line.length && isVarChar(line[j]!)) j++;
  if (j === i + 1) {
    emit("$");
    return j;
  }
  emit(env[line.slice(i + 1, j)] ?? "");
  return j;
}
