// `option redis-check`: a PING in RESP form, answered +PONG. A wrong answer waits for more (a
// timeout) unless the server closes; its first line is then the info.
import { firstLine, type CannedRule } from "./tcp-check.js";

export const redisCheck = (): CannedRule[] => [
  { action: "send", data: "*1\r\n$4\r\nPING\r\n" },
  {
    action: "expect",
    kind: "string",
    pattern: "+PONG\r\n",
    negate: false,
    minRecv: -1,
    errorStatus: "L7STS",
    onSuccess: "Redis server is ok",
    read: { onError: (buf) => firstLine(buf) },
  },
];
