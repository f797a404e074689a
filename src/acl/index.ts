// HAProxy's ACL language for HTTP mode: sample fetches, matchers, conditions.
export type { SampleContext } from "./context.js";
export { Acl, compileAcl } from "./acl.js";
export { compileCondition, checkAcls } from "./condition.js";
export { isFetch } from "./fetch.js";
export { PREDEFINED_NAMES, predefinedAcl } from "./predefined.js";
