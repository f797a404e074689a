export { HealthChecks, type CheckLog } from "./checks.js";
export { wsCheckKeyWarning } from "./ws-key.js";
