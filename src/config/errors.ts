import type { Where } from "./model.js";

/** A configuration problem tied to a statement; `-c` prints it in haproxy's `[ALERT]` shape. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly where?: Where,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}
