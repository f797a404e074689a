import type { Where } from "./model.js";

/** A configuration problem tied to a statement; `-c` prints it in haproxy's `[ALERT]` shape. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
    /** haproxy writes this message's place without a blank before the colon. */
    readonly tight = false,
    /** haproxy's last word on it, when not "Fatal errors found in configuration.". */
    readonly verdict = "Fatal errors found in configuration.",
  ) {
    super(message);
    this.name = "ConfigError";
  }
}
