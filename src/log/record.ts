// What a stream tells the logger when it ends: haproxy's httplog/tcplog fields, raw.
import type { SampleContext } from "../acl/context.js";

/** Termination state, first character: who ended the session (haproxy's letters). */
export type TermCause = "-" | "C" | "S" | "P" | "L" | "R" | "I" | "D" | "U" | "K" | "c" | "s";
/** Termination state, second character: in which phase. */
export type TermPhase = "-" | "R" | "Q" | "C" | "H" | "D" | "L" | "T";

export interface LogRecord {
  clientIp: string;
  clientPort: number;
  frontendIp: string;
  frontendPort: number;
  /** Epoch ms when the connection was accepted; for a later request, when the one before it ended. */
  acceptTime: number;
  /** Epoch ms when this request started (first byte after idle; the accept for the first request). */
  requestTime: number;
  frontend: string;
  /** "" when no backend was chosen; the logger prints the frontend name then. */
  backend: string;
  /** "" for no server (`<NOSRV>`). */
  server: string;
  /** The server connection's target (%si, %sp): "" and 0 without one. */
  serverIp: string;
  serverPort: number;
  /** Its source address (%bi, %bp), read only when a format uses it: "" and 0 otherwise. */
  sourceIp: string;
  sourcePort: number;
  /** The frontend's count of lines logged so far (%lc). */
  frontendLogs: { logCount: number };
  /** Timers in ms, -1 when the phase was never reached (haproxy's convention). */
  Th: number;
  Ti: number;
  TR: number;
  Tw: number;
  Tc: number;
  Tr: number;
  Ta: number;
  Tt: number;
  /** Status sent to the client, -1 when none. */
  status: number;
  /** Bytes sent to the client (headers included). */
  bytesOut: number;
  bytesIn: number;
  termCause: TermCause;
  termPhase: TermPhase;
  /** httplog's third and fourth termination-state characters (cookie persistence); "--" without `cookie`. */
  persistCookie: string;
  actconn: number;
  feconn: number;
  beconn: number;
  srvConn: number;
  retries: number;
  /** The retries field gets a "+" when the request was redispatched. */
  redispatched: boolean;
  srvQueue: number;
  backendQueue: number;
  /** `capture cookie`: the request's cookie (%CC) and the response's (%CS), undefined when none. */
  capturedCookie: string | undefined;
  capturedSetCookie: string | undefined;
  capturedRequest: readonly string[];
  capturedResponse: readonly string[];
  /** The request line as received ("<BADREQ>" when unparsable), "" for tcp. */
  requestLine: string;
  /** Nothing was received from the client (for dontlognull). */
  empty: boolean;
  /** haproxy's %rt: the process's count of streams before this one; -1 until the stream is numbered. */
  requestCounter: number;
  /** The unique id from the frontend's unique-id-format, once made. */
  uniqueId: string | undefined;
  /** What a format's sample expressions read: the stream, still there while its line is written. */
  ctx: SampleContext | undefined;
  /** set-log-level's: the line's level (0 emerg to 7 debug), -1 for no line; undefined: the proxy's. */
  logLevel: number | undefined;
}

/** The captures of a transaction that has none (most): one array for all. */
export const NO_CAPTURES: readonly string[] = Object.freeze([]);

/** The log count of a record that belongs to no frontend. */
const NO_FRONTEND = { logCount: 0 };

export function newLogRecord(): LogRecord {
  return {
    clientIp: "",
    clientPort: 0,
    frontendIp: "",
    frontendPort: 0,
    acceptTime: 0,
    requestTime: 0,
    frontend: "",
    backend: "",
    server: "",
    serverIp: "",
    serverPort: 0,
    sourceIp: "",
    sourcePort: 0,
    frontendLogs: NO_FRONTEND,
    Th: 0,
    Ti: 0,
    TR: -1,
    Tw: -1,
    Tc: -1,
    Tr: -1,
    Ta: 0,
    Tt: 0,
    status: -1,
    bytesOut: 0,
    bytesIn: 0,
    termCause: "-",
    termPhase: "-",
    persistCookie: "--",
    actconn: 0,
    feconn: 0,
    beconn: 0,
    srvConn: 0,
    retries: 0,
    redispatched: false,
    srvQueue: 0,
    backendQueue: 0,
    capturedCookie: undefined,
    capturedSetCookie: undefined,
    capturedRequest: NO_CAPTURES,
    capturedResponse: NO_CAPTURES,
    requestLine: "",
    empty: true,
    requestCounter: -1,
    uniqueId: undefined,
    ctx: undefined,
    logLevel: undefined,
  };
}

/** Where finished records go; the log module implements it. */
export interface LogSink {
  /** Whether `px` logs traffic at all (no target: the stream may skip filling the record). */
  enabled: boolean;
  emit(rec: LogRecord): void;
}
