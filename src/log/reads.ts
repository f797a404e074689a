// What a configuration's formats and fetches read that the data path keeps only on demand: a server
// connection's own address (%bi), the request line of a frontend that does not log (%HU in a rule,
// capture.req.uri), the captures, the proxies' and servers' rates. Noted as they are compiled.

/** What a rate fetch (fe_sess_rate, be_sess_rate...) notes: the rates are counted. */
export const RATES = "rates";

/** The names noted while readsDuring runs its compile. */
let reading: Set<string> | undefined;

/** A format's variable (`bi`, `HU`...) or a fetch standing for one is compiled. */
export function noteRead(name: string): void {
  reading?.add(name);
}

/** Runs `compile` and returns what the formats and fetches it compiled noted. */
export function readsDuring(compile: () => void): ReadonlySet<string> {
  const before = reading;
  const names = new Set<string>();
  reading = names;
  try {
    compile();
    return names;
  } finally {
    reading = before;
  }
}
