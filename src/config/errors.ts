import type { Where } from "./model.js";

/** A configuration problem tied to a statement; `-c` prints it in haproxy's `[ALERT]` shape. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
    /** haproxy writes this message's place without a blank before the colon. */
    readonly tight = false,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}
