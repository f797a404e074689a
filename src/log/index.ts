// The log module: haproxy's log formats, syslog headers, targets and the logger that ties them.
export { Logger, type LogProxy, type LoggerOptions, type ConsoleLabel } from "./logger.js";
export {
  formatHttplog,
  formatTcplog,
  formatConnect,
  isErrorRecord,
  logDate,
  logDateGmt,
  encodeRequestLine,
  encodeHeader,
} from "./format.js";
export { SyslogHeaders, LEVEL, priority, facilityCode, isoTimestamp, bsdTimestamp } from "./syslog.js";
export { FdSender, UdpSender, type Sender, FD_BUFFER_LIMIT, UDP_INFLIGHT_LIMIT } from "./targets.js";
export { newLogRecord, type LogRecord, type LogSink, type TermCause, type TermPhase } from "./record.js";
