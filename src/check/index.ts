export { HealthChecks, type CheckLog, type Spread } from "./checks.js";
export { wsCheckKeyWarning } from "./ws-key.js";
