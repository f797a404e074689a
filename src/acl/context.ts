import type { HttpHead } from "../http/message.js";
import type { BodyView } from "../http/body-view.js";
import type { Vars } from "./vars.js";
import type { StkCtrs } from "../stick/track.js";
import type { LogRecord } from "../log/record.js";
import type { LineEnv } from "../log/log-format.js";
import type { SockAddr } from "../util/tcp-socket.js";
import type { Where } from "../config/model.js";

/** What a sample fetch can see of one transaction. The proxy fills one per stream and reuses it. */
export interface SampleContext {
  req: HttpHead;
  /** The response head, for http-response rules; undefined before it arrives. */
  res?: HttpHead;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  feName: string;
  /** The backend once chosen, "" before. */
  beName: string;
  /** The server once one is chosen, undefined before. */
  readonly srvName?: string;
  /** The transaction is its client connection's first (http_first_req); undefined without a stream. */
  readonly firstRequest?: boolean;
  /** A proxy's request (option http-use-proxy-header): its credentials are in Proxy-Authorization. */
  readonly proxied?: boolean;
  /** Usable servers of a backend by name (nbsrv); -1 for an unknown backend. */
  nbsrv(backend: string): number;
  /** The request body in the buffer now (req.body...); absent without a stream. */
  requestBody?(): BodyView;
  /** The proxies' state; absent where no stream is (health checks). */
  readonly state?: ProxiesState;
  /** The rule that last ended its list of rules in this stream (last_rule_file, last_rule_line). */
  readonly lastRule?: Where;
  /** The client's own connection, whatever a PROXY header said (fc_src...); absent without a client. */
  readonly frontConn?: FrontConn;
  /** The bind the client connected to (so_id, so_name, dst_conn); absent without a client. */
  readonly listener?: ListenerState;
  /** This stream's timeout server and tunnel where a set-timeout rule gave them. */
  readonly streamTimeouts?: { readonly server: number | undefined; readonly tunnel: number | undefined };
  /** mode tcp: the bytes the client sent so far (the fetches of a request's raw bytes read them). */
  inspect?: Inspection;
  /** The transaction's line is being logged: its messages are gone, haproxy keeps only the method. */
  ended?: boolean;
  /** What the connection and its request track (sc0 to sc2); undefined where nothing can. */
  stk?: StkCtrs;
  /** The stream's variables; undefined in a context without a stream. */
  vars?: Vars;
  /** The stream's unique id (the frontend's unique-id-format), made on first use; undefined without one. */
  uniqueId?(): string | undefined;
  /** The transaction's log record as it stands, for a rule's log-format variables; none without a stream. */
  logRecord?(): LogRecord;
  /** What log-format variables say of the process (%pid, %H). */
  readonly lineEnv?: LineEnv;
  /** The process is stopping (soft stop): the stopping fetch. */
  readonly stopping?: boolean;
  /** The process environment the global section left (setenv...), for env(); else process.env. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** The response is compressed with this algorithm (its configuration name). */
  readonly resCompAlgo?: string;
  /** A capture rule's sample into the frontend's capture slot; absent without a stream. */
  capture?(side: "request" | "response", slot: number, value: string): void;
  /** A set-src or set-dst rule changed src, srcPort, dst or dstPort: for what keeps them past the rules. */
  endsMoved?(): void;
  /** A set-log-level rule: the level of the stream's log line, -1 for none; absent without a stream. */
  setLogLevel?(level: number): void;
  /** The stream's queue priority (set-priority-class, set-priority-offset); absent without a stream. */
  priorityClass?: number;
  priorityOffset?: number;
}

/** A client's connection as the socket has it: its two ends, and whether a PROXY header came. */
export interface FrontConn {
  peer(): SockAddr;
  local(): SockAddr;
  readonly proxied: object | undefined;
}

/** The proxies' state as the fetches that read it see it (be_conn, srv_is_up, fe_id...). */
export interface ProxiesState {
  backend(name: string): BackendState | undefined;
  frontend(name: string): FrontendState | undefined;
}

/** An event rate (the sessions or requests of a second), counted where a configuration reads one. */
export interface Rate {
  /** Events in the second up to `now` (performance.now()). */
  read(now: number, period: number): number;
}

/** A bind's listening socket: its number and name (bind id, name), and its connections now. */
export interface ListenerState {
  readonly id: number;
  readonly name: string | undefined;
  readonly cur: number;
}

export interface BackendState {
  readonly id: number;
  /** Connections it serves now (haproxy's beconn). */
  readonly cur: number;
  /** Streams it was given, per second (be_sess_rate). */
  readonly sessRate: Rate;
  readonly queue: { readonly length: number };
  readonly servers: readonly ServerState[];
  readonly px: {
    readonly timeouts: { readonly server?: number; readonly tunnel?: number };
    readonly allbackups: boolean;
  };
}

export interface ServerState {
  readonly name: string;
  readonly id: number;
  readonly cur: number;
  readonly maxconn: number;
  readonly maxqueue: number;
  readonly queue: { readonly length: number };
  readonly up: boolean;
  readonly backup: boolean;
  /** Its weight, as its configuration gave it (nothing changes it at run time). */
  readonly weight: number;
  /** Connections made or reused for it, per second (srv_sess_rate). */
  readonly sessRate: Rate;
}

export interface FrontendState {
  readonly id: number;
  readonly cur: number;
  /** Sessions (connections its session rules let in) and HTTP requests, per second. */
  readonly sessRate: Rate;
  readonly reqRate: Rate;
  readonly defaultBackend: { readonly name: string } | undefined;
  readonly px: { readonly timeouts: { readonly client?: number } };
}

/**
 * What tcp-request content rules inspect in mode tcp. Until it is final (the inspect delay over, the
 * client's FIN, the buffer full), a fetch that finds too little says its sample may change: a
 * condition it fails then waits for more data rather than fail.
 */
export interface Inspection {
  buf: Buffer;
  final: boolean;
  mayChange: boolean;
  /** tune.bufsize: a payload past it will never come (the buffer holds 1024 bytes less of it). */
  max: number;
}
