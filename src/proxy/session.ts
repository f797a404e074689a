// One client connection, from accept to close: the HTTP transaction loop, and the tunnel that
// replaces it when a server switches protocols (or from the start in tcp mode).
//
// Bytes stay Buffers all along: heads are parsed in place, forwarded as byte ranges with a few
// header lines changed, and bodies and tunnels are copied through with backpressure.

// Buffer as an import: the global is a getter, a call at each use on the data path.
import { Buffer } from "node:buffer";
import type { Runtime } from "./runtime.js";
import type { RtFrontend } from "./frontend.js";
import type { RtBackend, RtServer, Taken, Waiter } from "./backend.js";
import { BodyKind, headerNameIs, HTX_HEAD, type HttpHead } from "../http/message.js";
import {
  NEED_MORE,
  newHead,
  parseRequest,
  parseResponse,
  responseBodyKind,
  headerIndex,
  headerValue,
  normalizedStartLine,
  maxHeadSize,
  maxHeadWeight,
  Leniency,
} from "../http/parse.js";
import { chunkedBody, lengthBody, noBody, type BodyView } from "../http/body-view.js";
import { ChunkedScanner } from "../http/chunked.js";
import { outFraming, reframer, type OutFraming, type Reframer } from "../http/reframe.js";
import { acceptFor, newWebSocketKey } from "../http/websocket-key.js";
import { HeadEdits, normalizeHead, serializeHead } from "../http/serialize.js";
import { adjustCase } from "../http/case-adjust.js";
import { hdrOcc } from "../acl/headers.js";
import { Sample } from "../acl/sample.js";
import { cleanConnectionHeaders } from "../http/connection.js";
import {
  buildReply,
  challengeReply,
  errorReply,
  headOf,
  redirectReply,
  type ReplyConnection,
} from "../http/errors.js";
import {
  connectionFor,
  errorFileBytes,
  withConnection,
  withHeader,
  type ErrorFile,
} from "../http/errorfile.js";
import {
  evalRequestSide,
  evalResponseRules,
  CONTINUE,
  type CompiledRule,
  type BuiltReply,
  type RuleContext,
  type Verdict,
} from "./rules.js";
import { refuses, tcpVerdict } from "./tcp-rules.js";
import type { StkCtrs } from "../stick/track.js";
import { stickRequest, stickResponse, type PendingStore } from "../stick/stick-rules.js";
import type { FrontConn, Inspection, ProxiesState } from "../acl/context.js";
import type { HttpResponseAction, ReplySpec, Where } from "../config/model.js";
import { newLogRecord, NO_CAPTURES, type LogRecord, type TermCause, type TermPhase } from "../log/record.js";
import type { LineEnv } from "../log/log-format.js";
import { forwardedAlready, forwardedFor, originalTo } from "./forwardfor.js";
import { pathStart } from "../acl/uri.js";
import { proxyHeaderFor } from "./proxy-protocol.js";
import {
  Persistence,
  cacheable,
  insertedCookie,
  readRequestCookies,
  readServerCookies,
} from "./persistence.js";
import { ServerConn, park, unpark, type ConnOwner } from "./server-conn.js";
import { wheel, type WheelEntry } from "../util/wheel.js";
import { PendingQueue } from "./queue.js";
import * as clock from "../util/clock.js";
import type { LinkedList, ListEntry } from "../util/linked-list.js";
import { Vars } from "../acl/vars.js";
import { Compressor, type CompAlgo } from "../http/compressor.js";
import { chooseAlgo, compressedHead, compressible } from "../http/compression.js";
import type { BindState, ClientSocket } from "./client-socket.js";
import { empty } from "../util/array.js";
import { AFTER_SENDING, RetryOn, statusBit } from "../config/retry-on.js";
import type { Ends } from "./client-ends.js";

/** Where the session is; the timer's meaning and the data handlers' behaviour follow from it. */
const enum Phase {
  /** Waiting for (the rest of) a request head. */
  Head,
  /** option http-buffer-request: waiting for the request's body before its rules run. */
  Body,
  /** mode tcp: tcp-request content rules wait for the client's first bytes. */
  Inspect,
  /** Waiting in a queue for a server slot. */
  Queue,
  /** Connecting to a server (attempts and retries). */
  Connect,
  /** Request forwarded (its body may still be flowing); waiting for and relaying the response. */
  Exchange,
  /** Holding a denied client (http-request tarpit). */
  Tarpit,
  /** Bytes both ways, nothing parsed. */
  Tunnel,
  Closed,
}

/**
 * How much of a request body has come: more is needed, it is in (or none is expected), or its
 * chunks are malformed.
 */
const enum BodyIn {
  Partial,
  Whole,
  Bad,
}

/** Body progress of one direction. */
const enum Body {
  None,
  Length,
  Chunked,
  UntilClose,
  Done,
}

export class Session implements RuleContext, ConnOwner, WheelEntry, ListEntry {
  // SampleContext
  /** The current request head; between transactions the last one, reused by the parser. */
  req!: HttpHead;
  res: HttpHead | undefined = undefined;
  /** The object the parser fills for each response, reused across transactions. */
  private resHead: HttpHead | undefined;
  /** The stream's ends: the session's, until a set-src or set-dst rule changes them. */
  src = "";
  srcPort = 0;
  dst = "";
  dstPort = 0;
  readonly feName: string;
  beName = "";
  /** mode tcp: the client's first bytes as content rules and use_backend see them. */
  inspect: Inspection | undefined = undefined;
  /** While the transaction's line is written: its messages count as gone. */
  ended = false;
  lastRule: Where | undefined = undefined;
  readonly vars: Vars;
  /** What the connection and its request track, when the configuration has stick tables. */
  readonly stk: StkCtrs | undefined;
  /** Its place in a backend's queue while waiting for a server: a new one for each wait. */
  private ticket: Waiter | undefined;
  /** set-priority-class and set-priority-offset's: where the stream waits in a queue (queue.ts). */
  priorityClass = 0;
  priorityOffset = 0;

  private phase = Phase.Head;
  private readonly http: boolean;
  /** The frontend has log targets: only then are request lines and captures worth building. */
  private readonly logging: boolean;
  /** The server connection this session owns. */
  private conn: ServerConn | undefined;
  private srv: RtServer | undefined;
  private be: RtBackend | undefined;
  /** Client bytes read but not consumed yet (a partial head, or a pipelined request). */
  private cbuf: Buffer | undefined;
  /** Server bytes read but not consumed yet (a partial response head). */
  private sbuf: Buffer | undefined;
  private reqBody = Body.None;
  /** The request came as a CONNECT (rules may change its method since). */
  private receivedConnect = false;
  /** The request came as a HEAD: its client gets no response body, whatever method the server saw. */
  private receivedHead = false;
  /** The request came with Connection: close (a rule may have written one since). */
  private receivedClose = false;
  private reqLeft = 0;
  private resBody = Body.None;
  private resLeft = 0;
  /** Chunked-body scanners, made on first use: most sessions never see a chunked body. */
  private reqChunks: ChunkedScanner | undefined;
  private resChunks: ChunkedScanner | undefined;
  /** The head as sent to the server, kept for connection retries. */
  private outHead: Buffer | undefined;
  /**
   * retry-on past the connection: the request as it left (its head without http-send-name-header's
   * line, then its body), kept until a response is taken, if it was whole as it left and fits in a
   * buffer: haproxy keeps such a copy, and retries no other request.
   */
  private replay: Replay | undefined;
  /** http-request disable-l7-retry: only a connection failure may have the request sent again. */
  private l7RetryOff = false;
  /** The request rules run with strict-mode off (RuleContext.softRewrites). */
  softRewrites = false;
  /** A rule rewrote the request's head: its framing is read again as it leaves. */
  private reqRewritten = false;
  /** The body leaves framed otherwise than it came (reframe.ts), the request's and the response's. */
  private reqOut: Reframer | undefined = undefined;
  private resOut: Reframer | undefined = undefined;
  /** The compression algorithm the request chose, if the response can take it. */
  private compAlgo: CompAlgo | undefined = undefined;
  /** The response is compressed as it passes. */
  private comp: Compressor | undefined = undefined;
  /** A compressed chunked response: the payload of each piece of its body, gathered by its scanner. */
  private compPayload: Buffer[] | undefined = undefined;
  private attempts = 0;
  private readonly rec: LogRecord = newLogRecord();
  /** Requests served on this connection; the first one may not reuse another client's server connection. */
  private served = 0;
  /** This transaction follows another on the connection (haproxy's TX_NOT_FIRST). */
  private notFirst = false;
  /** The client asked to close after this transaction (or must, by our mode). */
  private closeAfter = false;
  private wantsUpgrade = false;
  /** http-request set-timeout's for this stream, in place of the backend's timeout server and tunnel. */
  private streamServerTimeout: number | undefined = undefined;
  private streamTunnelTimeout: number | undefined = undefined;
  /** The Sec-WebSocket-Key the proxy wrote for this request (a rule took the client's away). */
  private wsKey: string | undefined = undefined;
  /**
   * option http-use-proxy-header and a target that starts with neither '/' nor '*', as the request
   * arrived (rules that rewrite it change nothing): a proxy's request.
   */
  private proxiedRequest = false;
  /** The Sec-WebSocket-Key of the client's handshake as received, which haproxy answers for. */
  private clientKey: string | undefined = undefined;
  private clientEnded = false;
  private serverEnded = false;
  /** When the session holds a slot on srv (released exactly once). */
  private holdsSlot = false;
  private beCounted = false;
  // ListEntry: on srv's list of sessions while it holds a slot there.
  list: LinkedList<ListEntry> | null = null;
  listPrev: ListEntry | null = null;
  listNext: ListEntry | null = null;

  /** A rule changed this stream's ends. */
  private endsChanged = false;

  /** `sessionEnds`: the session's ends where its tcp-request session rules ran; else the connection's. */
  constructor(
    private readonly rt: Runtime,
    private readonly fe: RtFrontend,
    private readonly client: ClientSocket,
    private readonly sessionEnds?: Ends,
  ) {
    this.http = fe.px.mode === "http";
    this.logging = fe.px.logs.length > 0;
    this.feName = fe.name;
    this.vars = new Vars(rt.procVars);
    this.stk = client.stk;
    const rec = this.rec;
    this.startEnds();
    rec.frontend = fe.name;
    rec.frontendLogs = fe;
    rec.ctx = this;
    rec.acceptTime = rec.requestTime = clock.now();
    // accept-proxy: the connection was accepted before its header came (haproxy's handshake time).
    if (client.acceptedAt !== undefined) {
      rec.Th = rec.acceptTime - client.acceptedAt;
      rec.acceptTime = client.acceptedAt;
    }

    if (fe.px.cliTcpKa) client.setKeepAlive(true);
    client.session = this;
  }

  /**
   * Once the runtime counts the session (it may end at once: a TCP session without a backend), with
   * the bytes that came with a PROXY header, if any.
   */
  start(early: Buffer | undefined): void {
    if (this.http) {
      this.arm(this.fe.headTimeout);
      if (early) this.onClientData(early);
      return;
    }
    if (early) {
      this.rec.bytesIn += early.length;
      this.rec.empty = false;
      this.cbuf = early;
    }
    this.startTcp();
  }

  nbsrv(backend: string): number {
    const b = this.rt.backends.get(backend);
    return b ? b.usableCount() : -1;
  }

  get listener(): BindState {
    return this.client.listener;
  }

  get frontConn(): FrontConn {
    return this.client;
  }

  get state(): ProxiesState {
    return this.rt;
  }

  /**
   * The request body as req.body and its kin read it: as much of it as haproxy's buffer holds, the
   * room left past the head and its bookkeeping, 8 bytes less again, 16 when chunked (measured with
   * haproxy 2.6.12).
   */
  requestBody(): BodyView {
    const buf = this.cbuf;
    const kind = this.reqBody;
    if (buf === undefined || (kind !== Body.Length && kind !== Body.Chunked))
      return noBody(kind === Body.Length ? this.reqLeft : 0);
    const room = this.bodyRoom(kind);
    return kind === Body.Length
      ? lengthBody(buf, this.reqLeft, room)
      : chunkedBody(buf, this.rt.global.bufsize, room);
  }

  /** The request head's weight in haproxy's buffer, and its length, as it was received. */
  private headWeight = 0;
  private headLength = 0;

  /** How much of the request body haproxy's buffer holds past the head (see requestBody). */
  private bodyRoom(kind: Body.Length | Body.Chunked): number {
    return Math.max(
      0,
      maxHeadWeight(this.rt.global.bufsize, this.rt.global.maxrewrite) -
        this.headWeight -
        (kind === Body.Chunked ? 16 : 8),
    );
  }

  get streamTimeouts(): { server: number | undefined; tunnel: number | undefined } {
    return { server: this.streamServerTimeout, tunnel: this.streamTunnelTimeout };
  }

  get lineEnv(): LineEnv {
    return this.rt.logger.lineEnv;
  }

  get srvName(): string | undefined {
    return this.srv?.name;
  }

  get firstRequest(): boolean {
    return !this.notFirst;
  }

  get stopping(): boolean {
    return this.rt.stopping;
  }

  get environment(): Readonly<Record<string, string | undefined>> | undefined {
    return this.rt.global.env;
  }

  get proxied(): boolean {
    return this.proxiedRequest;
  }

  get resCompAlgo(): string | undefined {
    return this.comp?.algo;
  }

  endsMoved(): void {
    this.recordEnds();
    this.endsChanged = true;
  }

  /** The stream's ends from the session's, and so the log line's. */
  private startEnds(): void {
    const e = this.sessionEnds;
    if (e) {
      this.src = e.src;
      this.srcPort = e.srcPort;
      this.dst = e.dst;
      this.dstPort = e.dstPort;
    } else {
      const peer = this.client.source();
      const local = this.client.destination();
      this.src = peer.address ?? "";
      this.srcPort = peer.port ?? 0;
      this.dst = local.address ?? "";
      this.dstPort = local.port ?? 0;
    }
    this.recordEnds();
  }

  /** The log line's %ci, %cp, %fi, %fp, and option forwardfor's line: the stream's ends. */
  private recordEnds(): void {
    this.forwardedTo = undefined;
    const rec = this.rec;
    rec.clientIp = this.src;
    rec.clientPort = this.srcPort;
    rec.frontendIp = this.dst;
    rec.frontendPort = this.dstPort;
  }

  setLogLevel(level: number): void {
    this.rec.logLevel = level;
  }

  uniqueId(): string | undefined {
    const rec = this.rec;
    const format = this.fe.uniqueId;
    if (rec.uniqueId === undefined && format !== undefined) {
      this.numbered();
      // haproxy builds it in 128 bytes, its final NUL included.
      rec.uniqueId = format(rec, this.rt.logger.lineEnv).slice(0, 127);
    }
    return rec.uniqueId;
  }

  /** The log record with the connection counts of now, the stream numbered (%ac, %rt): for the log line, and a rule's format. */
  logRecord(): LogRecord {
    const rec = this.rec;
    rec.actconn = this.rt.actconn;
    rec.feconn = this.fe.cur;
    rec.beconn = this.be ? this.be.cur : 0;
    rec.srvConn = !this.srv ? 0 : this.holdsSlot ? this.srv.cur : this.srvConnLeft;
    const cookies = this.persistence?.captured;
    rec.capturedCookie = cookies?.request;
    rec.capturedSetCookie = cookies?.response;
    this.numbered();
    return rec;
  }

  /** %rt: streams are numbered as they first need it (their id, their log line, a rule's format). */
  private numbered(): void {
    if (this.rec.requestCounter < 0) this.rec.requestCounter = streamCount++;
  }

  // ─── timers ──────────────────────────────────────────────────────────────────────────────────

  // WheelEntry: one deadline per session, in the shared timer wheel.
  deadline = 0;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = -1;
  /** The timeout of the current phase; activity pushes the deadline this far ahead. */
  private timerMs = 0;

  /**
   * Sets the current phase's timeout (undefined or 0: none), counted from now; the first expiry may
   * come sooner (`first`), after which activity pushes the deadline `ms` ahead again.
   */
  private arm(ms: number | undefined, first = ms): void {
    if (ms === undefined || ms === 0) {
      this.timerMs = 0;
      wheel.cancel(this);
      return;
    }
    this.timerMs = ms;
    wheel.schedule(this, clock.now() + first!);
  }

  /**
   * A tunnel without `timeout tunnel` whose client side times out before its server side: when it
   * does, haproxy 2.6 stops reading the client and passes a FIN to the server, which may go on
   * answering until its own timeout; the session is then logged as the client's timeout.
   */
  private clientTimesOutFirst = false;
  private tunnelTimeoutCause: TermCause = "c";
  /**
   * option independent-streams in the tunnel: 1 for the frontend's, 2 for the backend's; then when
   * each side last sent data (wheel time).
   */
  private independent = 0;
  private clientReadAt = 0;
  private serverReadAt = 0;
  /** The client side of the tunnel timed out: however the session ends now, it is logged cD. */
  private clientTimedOut = false;

  /** Activity on a side: the current timeout counts again from now. */
  private touch(): void {
    if (this.timerMs > 0) this.deadline = wheel.now + this.timerMs;
  }

  /**
   * Data read from a side of a tunnel under option independent-streams. Each side lapses at its
   * timeout past its last data, as without the option, except that on a side with the option only
   * data it sent counts (haproxy's read timeout, which data sent to it no longer refreshes). The side
   * that lapses first ends the session (cD or sD). Once a side has ended, the FIN timeouts rule.
   */
  private readInTunnel(fromClient: boolean): void {
    // Once a side has ended or lapsed, the other counts as it does without the option.
    if (this.clientEnded || this.serverEnded || this.clientTimedOut || this.timerMs === 0)
      return this.touch();
    const now = wheel.now;
    if (fromClient) this.clientReadAt = now;
    else this.serverReadAt = now;
    const tunnel = this.tunnelTimeout;
    const clientMs = tunnel ?? this.fe.px.timeouts.client;
    const serverMs = tunnel ?? this.serverTimeout;
    const client = (this.independent & 1 ? this.clientReadAt : now) + (clientMs ?? Infinity);
    const server = (this.independent & 2 ? this.serverReadAt : now) + (serverMs ?? Infinity);
    this.tunnelTimeoutCause = client <= server ? "c" : "s";
    // Without timeout tunnel, a client side whose timeout is the shorter half-closes the tunnel when it
    // lapses first, as without the option (clientSideTimedOut).
    this.clientTimesOutFirst =
      tunnel === undefined &&
      clientMs !== undefined &&
      serverMs !== undefined &&
      clientMs < serverMs &&
      client < server;
    this.deadline = Math.min(client, server);
  }

  onExpire(): void {
    const rec = this.rec;
    switch (this.phase) {
      case Phase.Head:
        // An idle keep-alive connection just closes; a request that started gets 408; a client
        // that does not take its answers is cut.
        if (this.idle) return this.close("-", "-");
        if (this.awaitingDrain) return this.close("c", "D");
        if (this.isProbe()) return this.close("c", "R", false);
        rec.requestLine = "<BADREQ>";
        this.countUnreadRequest(false);
        return this.refuse(408, "c", "R");
      case Phase.Body:
        // haproxy 2.6: 408, logged with the request line, cR and no TR.
        rec.TR = -1;
        return this.refuseAfterHead(408, "c", "R");
      case Phase.Inspect:
        if (clock.now() >= this.inspectUntil) return this.inspectionEnds();
        // timeout client came first: haproxy gives up, logged against the backend it would use.
        return this.inspectionAborted("c");
      case Phase.Queue:
        return this.abortWith(503, "s", "Q");
      case Phase.Connect:
        return this.connectFailed(true);
      case Phase.Exchange:
        if (this.res === undefined) {
          if (this.retries(RetryOn.ResponseTimeout)) return this.sendAgain();
          return this.abortWith(504, "s", "H");
        }
        if (this.responseDone) {
          // After an early response: a server that stopped reading the body, or a client that
          // stalled in it (the server then gets a FIN).
          if (this.client.isPaused()) return this.close("s", "D");
          this.conn?.end();
          return this.close("c", "D");
        }
        // Mid-response: if the server is paused, it waits on a client that does not read.
        return this.close(this.conn?.isPaused() ? "c" : "s", "D");
      case Phase.Tarpit:
        // haproxy logs the time held as Tw, and no TR.
        rec.Tw = clock.now() - rec.requestTime - rec.TR;
        rec.TR = -1;
        return this.sendVerdictReply(this.tarpitVerdict!, "P", "T");
      case Phase.Tunnel:
        if (this.clientTimesOutFirst) return this.clientSideTimedOut();
        return this.close(this.clientEnded ? "s" : this.tunnelTimeoutCause, "D");
      case Phase.Closed:
        return;
    }
  }

  // ─── client side ─────────────────────────────────────────────────────────────────────────────

  onClientData(chunk: Buffer): void {
    const rec = this.rec;
    // A tunnel's bytes count as they come; an HTTP message's as haproxy reads it (HTX_HEAD).
    if (!this.http || this.phase === Phase.Tunnel) rec.bytesIn += chunk.length;
    const first = rec.empty;
    rec.empty = false;
    switch (this.phase) {
      case Phase.Closed:
        return;
      case Phase.Tunnel:
        // Past the client side's timeout (or its FIN), nothing more goes to the server.
        if (this.conn!.writableEnded) return;
        this.rt.traffic(this.fe, chunk.length, 0);
        if (!this.conn!.write(chunk)) this.client.pause();
        if (this.independent === 0) this.touch();
        else this.readInTunnel(true);
        return;
      case Phase.Body:
        this.cbuf = this.cbuf ? Buffer.concat([this.cbuf, chunk]) : chunk;
        return this.bodyArrived();
      case Phase.Inspect:
        this.cbuf = this.cbuf ? Buffer.concat([this.cbuf, chunk]) : chunk;
        this.armInspection();
        return this.inspectNow();
      case Phase.Head:
        if (this.awaitingDrain) break;
        if (this.idle) this.requestStarts();
        else {
          // The connection's first byte starts its first request (TR, Ta and the log's date).
          if (first) this.firstByte();
          // Without timeout http-request, the head has timeout client, counted from the last byte.
          if (this.fe.px.timeouts.httpRequest === undefined) this.touch();
        }
        this.cbuf = this.cbuf ? Buffer.concat([this.cbuf, chunk]) : chunk;
        this.readRequest();
        return;
    }
    if (this.phase === Phase.Exchange && this.requestBodyFlowing()) return this.forwardRequestBody(chunk);
    // Bytes after the request are a pipelined request, kept for later.
    this.cbuf = this.cbuf ? Buffer.concat([this.cbuf, chunk]) : chunk;
    if (!this.pipelineFits()) this.client.pause();
  }

  /**
   * The pipelined requests fit in one buffer (tune.bufsize), as haproxy reads a connection: past it,
   * the client is read no more until they do, so that one that pipelines faster than it is answered
   * cannot fill the process's memory.
   */
  private pipelineFits(): boolean {
    return this.cbuf === undefined || this.cbuf.length <= this.rt.global.bufsize;
  }

  onClientEnd(): void {
    this.clientEnded = true;
    if (this.phase === Phase.Tunnel) {
      this.conn?.end();
      if (this.serverEnded) return this.close("-", "-");
      // The server's side now counts alone (its FIN timeout, or its timeout).
      this.clientTimesOutFirst = false;
      // The server's side is half-closed now: haproxy 2.6 gives it timeout server-fin when set, else
      // the tunnel's timeout goes on counting from the last data; without timeout tunnel, that is
      // the server's own timeout.
      const fin = this.be!.px.timeouts.serverFin;
      const server = this.serverTimeout;
      if (fin !== undefined) this.arm(fin);
      else if (this.tunnelTimeout === undefined && server !== undefined && this.timerMs > 0) {
        const lastData = this.deadline - this.timerMs;
        this.arm(server, lastData + server - clock.now());
      }
      return;
    }
    if (this.phase === Phase.Inspect) return this.inspectionEnds();
    // Its body will not come whole: haproxy 2.6 stops waiting, runs the rules, then gives the
    // request up before connecting (logged with its backend, CR).
    if (this.phase === Phase.Body) {
      this.bodyCut = true;
      return this.bodyWaitEnds();
    }
    if (this.phase === Phase.Head) {
      // The requests it pipelined are answered first.
      if (this.awaitingDrain) return;
      if (this.cbuf === undefined && this.served > 0) return this.close("-", "-");
      return this.clientLeftBeforeRequest();
    }
    // Its body cannot come whole: a request waiting for a server slot is given up at once, as haproxy's.
    if (this.phase === Phase.Queue && this.requestBodyFlowing()) return this.close("C", "Q");
    // option abortonclose: the request is given up (haproxy 2.6 answers 400 once it reached the server).
    if (this.http && this.be?.px.abortOnClose) {
      if (this.phase === Phase.Queue) return this.close("C", "Q");
      if (this.phase === Phase.Connect) return this.close("C", "C");
      if (this.phase === Phase.Exchange && this.res === undefined) return this.refuseAfterHead(400, "C", "H");
    }
    // Otherwise haproxy serves the request under way and those pipelined behind it, then closes.
    if (this.phase === Phase.Exchange && this.requestBodyFlowing()) return this.close("C", "D");
  }

  /** Body bytes of the current request are still to come. */
  private requestBodyFlowing(): boolean {
    return this.reqBody === Body.Length || this.reqBody === Body.Chunked;
  }

  onClientClose(): void {
    // A tarpitted client that leaves is not noticed: haproxy logs PT-- when the tarpit ends.
    if (this.phase === Phase.Closed || this.phase === Phase.Tarpit) return;
    // A tunnel that ends cleanly is closed before the socket is; this is the client's reset (even
    // in a mode tcp session its server half-closed).
    if (this.phase === Phase.Tunnel) return this.close("C", "D");
    if (this.phase === Phase.Inspect) return this.inspectionAborted("C");
    // Gone before a whole head, even part of one with a reset: haproxy's parser counts and logs a 400.
    if (this.phase === Phase.Head && !this.awaitingDrain)
      return this.cbuf === undefined && this.served > 0
        ? this.close("-", "-")
        : this.clientLeftBeforeRequest();
    let phase: TermPhase;
    if (this.phase === Phase.Queue) phase = "Q";
    else if (this.phase === Phase.Connect) phase = "C";
    else if (this.phase === Phase.Head || this.phase === Phase.Body) phase = "R";
    // Still sending its body, or taking the response: the data phase, as haproxy logs it.
    else if (this.res || this.requestBodyFlowing()) phase = "D";
    else phase = "H";
    this.close("C", phase);
  }

  /**
   * The client left without a whole request (nothing on a new connection, or part of a head):
   * haproxy 2.6 answers 400, which a client that has only half-closed still reads, and logs it for
   * "<BADREQ>", CR--.
   */
  private clientLeftBeforeRequest(): void {
    if (this.isProbe()) return this.close("C", "R", false);
    this.rec.requestLine ||= "<BADREQ>";
    this.countUnreadRequest(true);
    this.refuse(400, "C", "R");
  }

  /**
   * option http-ignore-probes: a connection that never sent a byte (a browser's speculative
   * connection) ends without a word or a log line, as haproxy's does.
   */
  private isProbe(): boolean {
    return this.served === 0 && this.rec.empty && this.fe.px.httpIgnoreProbes;
  }

  /** Resuming costs a tick: only when something paused the client. */
  private resumeClient(): void {
    if (this.client.isPaused()) this.client.resume();
  }

  onClientDrain(): void {
    if (this.awaitingDrain) {
      this.awaitingDrain = false;
      if (this.phase === Phase.Head) this.nextRequest();
      return;
    }
    const s = this.conn;
    if (!s?.isPaused()) return;
    s.resume();
    if (this.phase === Phase.Exchange) this.arm(this.serverTimeout);
  }

  /** Between transactions, the client has not taken our last answer yet. */
  private awaitingDrain = false;

  /** Between keep-alive requests: no byte of the next request yet. */
  private idle = false;

  /** The first byte of a connection: what came before it was idle time (Ti), not the request's. */
  private firstByte(): void {
    const now = clock.now();
    this.rec.Ti = now - this.rec.requestTime;
    this.rec.requestTime = now;
  }

  /** The first byte of a keep-alive connection's next request: its head must now complete in time. */
  private requestStarts(): void {
    this.idle = false;
    const now = clock.now();
    this.rec.Ti = now - this.rec.requestTime;
    this.rec.requestTime = now;
    this.arm(this.fe.headTimeout);
  }

  /** Within readRequest: a request answered at once asks for the next one, read by the same loop. */
  private reading = false;
  private readAgain = false;

  /**
   * Parses the next request head from cbuf and starts its transaction. Pipelined requests that the
   * proxy answers itself (return, redirect) come back here: a loop, not a recursion, serves them.
   */
  private readRequest(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        this.readOneRequest();
      } while (this.readAgain && this.phase === Phase.Head && this.cbuf !== undefined);
    } finally {
      this.reading = false;
    }
    // A client that has finished sending will not complete a partial request.
    if (this.clientEnded && this.phase === Phase.Head && !this.awaitingDrain) this.onClientEnd();
  }

  private readOneRequest(): void {
    const buf = this.cbuf!;
    const g = this.rt.global;
    const head = parseRequest(buf, 0, buf.length, g.maxhdr, this.req, true, this.requestLeniency());
    if (head === NEED_MORE) {
      if (buf.length > g.bufsize) return this.badRequest(400);
      return;
    }
    if (typeof head === "number") return this.badRequest(head);
    if (head.end > g.bufsize || head.weight > maxHeadWeight(g.bufsize, g.maxrewrite))
      return this.badRequest(400);
    this.req = head;
    this.cbuf = head.end < buf.length ? buf.subarray(head.end) : undefined;
    this.startTransaction();
  }

  private badRequest(status: number): void {
    this.rec.requestLine = "<BADREQ>";
    // haproxy's HTTP/1 layer refuses it before any stream has counted it, or read what came with it.
    this.rec.bytesIn = 0;
    this.cbuf = undefined;
    this.rt.counters.badRequests++;
    this.countUnreadRequest(true);
    this.refuse(status, "P", "R");
  }

  /**
   * A request haproxy's HTTP/1 layer could not read: a bad one (or a client gone before its head
   * ended) or one that did not come in time (408). It counts among the frontend's requests and in
   * what the connection tracks, a bad one as an error too.
   */
  private countUnreadRequest(bad: boolean): void {
    if (this.rt.countsRates) this.fe.reqRate.add(performance.now(), 1000, 1);
    if (this.stk) {
      const now = clock.now();
      this.stk.countRequest(now);
      if (bad) this.stk.countError(now);
    }
  }

  // ─── transaction ─────────────────────────────────────────────────────────────────────────────

  private startTransaction(): void {
    this.rec.bytesIn += this.req.htxSize;
    edits.reset();
    // The room its body has in haproxy's buffer is what the head as received leaves, whatever
    // rules add later.
    this.headWeight = this.req.weight;
    this.headLength = this.req.end - this.req.start;
    this.persistRule = undefined;
    // haproxy normalizes a target's default port as it parses: captures and rules see every Host
    // with the target's host.
    const host = this.req.hostValue;
    if (host !== undefined) {
      for (let i = headerIndex(this.req, "host"); i >= 0; i = headerIndex(this.req, "host", i + 1))
        edits.rewriteHeader(i, host);
      this.reparse(edits);
    }
    const req = this.req;
    const rec = this.rec;
    const now = clock.now();
    rec.TR = now - rec.requestTime;
    // The client is not paused: what it sends next waits in cbuf, which pauses it past tune.bufsize.
    this.arm(undefined);
    const px = this.fe.px;
    // A close said anywhere wins over a keep-alive said too, in HTTP/1.0 as in 1.1.
    // HTTP/1.0 has no chunked coding: a 1.0 request that says it is chunked closes its connection
    // after its response, as RFC 9112 6.1 asks and haproxy does.
    this.closeAfter =
      req.connClose || (req.versionMinor === 0 && (!req.connKeepAlive || req.body === BodyKind.Chunked));
    this.receivedClose = req.connClose;
    if (px.httpConnMode === "close") this.closeAfter = true;
    this.setRequestBody();
    const hasBody = this.reqBody !== Body.Done;
    // A request with a body asks for no upgrade: haproxy 2.6 drops its Upgrade header before any rule
    // sees it, and a 101 to it is then a 502.
    this.wantsUpgrade = req.connUpgrade && !hasBody;
    this.proxiedRequest = px.httpUseProxyHeader && req.uri[0] !== "/" && req.uri[0] !== "*";
    // haproxy forgets the upgrade of a request with a body before it reads the key.
    if (this.wantsUpgrade && req.upgradeWebSocket) this.clientKey = webSocketKey(req);
    if (req.connUpgrade && hasBody && headerIndex(req, "upgrade") >= 0) {
      for (let i = headerIndex(req, "upgrade"); i >= 0; i = headerIndex(req, "upgrade", i + 1))
        edits.dropHeader(i);
      this.reparse(edits);
    }
    // haproxy's HTTP/1 layer reads the chunks that came with the head first: a malformed one is a 400
    // before any rule runs and before any server is connected.
    if (this.reqBody === Body.Chunked && this.cbuf && this.checkChunks(this.cbuf) === BodyIn.Bad) {
      // To haproxy the request never came whole: no TR.
      rec.TR = -1;
      return this.badRequest(400);
    }
    // The frontend's tcp-request content rules run before haproxy's HTTP analysers see the request.
    const content = this.fe.tcpContent.length > 0 ? tcpVerdict(this.fe.tcpContent, this) : "accept";
    if (refuses(content)) {
      rec.requestLine = "<BADREQ>";
      // The stream's captures exist, still empty (`{|} {}`).
      if (this.logging) this.captureNothing();
      return this.contentRejected(content);
    }
    // Counted before the http-request rules, in what the connection and the content rules track.
    this.stk?.countRequest(now);
    if (this.rt.countsRates) this.fe.reqRate.add(performance.now(), 1000, 1);
    // Kept as read for the log, and for rules' formats that write it after a rewrite (%HU...).
    if (this.logging || this.rt.readsRequestLine)
      rec.requestLine = requestLineOf(req, this.rt.global.uriLen - 1);
    if (this.logging || this.rt.readsCaptures) this.captureRequest();
    if (px.monitorUri !== undefined && this.forMonitor(px.monitorUri)) return this.monitor();
    if (px.httpBufferRequest && this.waitForBody()) return;
    this.frontendRules();
  }

  /** The request is for the frontend's monitor-uri: its whole target, or its path and query. */
  private forMonitor(uri: string): boolean {
    const target = this.req.uri;
    if (uri[0] !== "/") return target === uri;
    const start = pathStart(target);
    return start >= 0 && target.length - start === uri.length && target.endsWith(uri);
  }

  /** This transaction is a monitor request: answered by the frontend itself, and not logged. */
  private monitored = false;

  /** haproxy's answer to its monitor-uri, before any rule: 200, or 503 when a `monitor fail` condition holds. */
  private monitor(): void {
    this.monitored = true;
    const status = this.fe.monitorFail.some((c) => c(this)) ? 503 : 200;
    this.reply(status, this.errorAnswer(status), "L", "R");
  }

  private frontendRules(): void {
    const verdict = evalRequestSide(this.fe, this, edits, this.takeRulesFrom());
    this.rulesDone(verdict);
    if (verdict.kind !== "continue") return this.answer(verdict);
    const be = this.fe.route(this);
    if (!be || be.px.disabled) return this.noBackend(be);
    if (be.px.mode !== "http") return this.otherMode(be);
    this.be = be;
    this.beName = be.name;
    this.rec.backend = be.name;
    be.cur++;
    be.total++;
    if (this.rt.countsRates) be.sessRate.add(performance.now(), 1000, 1);
    this.beCounted = true;
    // haproxy weighs force-persist and ignore-persist as soon as the backend is known.
    this.persistRule = be.persistRule(this);
    if (be.px === this.fe.px) return this.toServer();
    const content = be.tcpContent.length > 0 ? tcpVerdict(be.tcpContent, this) : "accept";
    if (refuses(content)) return this.contentRejected(content);
    // A backend's option http-buffer-request waits after the frontend's rules, before its own.
    if (be.px.httpBufferRequest && !this.fe.px.httpBufferRequest && this.waitForBody()) return;
    this.backendRules();
  }

  private backendRules(): void {
    const verdict = evalRequestSide(this.be!, this, edits, this.takeRulesFrom());
    this.rulesDone(verdict);
    if (verdict.kind !== "continue") return this.answer(verdict);
    this.toServer();
  }

  private toServer(): void {
    if (this.bodyCut) return this.close("C", "R");
    const be = this.be!;
    // use-server rules, then the persistence cookie (haproxy's order).
    this.direct = be.ruledServer(this, this.persistRule === "force");
    this.readCookies(be, this.direct);
    if (be.stickRules.length > 0) this.stickMatch(be);
    this.prepareOutgoingHead(be);
    this.acquireServer();
  }

  /**
   * The request's Cookie headers, when `be` has a `cookie` line or the frontend a `capture cookie`:
   * the server the persistence cookie names, the headers rewritten in `edits` as the mode asks, the
   * capture. Undefined with neither.
   */
  private readCookies(be: RtBackend | undefined, assigned: RtServer | undefined): Persistence | undefined {
    const ck = be?.px.cookie;
    const capture = this.fe.px.captureCookie;
    if (!ck && !capture) return undefined;
    const p = (this.persistence ??= new Persistence(capture));
    readRequestCookies(
      this.req,
      edits,
      ck,
      be?.servers ?? [],
      be?.px.persist === true || this.persistRule === "force",
      p,
      nowSeconds(),
      assigned,
      this.persistRule === "ignore",
    );
    return p;
  }

  /**
   * haproxy reads the persistence cookie of a request it denies or tarpits too, for the log line:
   * its letters, and the server it names. The request goes nowhere, so its edits are dropped.
   */
  private cookiesForLog(): void {
    // Before a backend is chosen, a listen section is its own.
    const p = this.readCookies(this.be ?? this.fe.own, undefined);
    if (!p) return;
    edits.reset();
    if (p.direct) this.rec.server = p.direct.name;
  }

  /** What the request's stick rules noted, stored once a server answers (made on first use). */
  private stores: PendingStore[] | undefined;

  /**
   * The backend's stick rules, after use-server rules and the persistence cookie: the server an
   * entry names, unless one of those chose already; a stopped one only with `option persist` or a
   * force-persist rule.
   */
  private stickMatch(be: RtBackend): void {
    const assigned = this.direct !== undefined || this.persistence?.direct !== undefined;
    const force = be.px.persist || this.persistRule === "force";
    const usable = (s: RtServer) => (s.up && !s.maint) || force;
    const srv = stickRequest(be.stickRules, this, be.servers, assigned, usable, (this.stores ??= []));
    if (srv) this.direct = srv;
  }

  /** A server answered (in mode tcp: took the connection): the noted keys now name it. */
  private stickStore(): void {
    const be = this.be;
    if (be && be.stickRules.length > 0 && this.srv)
      stickResponse(be.stickRules, this, this.srv, (this.stores ??= []));
  }

  /** Cookie persistence's state, for a backend with a `cookie` line (made on first use). */
  private persistence: Persistence | undefined;
  /** What a force-persist or ignore-persist rule said of this request. */
  private persistRule: "force" | "ignore" | undefined;

  // ─── option http-buffer-request ──────────────────────────────────────────────────────────────

  /**
   * Starts waiting for the request's body, unless it is already in (or there is none): true when
   * waiting. As haproxy 2.6 does, a 1.1 client that expects 100-continue gets it from the proxy,
   * and the server does not see the Expect header; the waiting proxy's timeout http-request (or
   * else timeout client, counted from the last byte) bounds the wait.
   */
  private waitForBody(timeout = this.bodyTimeout() ?? this.fe.px.timeouts.client): boolean {
    const state = this.bodyState();
    if (state === BodyIn.Bad) {
      this.badBody();
      return true;
    }
    // haproxy 2.6 answers 100-continue as it starts to wait, even for a body already in; a request
    // without a body keeps its Expect for the server.
    const req = this.req;
    if (req.expectContinue && req.versionMinor === 1 && this.reqBody !== Body.Done && !this.continued) {
      this.continued = true;
      this.client.write(CONTINUE_100);
      this.rec.bytesOut += CONTINUE_100_HTX;
      this.dropExpectation();
    }
    if (state === BodyIn.Whole) return false;
    // A client that has already ended its side will not send the rest.
    if (this.clientEnded) {
      this.bodyCut = true;
      return false;
    }
    this.phase = Phase.Body;
    this.arm(timeout);
    return true;
  }

  // ─── http-request wait-for-body ──────────────────────────────────────────────────────────────

  /** The http-request rule to go on from once a wait-for-body rule's wait ends (0: the first). */
  private rulesFrom = 0;
  /** A wait-for-body rule's `at-least` (0: the whole body, or a buffer's worth). */
  private waitAtLeast = 0;
  /**
   * When the first wait-for-body of a proxy's rules gives up: haproxy sets the deadline once, and
   * a later rule of the same list waits only what is left of it (0: none set).
   */
  private ruleWaitUntil = 0;

  /** Where the rules start: past a wait-for-body that stopped them, else at the first. */
  private takeRulesFrom(): number {
    const from = this.rulesFrom;
    this.rulesFrom = 0;
    return from;
  }

  /** A proxy's rules ended, but to wait for a body: the next list's waits have their own deadline. */
  private rulesDone(v: Verdict): void {
    if (v.kind !== "wait") this.ruleWaitUntil = 0;
  }

  bodyAwaited(atLeast: number): boolean {
    return !this.clientEnded && this.bodyState(atLeast) !== BodyIn.Whole;
  }

  /** As option http-buffer-request waits, for the rule's time and `at-least`, then the next rule. */
  private waitForRuleBody(v: { next: number; time: number; atLeast: number }): void {
    this.rulesFrom = v.next;
    this.waitAtLeast = v.atLeast;
    const now = clock.now();
    if (this.ruleWaitUntil === 0) this.ruleWaitUntil = now + v.time;
    if (!this.waitForBody(Math.max(1, this.ruleWaitUntil - now))) this.bodyWaitEnds();
  }

  /** This request's 100 Continue has been sent (a backend's wait after the frontend's sends none). */
  private continued = false;

  /** The server does not see the 100-continue answered: the first Expect line loses its first value. */
  private dropExpectation(): void {
    const req = this.req;
    const i = headerIndex(req, "expect");
    const value = headerValue(req, i);
    const comma = value.indexOf(",");
    const rest = comma < 0 ? "" : value.slice(comma + 1).trim();
    if (rest === "") edits.dropHeader(i);
    else edits.rewriteHeader(i, rest);
    this.reparse(edits);
  }

  /** timeout http-request of the proxy that waits for the body: the backend's once one is chosen. */
  private bodyTimeout(): number | undefined {
    return (this.be ?? this.fe).px.timeouts.httpRequest;
  }

  /**
   * Whether the body is in: all of it, or a buffer's worth (tune.bufsize less the room haproxy keeps
   * for rewrites), or none is expected (Whole); more is needed (Partial); its chunks are malformed.
   */
  private bodyState(atLeast = this.waitAtLeast): BodyIn {
    const body = this.cbuf;
    if (this.reqBody === Body.Done) return BodyIn.Whole;
    if (!body) return BodyIn.Partial;
    const chunks = this.reqBody === Body.Chunked ? this.checkChunks(body) : BodyIn.Partial;
    if (chunks !== BodyIn.Partial) return chunks;
    if (body.length >= maxHeadSize(this.rt.global.bufsize, this.rt.global.maxrewrite)) return BodyIn.Whole;
    if (atLeast > 0 && this.requestBody().data.length >= atLeast) return BodyIn.Whole;
    return this.reqBody === Body.Length && body.length >= this.reqLeft ? BodyIn.Whole : BodyIn.Partial;
  }

  /**
   * The chunks at the start of buf, as haproxy's HTTP/1 layer reads those that come with a head:
   * complete, incomplete, or malformed.
   */
  private checkChunks(buf: Buffer): BodyIn {
    bodyCheck.reset(this.rt.global.bufsize, this.rt.global.maxhdr);
    bodyCheck.scan(buf, 0, buf.length);
    return bodyCheck.error ? BodyIn.Bad : bodyCheck.done ? BodyIn.Whole : BodyIn.Partial;
  }

  /**
   * What haproxy counts (HTX_HEAD) of the body bytes at the start of `buf`, of a body framed `kind`
   * with `left` bytes to come when it has a length.
   */
  private bodyIn(buf: Buffer, kind: BodyKind, left: number): number {
    switch (kind) {
      case BodyKind.Length:
        return Math.min(buf.length, left);
      case BodyKind.UntilClose:
        return buf.length;
      case BodyKind.Chunked:
        this.checkChunks(buf);
        return bodyCheck.htxSize;
      default:
        return 0;
    }
  }

  /** The client ended its side while its body was awaited: no server is connected for it. */
  private bodyCut = false;

  /** More of the body came while waiting for it. */
  private bodyArrived(): void {
    const state = this.bodyState();
    if (state === BodyIn.Bad) return this.badBody();
    if (state === BodyIn.Partial) {
      // timeout client counts from the last byte; a wait-for-body rule's time from its start.
      if (this.bodyTimeout() === undefined && this.ruleWaitUntil === 0) this.touch();
      return;
    }
    this.bodyWaitEnds();
  }

  /** A malformed chunk in an awaited body: 400, logged with the request line, which was whole. */
  private badBody(): void {
    this.rec.TR = -1;
    this.rt.counters.badRequests++;
    this.refuseAfterHead(400, "P", "R");
  }

  /** The transaction goes on where it waited: the frontend's rules, or the backend's. */
  private bodyWaitEnds(): void {
    this.phase = Phase.Head;
    this.waitAtLeast = 0;
    this.arm(undefined);
    // haproxy counts the wait in TR.
    this.rec.TR = clock.now() - this.rec.requestTime;
    edits.reset();
    if (this.be) this.backendRules();
    else this.frontendRules();
  }

  /** A 103 before the final response; haproxy 2.6 sends none to an HTTP/1.0 client. */
  earlyHints(lines: string[]): void {
    if (this.req.versionMinor === 0) return;
    const bytes = this.clientCase(
      Buffer.from(`HTTP/1.1 103 Early Hints\r\n${lines.join("\r\n")}\r\n\r\n`, "latin1"),
    );
    this.client.write(bytes);
    this.rec.bytesOut += this.readBack(bytes)?.htxSize ?? bytes.length;
  }

  setStreamTimeout(name: "server" | "tunnel", ms: number): void {
    if (name === "server") this.streamServerTimeout = ms;
    else this.streamTunnelTimeout = ms;
  }

  disableL7Retry(): void {
    this.l7RetryOff = true;
  }

  private get serverTimeout(): number | undefined {
    return this.streamServerTimeout ?? this.be!.px.timeouts.server;
  }

  private get tunnelTimeout(): number | undefined {
    return this.streamTunnelTimeout ?? this.be!.px.timeouts.tunnel;
  }

  /** Header edits that rules made become the head that later rules and ACLs see. */
  reparse(made: HeadEdits): boolean {
    const target = this.answering || (this.phase === Phase.Exchange && this.res) ? "res" : "req";
    const head = target === "res" ? this.res! : this.req;
    // The sender's lines take their outgoing form now; what rules write stays as written (a value's
    // blanks included, as haproxy keeps them), since the new head no longer tells them apart. The start
    // line too: a target is normalized only as it is received.
    made.startLine ??= normalizedStartLine(head);
    normalizeHead(head, made);
    const bytes = Buffer.from(serializeHead(head, made));
    const g = this.rt.global;
    // Read back as leniently as it was received.
    const parsed =
      target === "res"
        ? parseResponse(bytes, 0, bytes.length, g.maxhdr * 2, undefined, false, this.responseLeniency())
        : parseRequest(bytes, 0, bytes.length, g.maxhdr * 2, undefined, false, this.requestLeniency());
    made.reset();
    // A head that Sluice cannot read back is not sent: a failed rewrite. haproxy 2.6 sends some as
    // they are (a blank in a method or target, a coding other than chunked, a control character in
    // a value), which a server may read otherwise than the proxy did. (A CR LF that the
    // configuration writes makes two lines in both; what a request brings cannot: log-format
    // arguments write control characters as %XX.)
    // A rewritten head may grow into the space haproxy keeps for rewrites, not past it (measured).
    if (typeof parsed === "number" || parsed.weight > g.bufsize - 62) return false;
    parsed.looseValue = parsed.bareLf = false;
    if (target === "res") {
      this.res = parsed;
      // A set-status: later rules' %ST, and the log, say the new one.
      this.rec.status = parsed.status;
    } else {
      this.req = parsed;
      this.reqRewritten = true;
    }
    return true;
  }

  countFailedRewrite(): void {
    this.rt.counters.failedRewrites++;
  }

  /** The backend forwardedLine was made for, and the line (undefined: none for this client). */
  private forwardedTo: RtBackend | undefined;
  private forwardedLine: string | undefined;

  /** X-Forwarded-For, X-Original-To and the Connection header the server should see, per the connection mode. */
  private prepareOutgoingHead(be: RtBackend): void {
    const req = this.req;
    if (this.fe.px.compression || be.px.compression) this.chooseCompression(be);
    // Made before X-Forwarded-For, as haproxy does, whether or not a header carries it.
    if (this.fe.uniqueId !== undefined) {
      const id = this.uniqueId()!;
      const name = this.fe.px.uniqueIdHeader;
      if (name !== undefined) edits.add.push(`${name}: ${id}`);
    }
    const feFf = this.fe.px.forwardfor;
    const beFf = be.px.forwardfor;
    if (feFf || beFf) {
      // The client's line is the same at each request to the backend: made once, flattened once.
      if (this.forwardedTo !== be) {
        this.forwardedTo = be;
        this.forwardedLine = forwardedFor(feFf, beFf, this.src);
      }
      const line = this.forwardedLine;
      if (line !== undefined && !forwardedAlready(feFf, beFf, req)) edits.add.push(line);
    }
    const feOt = this.fe.px.originalto;
    const beOt = be.px.originalto;
    if (feOt || beOt) {
      const line = originalTo(feOt, beOt, this.dst);
      if (line) edits.add.push(line);
    }
    // http-send-name-header: the request's own lines of that name go; ours is added as it leaves.
    const nameHeader = be.px.sendNameHeader;
    if (nameHeader !== undefined)
      for (let i = headerIndex(req, nameHeader); i >= 0; i = headerIndex(req, nameHeader, i + 1))
        edits.dropHeader(i);
    // Other versions than 1.0 and 1.1 leave as HTTP/1.1, and odd separators as single spaces.
    edits.startLine ??= normalizedStartLine(req);
    // What the client said of its own connection is not the server's business: the connection mode
    // alone says whether the server's connection is kept (haproxy 2.6 keeps it in keep-alive mode even
    // for a client that closes). A request whose Connection says upgrade gets no word of ours (even
    // one with a body, whose Upgrade header went).
    cleanConnectionHeaders(req, edits);
    // haproxy sends a CONNECT's head without its Content-Length, and one that says chunked with a
    // Connection: close (and does not ask that server again, whatever it answers).
    if (this.receivedConnect)
      for (let i = headerIndex(req, "content-length"); i >= 0; i = headerIndex(req, "content-length", i + 1))
        edits.dropHeader(i);
    const chunkedConnect = this.receivedConnect && req.body === BodyKind.Chunked;
    const framing = this.reqRewritten && !this.receivedConnect ? this.requestFraming(req) : undefined;
    // A Connection: close that request rules wrote goes to the server, which is then not asked again
    // (the client's connection stays as it was), as haproxy's HTTP/1 layer reads the head it sends;
    // so does a head that says both a length and chunks, or chunks in HTTP/1.0.
    const framingClose = framing ? framing.close : req.versionMinor === 0 && req.body === BodyKind.Chunked;
    const ruleClose = (req.connClose && !this.receivedClose) || framingClose;
    if (chunkedConnect || ruleClose) this.serverMustClose = true;
    if (!req.connUpgrade) {
      const keep = this.connMode(be) === "keep-alive" && !this.rt.stopping && !chunkedConnect && !ruleClose;
      // http-pretend-keepalive: the server is spoken to as in keep-alive, and the mode still closes.
      const say = keep || be.px.httpPretendKeepalive;
      if (say && req.versionMinor === 0) edits.add.push("Connection: keep-alive");
      else if (!say && req.versionMinor === 1) edits.add.push("Connection: close");
    }
    // After the Connection line, as haproxy adds them. (A received upgrade always has its key.)
    if (framing?.addChunked) edits.add.push("Transfer-Encoding: chunked");
    if (
      this.reqRewritten &&
      req.connUpgrade &&
      req.upgradeWebSocket &&
      headerIndex(req, "sec-websocket-key") < 0
    ) {
      this.wsKey = newWebSocketKey();
      edits.add.push(`Sec-Websocket-Key: ${this.wsKey}`);
    }
    normalizeHead(req, edits);
    this.outHead = serializeHead(req, edits);
    // serializeHead may return a view on the client's buffer: copy so that retries keep it.
    if (edits.empty) this.outHead = Buffer.from(this.outHead);
    edits.reset();
    if (be.px.caseAdjustServer) this.outHead = adjustCase(this.outHead, this.rt.global.caseAdjust);
  }

  /**
   * How the body leaves with a head that rules rewrote (reframe.ts): the Content-Length lines left
   * out are dropped now, and reqOut re-frames the body if it must.
   */
  private requestFraming(req: HttpHead): OutFraming {
    const received = this.reqBody;
    const framing = outFraming(req, received === Body.Done, true);
    if (framing.drop) for (const i of framing.drop) edits.dropHeader(i);
    const kind =
      received === Body.Chunked
        ? BodyKind.Chunked
        : received === Body.Length
          ? BodyKind.Length
          : BodyKind.None;
    this.reqOut = reframer(kind, this.reqLeft, framing);
    if (this.reqOut && kind === BodyKind.Chunked && !framing.chunked) this.reqChunks!.data = [];
    // A body that leaves with nothing to tell its end (HTTP/1.0) cannot be told from what follows.
    if (kind !== BodyKind.None && !framing.chunked && framing.length < 0) this.serverMustClose = true;
    return framing;
  }

  /**
   * The request's choice of a compression algorithm, among the backend's (or else the frontend's).
   * With `compression offload`, a request that accepts one of them loses its Accept-Encoding
   * headers: the server is to send its response uncompressed.
   */
  private chooseCompression(be: RtBackend): void {
    const fc = this.fe.px.compression;
    const bc = be.px.compression;
    const algos = bc?.algos.length ? bc.algos : (fc?.algos ?? []);
    const chosen = chooseAlgo(this.req, algos);
    if (!chosen) return;
    this.compAlgo = chosen.algo;
    if (chosen.accepted && (fc?.offload || bc?.offload))
      for (
        let i = headerIndex(this.req, "accept-encoding");
        i >= 0;
        i = headerIndex(this.req, "accept-encoding", i + 1)
      )
        edits.dropHeader(i);
  }

  /**
   * Whether the response's head lets it be compressed (the backend's types, or else the frontend's),
   * decided before the response's rules, which can read res.comp; a new compression also waits for
   * the rates and CPU share of maxcomprate and maxcompcpuusage to allow it.
   */
  private chooseResponseCompression(res: HttpHead): void {
    const types = this.be!.px.compression?.types.length
      ? this.be!.px.compression.types
      : (this.fe.px.compression?.types ?? []);
    if (compressible(res, this.req, types) && this.rt.compression.allowNew(performance.now()))
      this.comp = new Compressor(this.compAlgo!, this.rt.global.compMaxLevel);
  }

  /** The stricter of the frontend's and the backend's connection modes, as haproxy combines them. */
  private connMode(be: RtBackend): "keep-alive" | "server-close" | "close" {
    const a = this.fe.px.httpConnMode;
    const b = be.px.httpConnMode;
    if (a === "close" || b === "close") return "close";
    if (a === "server-close" || b === "server-close") return "server-close";
    return "keep-alive";
  }

  private setRequestBody(): void {
    const req = this.req;
    // A CONNECT has no body (RFC 9110 9.3.6), whatever its head says: what follows the head waits,
    // as pipelined bytes do, for the tunnel a 2xx opens (or else for the next request), as in haproxy.
    // Decided on the method received: haproxy's HTTP/1 layer drops the Content-Length before any rule runs.
    this.receivedConnect = req.method === "CONNECT";
    this.receivedHead = req.method === "HEAD";
    if (this.receivedConnect) this.reqBody = Body.Done;
    else if (req.body === BodyKind.Chunked) {
      this.reqBody = Body.Chunked;
      (this.reqChunks ??= new ChunkedScanner(this.rt.global.bufsize, true, this.rt.global.maxhdr)).reset();
    } else if (req.body === BodyKind.Length && req.contentLength > 0) {
      this.reqBody = Body.Length;
      this.reqLeft = req.contentLength;
    } else this.reqBody = Body.Done;
  }

  // ─── answering from the proxy ────────────────────────────────────────────────────────────────

  private tarpitVerdict: Verdict | undefined;

  /** A verdict of the request rules, or (phase H) a return or redirect of the response rules. */
  private answer(v: Verdict, phase: TermPhase = "R"): void {
    switch (v.kind) {
      case "continue":
        return;
      case "failed":
        // haproxy logs it without TR, as a proxy's refusal (PR--).
        this.rec.TR = -1;
        this.rt.counters.internalErrors++;
        return this.abortWith(500, "P", "R");
      case "invalid":
        // A bad request, logged as the failed rewrite is; no error in what the connection tracks.
        this.rec.TR = -1;
        this.rt.counters.badRequests++;
        return this.abortWith(400, "P", "R");
      case "resource":
        this.rec.TR = -1;
        this.rt.counters.internalErrors++;
        return this.abortWith(500, "R", "R");
      case "reject":
      case "silent-drop":
        // As tcp-request content's: logged PR-- without TR; a reject's FIN, a silent drop's nothing.
        return this.contentRejected(v.kind);
      case "tarpit": {
        this.cookiesForLog();
        this.rt.counters.denied++;
        this.stk?.countError(clock.now());
        this.phase = Phase.Tarpit;
        this.tarpitVerdict = v;
        const t = this.fe.px.timeouts;
        this.arm(t.tarpit ?? t.connect ?? 1);
        return;
      }
      case "deny":
        this.cookiesForLog();
        this.rt.counters.denied++;
        this.stk?.countError(clock.now());
        return this.sendVerdictReply(v, "P", "R");
      case "redirect": {
        const bytes = (c: ReplyConnection) => redirectReply(v.status, v.location, c, v.cookie);
        return this.reply(v.status, { bytes, closes: false, http10: false, unsentHtx: 0 }, "L", phase);
      }
      case "return":
        return this.reply(v.status, this.verdictAnswer(v), "L", phase);
      case "wait":
        return this.waitForRuleBody(v);
      case "auth": {
        this.stk?.countError(clock.now());
        const status = this.proxied ? 407 : 401;
        return this.reply(status, this.challenge(status, v.realm), "L", "R");
      }
    }
  }

  /**
   * http-request auth's 401 (407 to a proxy): the proxy's page for it (an errorfile's too) with one
   * WWW-Authenticate (Proxy-Authenticate) line, a Basic challenge for `realm`, in place of any it had.
   */
  private challenge(status: 401 | 407, realm: string): Answer {
    const name = status === 401 ? "www-authenticate" : "proxy-authenticate";
    const header = `${name}: Basic realm="${realm}"`;
    const f = this.be?.px.errorFiles.get(status) ?? this.fe.px.errorFiles.get(status);
    if (f) return fileAnswer(withHeader(f, header));
    const bytes = (c: ReplyConnection) => challengeReply(status, header, c);
    return { bytes, closes: false, http10: false, unsentHtx: 0 };
  }

  /** A deny, a tarpit's end or an http-response deny: its status, with its reply. */
  private sendVerdictReply(v: Verdict, cause: TermCause, phase: TermPhase): void {
    if (v.kind === "deny" || v.kind === "tarpit") this.reply(v.status, this.verdictAnswer(v), cause, phase);
  }

  /** A rule's reply: its errorfile, its body, or (default-errorfiles) the proxy's page for its status. */
  private verdictAnswer(v: ReplySpec & BuiltReply): Answer {
    if (v.errorfile) return fileAnswer(v.errorfile);
    const body = v.body;
    if (body === undefined) return this.errorAnswer(v.status);
    const bytes = (c: ReplyConnection) =>
      buildReply(v.status, body, { contentType: v.contentType, connection: c, headers: v.headers });
    return { bytes, closes: v.closes === true, http10: false, unsentHtx: 0 };
  }

  /**
   * The proxy's page for `status`, as haproxy picks it for an error past the request's head: the
   * backend's errorfile, else the frontend's, else haproxy's own page (whose 400 and 408 say
   * `Connection: close`, and the connection closes after them).
   */
  private errorAnswer(status: number): Answer {
    const f = this.be?.px.errorFiles.get(status) ?? this.fe.px.errorFiles.get(status);
    if (f) return fileAnswer(f);
    const bytes = (c: ReplyConnection) => errorReply(status, c);
    // haproxy's own 400 and 408 pages hold a `connection: close` (counted, not sent: its encoder writes one).
    const closes = status === 400 || status === 408;
    return { bytes, closes, http10: false, unsentHtx: closes ? CONNECTION_CLOSE_HTX : 0 };
  }

  /**
   * An http-response rule answered in place of the server's response `head` (deny, return,
   * redirect): haproxy's log then has no Tr, and counts that response as it came (its head already,
   * here the body bytes that came with it). The server connection goes on as after a response when
   * all of it came with its head (not a tunnel's), as haproxy keeps it; else it closes. A silent drop
   * keeps the server's status.
   */
  private responseDenied(v: Verdict, head: HttpHead, rest: Buffer | undefined, tunnel = false): void {
    if (rest)
      this.rec.bytesOut += this.bodyIn(rest, responseBodyKind(head, this.req.method), head.contentLength);
    this.rec.Tr = -1;
    // The session's close lets the server connection go.
    if (v.kind === "silent-drop") return this.silentDrop();
    this.letServerGo(!tunnel && this.wholeResponse(head, rest));
    // A failed rewrite: haproxy's 500.
    if (v.kind === "failed") {
      this.rt.counters.internalErrors++;
      this.abortWith(500, "P", "H");
    } else if (v.kind === "return" || v.kind === "redirect") this.answer(v, "H");
    else this.sendVerdictReply(v, "P", "H");
  }

  /**
   * The server's response is all in `rest`, nothing after it, the request all sent, and the
   * connection may serve another.
   */
  private wholeResponse(head: HttpHead, rest: Buffer | undefined): boolean {
    if (this.requestBodyFlowing() || this.serverMustClose || head.connClose) return false;
    if (head.versionMinor === 0 && !head.connKeepAlive) return false;
    const n = rest?.length ?? 0;
    switch (responseBodyKind(head, this.req.method)) {
      case BodyKind.None:
        return n === 0;
      case BodyKind.Length:
        return n === head.contentLength;
      case BodyKind.Chunked:
        bodyCheck.reset(this.rt.global.bufsize, this.rt.global.maxhdr);
        return n > 0 && bodyCheck.scan(rest!, 0, n) === n && bodyCheck.done;
      default:
        return false;
    }
  }

  /** The proxy's page for what went wrong past the request (server, queue, rules). */
  private abortWith(status: number, cause: TermCause, phase: TermPhase): void {
    // Our 502 and 504 are the server's failures; a 503 (no server, no connection) is none.
    if (status === 502 || status === 504) this.stk?.countFailure(clock.now());
    this.reply(status, this.errorAnswer(status), cause, phase);
  }

  /**
   * A response from the proxy itself ends the transaction, and the client's connection goes on as
   * after a server's response (haproxy 2.6 does so for its 502, 503 and 504 too): unless the
   * request or the mode closes it, or the request's body has not all arrived, since its rest could
   * not be told from the next request.
   */
  private reply(status: number, answer: Answer, cause: TermCause, phase: TermPhase): void {
    if (this.phase === Phase.Closed) return;
    // As for a server's response, the request's variables are gone.
    this.vars.responseStarts();
    // In mode tcp there is no request to answer: the connection just closes, as haproxy's does,
    // after reading what the client sent (a FIN, not an RST: the close lingers).
    if (!this.http) {
      this.leaveQueue();
      this.client.end();
      return this.close(cause, phase);
    }
    const complete = this.client.writable && this.skipRequestBody();
    const closing = !complete || answer.closes || this.saysClose();
    const bytes = this.answerBytes(
      answer,
      connectionFor(closing, answer.http10, this.req.versionMinor === 0),
    );
    // After the answer's http-after-response rules, which may have said close.
    const keep = complete && !answer.closes && !this.closesAfterThis();
    status = this.restatus ?? status;
    const counted = this.answerHtx(bytes, answer);
    if (!keep) return this.replyAndClose(status, bytes, counted, cause, phase);
    this.leaveQueue();
    this.rec.status = status;
    this.client.write(this.clientCase(bytes));
    this.rec.bytesOut += counted;
    this.endTransaction(false, cause, phase);
  }

  /**
   * Drops the rest of the request's body when it has all arrived with the head (or after it) and
   * none of it went to a server: true when the request is then complete. A body haproxy's buffer
   * cannot hold whole is never complete there (its answer closes the connection).
   */
  private skipRequestBody(): boolean {
    const body = this.cbuf;
    if (this.reqBody === Body.Length && body && body.length >= this.reqLeft) {
      if (!this.heldWhole(this.reqLeft)) return false;
      this.rec.bytesIn += this.reqLeft;
      this.cbuf = body.length > this.reqLeft ? body.subarray(this.reqLeft) : undefined;
      this.reqBody = Body.Done;
    } else if (this.reqBody === Body.Chunked && body) {
      const sc = this.reqChunks!;
      const n = sc.scan(body, 0, body.length);
      if (sc.error || !sc.done || !this.heldWhole(n)) return false;
      this.rec.bytesIn += sc.htxSize;
      this.cbuf = n < body.length ? body.subarray(n) : undefined;
      this.reqBody = Body.Done;
    }
    return this.reqBody === Body.Done;
  }

  /**
   * Whether haproxy's buffer holds the whole request, with `size` bytes of body as they came (all of
   * it, a chunked one scanned). A chunked body's end takes room too: a payload that fills the buffer
   * leaves it unfinished; and haproxy reads the request as sent, head and chunk framing, into a
   * buffer's worth (measured with retry-on: 100 chunks hold 14679 bytes of payload, not 14680).
   */
  private heldWhole(size: number): boolean {
    if (this.req.body !== BodyKind.Chunked) return size <= this.bodyRoom(Body.Length);
    const g = this.rt.global;
    return (
      this.reqChunks!.payload < this.bodyRoom(Body.Chunked) &&
      this.headLength + size <= maxHeadSize(g.bufsize, g.maxrewrite)
    );
  }

  /** The status an http-after-response rule gave the proxy's own answer, if it set another. */
  private restatus: number | undefined;

  /** An answer's bytes for this request: a response to HEAD has no body, ours neither. */
  private answerBytes(answer: Answer, c: ReplyConnection): Buffer {
    this.restatus = undefined;
    let bytes: Buffer;
    if (this.hasAfterRules()) {
      // The rules see the answer without its Connection line, which goes after their lines; a close
      // they said (or that the framing they gave needs) is told there.
      const closing = this.closeAfter;
      bytes = answer.bytes(undefined);
      if (bytes.length > 0) {
        bytes = this.afterRulesOn(bytes);
        if (this.closeAfter && !closing) c = connectionFor(true, answer.http10, this.req.versionMinor === 0);
        bytes = withConnection(bytes, c);
      }
    } else bytes = answer.bytes(c);
    return this.toldMethod() === "HEAD" && bytes.length > 0 ? headOf(bytes) : bytes;
  }

  /**
   * Our answer to a request whose head cannot be read, or does not come in time (400, 408...), and
   * the connection closes after it. This is haproxy's parser answering: its own page whatever
   * errorfile the frontend has for the status, unless that file is empty (then nothing is sent).
   */
  private refuse(status: number, cause: TermCause, phase: TermPhase): void {
    const silent = this.fe.px.errorFiles.get(status)?.empty === true;
    // haproxy's parser answers outside the stream: its bytes are not in the log (0).
    this.replyAndClose(status, silent ? undefined : errorReply(status, "close"), 0, cause, phase);
  }

  /**
   * An error in a request whose head was read (in its body, or its client gone): haproxy's stream
   * answers, with the proxy's page for the status, and the connection closes.
   */
  private refuseAfterHead(status: number, cause: TermCause, phase: TermPhase): void {
    this.vars.responseStarts();
    const answer = this.errorAnswer(status);
    const bytes = this.answerBytes(answer, connectionFor(true, answer.http10, false));
    this.replyAndClose(this.restatus ?? status, bytes, this.answerHtx(bytes, answer), cause, phase);
  }

  /** Sends the last bytes of the connection; `counted` is what the log counts of them. */
  private replyAndClose(
    status: number,
    bytes: Buffer | undefined,
    counted: number,
    cause: TermCause,
    phase: TermPhase,
  ): void {
    if (this.phase === Phase.Closed) return;
    const rec = this.rec;
    rec.status = status;
    if (this.client.writable) {
      this.client.end(bytes?.length ? this.clientCase(bytes) : undefined);
      rec.bytesOut += counted;
    }
    this.close(cause, phase);
  }

  /**
   * What haproxy counts of one of its own answers (HTX_HEAD): as it holds it, with the lines it does
   * not send but without the Connection line its encoder writes.
   */
  private answerHtx(bytes: Buffer, answer: Answer): number {
    if (bytes.length === 0) return 0;
    const head = this.readBack(bytes);
    if (!head) return bytes.length;
    // haproxy builds its answers with a length, which a 204 does not send.
    const length = head.status === 204 && head.body === BodyKind.UntilClose ? ZERO_LENGTH_HTX : 0;
    return head.htxSize + bytes.length - head.end + answer.unsentHtx + length;
  }

  /** A response head the proxy sends, read as haproxy's parser would (into one reused head). */
  private readBack(bytes: Buffer): HttpHead | undefined {
    const head = parseResponse(bytes, 0, bytes.length, this.rt.global.maxhdr * 2, sentHead);
    return typeof head === "number" ? undefined : head;
  }

  // ─── server choice, queue, connect ───────────────────────────────────────────────────────────

  /**
   * The server this request goes to whatever the balancer says: a use-server rule's, else its
   * cookie's (haproxy's SF_DIRECT); cleared when the request moves to another.
   */
  private direct: RtServer | undefined;

  private acquireServer(): void {
    // As haproxy: once a server is asked for, the request's variables are gone.
    this.vars.responseStarts();
    const be = this.be!;
    const direct = (this.direct ??= this.persistence?.direct);
    const last = direct ? undefined : this.lastServer(be);
    let r = direct ? be.takeOn(direct) : last ? be.takeOn(last) : be.take(undefined, this, this.http);
    // That server has maxqueue requests waiting: with option redispatch, another one (unless forced).
    if (
      direct &&
      typeof r === "object" &&
      "queueFull" in r &&
      be.px.redispatch &&
      this.persistRule !== "force"
    ) {
      r = be.take(undefined, this, this.http);
      const to = this.serverOf(r);
      this.leftDirectServer(direct, to);
      this.movedFrom(direct, to);
    }
    if (!this.waitOrRefuse(r)) this.grantTo(r, false);
  }

  /** The server a take() answer leads to: itself, its queue's, a full one's; none for the backend's queue. */
  private serverOf(r: Taken): RtServer | undefined {
    if (r === "none") return undefined;
    if (r instanceof PendingQueue) return this.be!.servers.find((s) => s.queue === r);
    return "queueFull" in r ? r.queueFull : r;
  }

  /**
   * The request no longer goes straight to its server (haproxy clears SF_DIRECT): a response gets a
   * new cookie, and the log says the cookie's server was down when it changed.
   */
  private leftDirectServer(old: RtServer, to: RtServer | undefined): void {
    this.direct = undefined;
    const p = this.persistence;
    if (!p) return;
    p.direct = undefined;
    if (to !== old && p.seen === "V") p.seen = "D";
  }

  /** take()'s answer when it is no server: a 503, a wait in a queue, or a full queue. True then. */
  private waitOrRefuse(r: Taken): r is Exclude<Taken, RtServer> {
    if (r === "none") this.abortWith(503, "S", "C");
    else if (r instanceof PendingQueue) this.enqueue(r);
    else if ("queueFull" in r) this.queueFull(r.queueFull);
    else return false;
    return true;
  }

  /** The log's "+" and the old server's count: the request moved to another server (or none yet). */
  private movedFrom(old: RtServer, to: RtServer | undefined): void {
    if (to === old) return;
    this.rec.redispatched = true;
    old.redispatches++;
  }

  /** The server the request must go to (hashing, a cookie) has maxqueue waiting already: 503. */
  private queueFull(srv: RtServer): void {
    this.srv = srv;
    this.rec.server = srv.name;
    this.srvConnLeft = srv.cur;
    this.abortWith(503, "S", "Q");
  }

  /**
   * No server has a free slot for this request: wait in `queue` (the backend's, or the server the
   * request must go to: hashing, a cookie) for one, up to timeout queue.
   */
  private enqueue(queue: PendingQueue<Waiter>): void {
    const be = this.be!;
    if (be.px.timeouts.queue === 0) return this.abortWith(503, "s", "Q");
    this.phase = Phase.Queue;
    // A fresh ticket: an earlier one, cancelled, may still sit in the queue (removal is lazy).
    const ticket: Waiter = {
      cancelled: false,
      priorityClass: this.priorityClass,
      priorityOffset: this.priorityOffset,
      at: 0,
      seq: 0,
      heapIndex: -1,
      taken: queue.taken,
      forced: this.persistRule === "force",
      grant: (server) => {
        // A server has a free slot for this queued request.
        this.ticket = undefined;
        this.queuedFor(queue.taken - ticket.taken);
        this.waitEnds();
        this.grantTo(server, true);
      },
      reassign: () => {
        if (this.ticket !== ticket || this.phase !== Phase.Queue) return;
        this.ticket = undefined;
        this.reassigned(this.queuedOn!);
      },
    };
    this.ticket = ticket;
    queue.push(ticket, clock.now());
    // Waiting for a given server (hashing, a cookie): haproxy has already assigned it, and logs it so.
    this.queuedOn = this.serverOf(queue);
    if (this.queuedOn) {
      this.rec.server = this.queuedOn.name;
      this.srvConnLeft = this.queuedOn.cur;
    }
    const t = be.px.timeouts;
    this.arm(t.queue ?? t.connect);
  }

  /** The server whose own queue the ticket waits in (hashing, a cookie); undefined for the backend's. */
  private queuedOn: RtServer | undefined;

  /**
   * Its server went down while it waited in that server's queue (option redispatch): a new choice,
   * logged as haproxy's, with the wait in Tw and a "+" when the server changed.
   */
  private reassigned(old: RtServer): void {
    this.waitEnds();
    const r = this.be!.take(undefined, this, this.http);
    this.leftDirectServer(old, this.serverOf(r));
    if (this.waitOrRefuse(r)) return;
    this.movedFrom(old, r);
    this.grantTo(r, true);
  }

  /**
   * The log's %bq or %sq, for the queue waited in: the requests served from it while this one
   * waited, itself included (as haproxy counts).
   */
  private queuedFor(n: number): void {
    if (this.queuedOn) this.rec.srvQueue = n;
    else this.rec.backendQueue = n;
  }

  /** Gives up its place in the queue, if it holds one. */
  private leaveQueue(): void {
    const t = this.ticket;
    if (!t) return;
    const q = this.queuedOn?.queue ?? this.be!.queue;
    q.cancel(t);
    this.ticket = undefined;
    this.queuedFor(q.taken - t.taken + 1);
    this.waitEnds();
  }

  /**
   * The log's Tw: from the request's arrival (past its head) to now, when it gets or gives up a
   * server; in mode tcp from the accept (a PROXY header and a content inspection included).
   */
  private waitEnds(): void {
    this.rec.Tw = this.http
      ? clock.now() - this.rec.requestTime - Math.max(this.rec.TR, 0)
      : this.sinceAccept();
  }

  private sinceAccept(): number {
    return clock.now() - this.rec.acceptTime;
  }

  private grantTo(server: RtServer, fromQueue: boolean): void {
    this.srv = server;
    this.holdsSlot = true;
    server.sessions.add(this);
    this.rec.server = server.name;
    if (!fromQueue) this.rec.Tw = this.http ? 0 : this.sinceAccept();
    this.attempts = 0;
    this.connectStart = clock.now();
    this.connect();
  }

  /** When the server was assigned: haproxy's Tc runs from there, through the retries to that server. */
  private connectStart = 0;

  private connect(): void {
    const srv = this.srv!;
    this.phase = Phase.Connect;
    if (this.rt.countsRates) srv.sessRate.add(performance.now(), 1000, 1);
    // Reuse an idle connection to this server when the http-reuse policy allows it.
    const idle = this.idleConn(srv);
    if (idle) {
      this.attach(idle);
      this.onServerConnect();
      return;
    }
    this.rt.makeRoomForConnection(srv);
    const c = new ServerConn(srv, this);
    if (srv.sendProxy) {
      // Held until the connection is up, then sent before anything else. The header names this
      // client: haproxy reuses such a connection for no other.
      c.write(
        proxyHeaderFor(
          srv.sendProxy,
          { address: this.src, port: this.srcPort },
          { address: this.dst, port: this.dstPort },
        ),
      );
      c.boundToSession = true;
    }
    this.attach(c);
    this.arm(this.be!.px.timeouts.connect);
  }

  /**
   * The idle connection this request may use, as haproxy's http-reuse allows: the session's own
   * connection to the same server, always; another session's, with `safe` from the second request
   * of a client connection on, with `aggressive` also for a first request if the connection has
   * proved it can be reused, with `always` any; with `never`, none.
   */
  private idleConn(srv: RtServer): ServerConn | undefined {
    // It stays in the list while in use, where it keeps its place.
    for (const c of this.ownConns) {
      if (c.server !== srv || !c.usable) continue;
      c.owner = this;
      c.reused = true;
      return c;
    }
    if (!this.http) return undefined;
    const reuse = this.be!.px.httpReuse;
    if (reuse === "never" || this.connMode(this.be!) !== "keep-alive") return undefined;
    if (reuse === "always" || this.served > 0) return unpark(srv, this, false);
    return reuse === "aggressive" ? unpark(srv, this, true) : undefined;
  }

  /**
   * The server connections this session keeps for its own requests, one per server, in the order
   * it first kept one (a connection in use keeps its place): under `http-reuse never`, or one that
   * carries an NTLM or Negotiate authentication. Like haproxy's, at most `max-session-srv-conns`
   * (10): past that, a new one is closed instead.
   */
  private readonly ownConns: ServerConn[] = [];

  /**
   * A 401 or 407 that starts an NTLM or Negotiate authentication (a value of WWW-Authenticate, or
   * Proxy-Authenticate, that begins with either): the handshake belongs to the server connection,
   * so haproxy 2.6 keeps that connection for this client's session and sends the session's next
   * requests to its server, as prefer-last-server would.
   */
  private noteAuthentication(res: HttpHead): void {
    const name = res.status === 401 ? "www-authenticate" : "proxy-authenticate";
    for (let i = headerIndex(res, name); i >= 0; i = headerIndex(res, name, i + 1)) {
      for (const part of headerValue(res, i).split(",")) {
        const scheme = part.trim().slice(0, 4).toLowerCase();
        if (scheme !== "nego" && scheme !== "ntlm") continue;
        this.preferLast = true;
        if (this.conn) this.conn.boundToSession = true;
        return;
      }
    }
  }

  /** A response started an NTLM or Negotiate authentication (haproxy's SESS_FL_PREFER_LAST). */
  private preferLast = false;

  /**
   * The server a request goes to when nothing else decides (no cookie, no use-server rule), with
   * `option prefer-last-server` or after an NTLM or Negotiate challenge: the one of the connection
   * this session keeps, if it is in this backend and usable, and the backend does not hash.
   */
  private lastServer(be: RtBackend): RtServer | undefined {
    if (be.lbKind === "hash" || !(this.preferLast || be.px.preferLastServer)) return undefined;
    // The first kept connection that qualifies, as haproxy walks its session's list.
    for (const c of this.ownConns)
      if (c.usable && c.server.backend === be && c.server.usable) return c.server;
    return undefined;
  }

  private keep(c: ServerConn): void {
    const own = this.ownConns;
    if (own.includes(c)) return;
    // Connections closed meanwhile make room, as do older ones to the same server.
    for (let i = own.length - 1; i >= 0; i--) {
      const o = own[i]!;
      if (o.usable && o.server !== c.server) continue;
      own.splice(i, 1);
      o.close();
    }
    if (own.length < MAX_SESSION_SRV_CONNS) own.push(c);
    else c.close();
  }

  private attach(c: ServerConn): void {
    this.conn = c;
    this.serverEnded = false;
    this.rec.serverIp = c.server.address;
    this.rec.serverPort = c.server.port;
  }

  /** Lets go of the server connection (its events no longer reach this session) and returns it. */
  private detach(): ServerConn | undefined {
    const c = this.conn;
    if (!c) return undefined;
    c.owner = null;
    c.relayTo(undefined);
    this.conn = undefined;
    return c;
  }

  /** http-send-name-header: the server that takes the request (after any retry) is named last in its head. */
  private withServerName(head: Buffer): Buffer {
    const name = this.be!.px.sendNameHeader;
    if (name === undefined) return head;
    const line = Buffer.from(`${name}: ${this.srv!.name}\r\n\r\n`, "latin1");
    return Buffer.concat([head.subarray(0, head.length - 2), line]);
  }

  onServerConnect(): void {
    const rec = this.rec;
    rec.Tc = clock.now() - this.connectStart;
    if (this.rt.readsSource) {
      const source = this.conn!.source();
      rec.sourceIp = source.address ?? "";
      rec.sourcePort = source.port ?? 0;
    }
    if (!this.http) {
      this.stickStore();
      return this.startTunnel(undefined, this.cbuf);
    }
    this.phase = Phase.Exchange;
    this.res = undefined;
    this.sbuf = undefined;
    this.resBody = Body.None;
    const s = this.conn!;
    this.arm(this.serverTimeout);
    const again = this.replay;
    if (again) {
      s.write(this.withServerName(again.head));
      for (const b of again.body) s.write(b);
      return;
    }
    const out = this.outHead!;
    this.outHead = undefined;
    s.write(this.withServerName(out));
    if (this.be!.px.retryOn & AFTER_SENDING && !this.l7RetryOff)
      this.replay = { head: out, body: [], size: 0 };
    this.sendRequestBody(s);
    // haproxy's copy is its buffer, holding the request whole as it first left.
    const kept = this.replay;
    if (kept && (this.reqBody !== Body.Done || !this.heldWhole(kept.size))) this.replay = undefined;
  }

  /** What of the request's body is here as its head leaves. */
  private sendRequestBody(s: ServerConn): void {
    if (this.reqBody !== Body.Done) {
      // Body bytes that arrived with the head go in the same segment (writes wait for the round's end).
      const pending = this.cbuf;
      this.cbuf = undefined;
      if (pending) this.forwardRequestBody(pending);
      // A malformed chunk in those bytes has closed the session.
      if (this.phase !== Phase.Exchange) return;
      // The client left mid-body while the server was being reached: the rest will never come.
      if (this.clientEnded && this.requestBodyFlowing()) return this.close("C", "D");
      this.resumeClient();
    } else if (this.reqOut) this.sendBody(s, this.reqOut.raw(EMPTY, true)!);
  }

  /** Request body bytes to the server, copied while the request is kept for retry-on. */
  private sendBody(s: ServerConn, bytes: Buffer): boolean {
    const replay = this.replay;
    if (replay) {
      replay.body.push(Buffer.from(bytes));
      replay.size += bytes.length;
    }
    return s.write(bytes);
  }

  onServerClose(): void {
    if (this.phase === Phase.Connect) return this.connectFailed(false);
    if (this.phase === Phase.Tunnel) {
      // A reset is the server's doing even after the client's FIN; its own FIN then is the end.
      const serverAbort = !this.clientEnded || this.conn?.error !== undefined;
      return this.close(serverAbort ? "S" : "-", serverAbort ? "D" : "-");
    }
    if (this.phase !== Phase.Exchange) return;
    // After an early response, the rest of the request body goes nowhere.
    if (this.responseDone) this.dropServerAfterResponse();
    this.serverGone();
  }

  /** The server closed (or half-closed) its side during an HTTP exchange. */
  private serverGone(): void {
    if (this.responseDone) {
      this.serverMustClose = true;
      return;
    }
    if (this.res === undefined) {
      // A head cut short is an empty response to retry-on, as to haproxy.
      if (this.retries(RetryOn.EmptyResponse)) return this.sendAgain();
      // A reset while the request body still comes fails the body's transfer, not the response:
      // haproxy 2.6 closes the client without an answer and logs SD, whichever request it was.
      if (this.conn?.error !== undefined && this.requestBodyFlowing()) {
        this.rt.counters.serverAborts++;
        return this.close("S", "D");
      }
      // haproxy 2.6 closes a connection whose request, not its first, the server dropped unanswered,
      // without a word or a log line: the client may then retry it, which a proxy must not do for
      // it (the server may have acted on it). The first request gets a 502.
      if (this.served > 0) return this.close("S", "H", false);
      this.rt.counters.serverAborts++;
      return this.abortWith(502, "S", "H");
    }
    if (this.resBody === Body.UntilClose) {
      // A reset is no end of a body: haproxy logs it SD.
      if (this.conn?.error !== undefined) return this.close("S", "D");
      this.resBody = Body.Done;
      // A body that leaves chunked ends with its last chunk.
      const last = this.resOut?.next(EMPTY, true, undefined);
      if (last?.length) this.client.write(last);
      return this.endTransaction(false);
    }
    if (this.resBody !== Body.Done) return this.close("S", "D");
  }

  onServerEnd(): void {
    this.serverEnded = true;
    if (this.phase === Phase.Tunnel) {
      // The FIN goes to the client. haproxy 2.6 ends an HTTP tunnel then and there (----),
      // whatever the client still had to say.
      this.client.end();
      if (this.http || this.clientEnded) return this.close("-", "-");
      // mode tcp: the client may go on sending. Its side is half-closed now: haproxy 2.6 reads it
      // with timeout client-fin when set, counted from now; else with the timeout it had, counted
      // from the last data. When that lapses, the session is the client's timeout (cD).
      this.clientTimesOutFirst = false;
      this.tunnelTimeoutCause = "c";
      const fin = this.fe.px.timeouts.clientFin;
      if (fin !== undefined) return this.arm(fin);
      const ms = this.tunnelTimeout ?? this.fe.px.timeouts.client;
      if (ms === undefined) return this.arm(undefined);
      if (this.timerMs > 0) this.arm(ms, this.deadline - this.timerMs + ms - clock.now());
      return;
    }
    // Half-open sockets get no 'close' until both sides end: the server's FIN decides here.
    if (this.phase === Phase.Exchange) this.serverGone();
  }

  onServerDrain(): void {
    // Past a tunnel's client timeout the client is read no more.
    if (!this.clientTimedOut) this.client.resume();
    if (this.responseDone) this.arm(this.fe.px.timeouts.client);
  }

  private connectFailed(timedOut: boolean): void {
    const srv = this.srv!;
    const c = this.detach();
    c?.close();
    if (c?.error === "EMFILE" || c?.error === "ENFILE") this.rt.fdShortage();
    srv.connectErrors++;
    const be = this.be!;
    // haproxy's words for a source address it cannot bind to, and no turn-around delay after it.
    const unbound = c?.unbound === true;
    if (unbound) {
      const message = `Cannot bind to source address before connect() for backend ${be.name}.`;
      this.rt.logger.event(be.px, 0, message, { message: `${message} Aborting.` });
    }
    if (this.attempts < be.px.retries && be.px.retryOn & RetryOn.ConnFailure)
      return this.retry(timedOut || unbound ? 0 : Math.min(be.px.timeouts.connect ?? 1000, 1000));
    this.rt.counters.connectFailures++;
    this.abortWith(503, timedOut ? "s" : "S", "C");
  }

  /** retry-on after the request left: the kept request goes again at once (retries() said it may). */
  private sendAgain(): void {
    this.detach()?.close();
    this.sbuf = undefined;
    this.retry(0);
  }

  /**
   * retry-on after the request left: the backend retries on `failure` (RetryOn or status bits), the
   * request was kept (replay) and retries remain.
   */
  private retries(failure: number): boolean {
    const be = this.be!;
    return this.replay !== undefined && (be.px.retryOn & failure) !== 0 && this.attempts < be.px.retries;
  }

  /** A retry's turn: counted, then to the same server after `delay` ms, or at once to another. */
  private retry(delay: number): void {
    const srv = this.srv!;
    const be = this.be!;
    this.attempts++;
    this.rec.retries++;
    srv.retries++;
    const redispatch = be.px.redispatch;
    // haproxy 2.6 redispatches when the server is down, every Nth retry (the last one by default,
    // a negative interval counting from it), and always when no cookie binds the request to its
    // server and more than one active server is up. With another server to go to, it goes at
    // once; otherwise it waits the turn-around delay (after a refusal, not after a timeout).
    const interval = redispatch?.interval ?? -1;
    // Only round-robin kinds count on other servers: a hash or leastconn would pick the same one.
    const others = be.lbKind === "rr" && be.serverCounts().active > 1;
    // A force-persist rule keeps the request on its server through every retry.
    const move =
      redispatch !== undefined &&
      this.persistRule !== "force" &&
      ((others && !this.direct) ||
        !srv.up ||
        (interval > 0 && this.attempts % interval === 0) ||
        (interval < 0 && this.attempts % (be.px.retries + 1 + interval) === 0));
    this.phase = Phase.Connect;
    this.arm(undefined);
    if (move && others) return this.redispatch();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.phase !== Phase.Connect) return;
      if (move) this.redispatch();
      else this.connect();
    }, delay);
  }

  private retryTimer: NodeJS.Timeout | undefined;

  private redispatch(): void {
    const old = this.srv!;
    this.releaseSlot();
    // A new assignment: haproxy's Tw runs up to it, so it holds the failed attempts and waits.
    this.waitEnds();
    const be = this.be!;
    const r = be.take(old, this, this.http);
    this.leftDirectServer(old, this.serverOf(r));
    // To wait in the backend's queue is to leave the server; hashing waits for the same one, a retry.
    if (r === be.queue) this.rec.redispatched = true;
    if (this.waitOrRefuse(r)) return;
    // The log's "+" says the server changed; a pick of the same one is a plain retry.
    this.movedFrom(old, r);
    this.srv = r;
    this.holdsSlot = true;
    r.sessions.add(this);
    this.rec.server = r.name;
    this.connectStart = clock.now();
    this.connect();
  }

  private releaseSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    const srv = this.srv!;
    srv.sessions.delete(this);
    // The log's %sc: the server's connections without this one, before a queued request takes the
    // slot (haproxy counts that one once it has connected).
    this.srvConnLeft = srv.cur - 1;
    srv.backend.release(srv);
  }

  private srvConnLeft = 0;

  // ─── request body ────────────────────────────────────────────────────────────────────────────

  /** Forwards body bytes of the current request; keeps what follows it (a pipelined request). */
  private forwardRequestBody(chunk: Buffer): void {
    const s = this.conn;
    let n: number;
    let out: Buffer | undefined;
    const rf = this.reqOut;
    if (this.reqBody === Body.Length) {
      n = Math.min(this.reqLeft, chunk.length);
      this.reqLeft -= n;
      this.rec.bytesIn += n;
      if (this.reqLeft === 0) this.reqBody = Body.Done;
      if (rf) out = rf.next(firstBytes(chunk, n), this.reqBody === Body.Done, undefined);
    } else {
      const sc = this.reqChunks!;
      const counted = sc.htxSize;
      n = sc.scan(chunk, 0, chunk.length);
      this.rec.bytesIn += sc.htxSize - counted;
      if (sc.error)
        return this.responseDone ? this.badBodyAfterResponse() : this.refuseAfterHead(400, "P", "R");
      if (sc.done) this.reqBody = Body.Done;
      out = rf ? rf.next(sc.normalized ?? firstBytes(chunk, n), sc.done, sc) : sc.normalized;
    }
    // Any further bytes wait in cbuf for the next transaction.
    if (n < chunk.length) this.cbuf = chunk.subarray(n);
    if (rf && out === undefined) {
      if (!this.responseDone) return this.bodyOverflow();
      // After an early response the rest of the body goes nowhere.
      this.rt.counters.internalErrors++;
      this.dropServerAfterResponse()?.abort();
      out = EMPTY;
    }
    const bytes = out ?? firstBytes(chunk, n);
    const ok = s && !s.destroyed && bytes.length > 0 ? this.sendBody(s, bytes) : true;
    if (this.responseDone) {
      // After an early response, timeout client bounds the rest of the body; while a server that
      // does not read holds it back, timeout server does.
      if (this.reqBody === Body.Done) return this.endTransaction(true);
      if (!ok) this.arm(this.serverTimeout);
      else this.touch();
    } else {
      // Like haproxy 2.6, the server timeout alone bounds the exchange, body upload included: a
      // client that stalls mid-body ends as a 504 sH once the server has been silent that long.
      // With option independent-streams in the backend, what is sent does not count: only the
      // server's answer does.
      if (!this.be!.px.independentStreams) this.arm(this.serverTimeout);
    }
    if (!ok && this.reqBody !== Body.Done) this.client.pause();
  }

  /**
   * The body passed the Content-Length that rules gave its head: haproxy's HTTP/1 layer fails the
   * request, and what it had not sent of it never leaves. Before any response, a 500 logged IH.
   */
  private bodyOverflow(): void {
    this.rt.counters.internalErrors++;
    this.serverMustClose = true;
    this.detach()?.abort();
    if (this.res === undefined) return this.abortWith(500, "I", "H");
    this.close("I", "D");
  }

  // ─── response ────────────────────────────────────────────────────────────────────────────────

  onServerData(chunk: Buffer): void {
    if (this.phase === Phase.Tunnel) {
      this.rt.traffic(this.fe, 0, chunk.length);
      this.rec.bytesOut += chunk.length;
      if (!this.client.write(chunk)) this.conn!.pause();
      if (this.independent === 0) this.touch();
      else this.readInTunnel(false);
      return;
    }
    if (this.phase !== Phase.Exchange) return;
    if (this.responseDone) {
      // Bytes past the response: this server connection cannot be trusted with another request.
      this.serverMustClose = true;
      this.dropServerAfterResponse()?.close();
      return;
    }
    if (this.res === undefined) {
      this.sbuf = this.sbuf ? Buffer.concat([this.sbuf, chunk]) : chunk;
      this.readResponse();
      return;
    }
    this.forwardResponseBody(chunk);
  }

  private readResponse(): void {
    // Interim responses wait for the rest of the same read: haproxy parses all of it first, and
    // sends none of it when something in it is bad.
    let interim: Buffer[] | undefined;
    let interimHtx = 0;
    for (;;) {
      const buf = this.sbuf!;
      const g = this.rt.global;
      const head = parseResponse(buf, 0, buf.length, g.maxhdr, this.resHead, true, this.responseLeniency());
      if (head === NEED_MORE) {
        if (buf.length > g.bufsize) return this.badResponse();
        return this.sendInterim(interim, interimHtx);
      }
      if (
        typeof head === "number" ||
        head.end > g.bufsize ||
        head.weight > maxHeadWeight(g.bufsize, g.maxrewrite)
      )
        return this.badResponse();
      const rest = head.end < buf.length ? buf.subarray(head.end) : undefined;
      if (head.status === 101 || (head.status < 300 && head.status >= 200 && this.req.method === "CONNECT")) {
        // A switch is taken as it comes: retry-on keeps no copy past it.
        this.replay = undefined;
        this.sendInterim(interim, interimHtx);
        return this.switchProtocols(head, rest, interimHtx);
      }
      if (head.status < 200) {
        // 100 Continue and friends go to the client before the final response.
        edits.reset();
        // A bare "HTTP/1.1 100 Continue" goes as it came.
        const plain = head.count === 0 && head.startLineAsIs && !head.bareLf;
        (interim ??= []).push(
          this.clientCase(plain ? buf.subarray(head.start, head.end) : interimHead(head)),
        );
        interimHtx += head.htxSize;
        this.sbuf = rest;
        if (!rest) return this.sendInterim(interim, interimHtx);
        continue;
      }
      if (this.replay) {
        const failure = statusBit(head.status);
        if (this.retries(failure)) {
          this.sendInterim(interim, interimHtx);
          return this.sendAgain();
        }
        this.replay = undefined;
      }
      // haproxy's HTTP/1 layer reads the chunks that came with the head first: a malformed one
      // makes the whole response bad (502), before any rule.
      if (
        rest &&
        responseBodyKind(head, this.req.method) === BodyKind.Chunked &&
        this.checkChunks(rest) === BodyIn.Bad
      )
        return this.badResponse();
      this.sendInterim(interim, interimHtx);
      this.sbuf = undefined;
      this.res = this.resHead = head;
      return this.startResponse(head, rest, interimHtx);
    }
  }

  /**
   * Sends the interim responses read so far, if any, in one write (a flood of them costs one copy).
   * Each is the server's sign of life: timeout server counts again from now, as in haproxy 2.6 (a
   * server may send 102 Processing while it works).
   */
  private sendInterim(heads: Buffer[] | undefined, htx: number): void {
    if (!heads) return;
    const bytes = heads.length === 1 ? heads[0]! : Buffer.concat(heads);
    this.client.write(bytes);
    this.rec.bytesOut += htx;
    this.touch();
  }

  /** The backend's, then the frontend's http-response rules; their header edits wait in `edits`. */
  private responseVerdict(): Verdict {
    edits.reset();
    const beRules = this.be && this.be.px !== this.fe.px ? this.be.responseRules : NO_RULES;
    if (this.fe.responseRules.length === 0 && beRules.length === 0) return CONTINUE;
    const v = evalResponseRules(beRules, this, edits);
    return v.kind === "continue" ? evalResponseRules(this.fe.responseRules, this, edits) : v;
  }

  /**
   * The backend's, then the frontend's http-after-response rules, on the response at hand (this.res):
   * the last step before it leaves. Each ruleset's `allow` ends that ruleset only.
   */
  private afterResponseVerdict(): Verdict {
    if (!this.hasAfterRules()) return CONTINUE;
    const beRules = this.be && this.be.px !== this.fe.px ? this.be.afterRules : NO_RULES;
    const v = evalResponseRules(beRules, this, edits);
    return v.kind === "continue" ? evalResponseRules(this.fe.afterRules, this, edits) : v;
  }

  private hasAfterRules(): boolean {
    return this.fe.afterRules.length > 0 || (this.be !== undefined && this.be.afterRules.length > 0);
  }

  /** Set while http-after-response rules rewrite one of the proxy's own responses. */
  private answering = false;

  /**
   * The proxy's own response once the http-after-response rules had their say (haproxy runs them on
   * its own responses too). A failed rewrite leaves the response as it was.
   */
  private afterRulesOn(bytes: Buffer): Buffer {
    const head = parseResponse(bytes, 0, bytes.length, this.rt.global.maxhdr * 2);
    if (typeof head === "number") return bytes;
    this.res = head;
    this.rec.status = head.status;
    edits.reset();
    this.answering = true;
    let v: Verdict;
    try {
      v = this.afterResponseVerdict();
    } finally {
      this.answering = false;
    }
    // Each rule's edit is applied as it goes (reparse): what is left is the head they made.
    const out = this.res;
    if (v.kind !== "continue" || out === head) return bytes;
    this.closeIfRulesSay(head, out);
    let body = bytes.subarray(head.end);
    if (out.status !== head.status) this.restatus = out.status;
    // As haproxy frames it: no body for a 204 or a 304, and no length for a 204; else as the head
    // the rules made says.
    if (out.status === 204 || out.status === 304) {
      body = body.subarray(0, 0);
      if (out.status === 204) dropFraming(out);
    } else if (head.status === 204 && out.body === BodyKind.UntilClose) {
      // haproxy's own 204 holds the length 0 that a 204 does not send: given another status, it says
      // it, where it always was, first.
      edits.first.push("content-length: 0");
    } else if (
      (out.body !== head.body || out.contentLength !== head.contentLength) &&
      this.toldMethod() !== "HEAD"
    ) {
      const framed = this.ownAnswerFraming(out, body);
      if (framed === undefined) {
        // Past the length the rules gave: nothing is sent, and the connection closes.
        edits.reset();
        this.closeAfter = true;
        return EMPTY;
      }
      body = framed;
    }
    // haproxy's encoder takes close and keep-alive out of a Connection line the rules wrote: it
    // writes its own.
    cleanConnectionHeaders(out, edits);
    normalizeHead(out, edits);
    const rewritten = serializeHead(out, edits, body, body.length);
    edits.reset();
    return rewritten;
  }

  /**
   * The proxy's own answer's body once http-after-response rules changed its framing, as a server's
   * (reframe.ts); undefined when it is longer than the length they gave.
   */
  private ownAnswerFraming(out: HttpHead, body: Buffer): Buffer | undefined {
    const framing = outFraming(out, false, true);
    // The answer then says close (answerBytes), in place of its own words (a 1.0 client's keep-alive).
    if (framing.close) this.closeAfter = true;
    if (framing.addChunked) edits.add.push("Transfer-Encoding: chunked");
    const rf = reframer(BodyKind.Length, body.length, framing);
    return rf ? rf.next(body, true, undefined) : body;
  }

  private badResponse(): void {
    if (this.retries(RetryOn.JunkResponse)) return this.sendAgain();
    this.rt.counters.badResponses++;
    this.abortWith(502, "P", "H");
  }

  /** The final response's head came (after `interims` counted of interim heads in the same read). */
  private startResponse(parsed: HttpHead, rest: Buffer | undefined, interims: number): void {
    // haproxy's HTTP/1 layer drops a Content-Length beside chunked framing before any rule or
    // capture sees the response, and does not trust that server with another request.
    const length = parsed.body === BodyKind.Chunked ? headerIndex(parsed, "content-length") : -1;
    if (length >= 0) {
      edits.reset();
      for (let i = length; i >= 0; i = headerIndex(parsed, "content-length", i + 1)) edits.dropHeader(i);
      this.reparse(edits);
      this.serverMustClose = true;
    }
    let res = this.res!;
    const rec = this.rec;
    rec.bytesOut += parsed.htxSize;
    const bodyFrom = rec.bytesOut;
    rec.Tr = clock.now() - this.connectStart - Math.max(rec.Tc, 0);
    rec.status = res.status;
    if (this.stk) this.countStatus(res.status);
    this.stickStore();
    if (res.status === 401 || res.status === 407) this.noteAuthentication(res);
    this.captureResponse(res);
    if (this.compAlgo !== undefined) this.chooseResponseCompression(res);
    const v = this.responseVerdict();
    if (v.kind !== "continue") return this.responseDenied(v, parsed, rest);
    this.serverCookies(this.res!);
    // http-after-response rules see the persistence cookie inserted.
    if (!edits.empty && this.hasAfterRules()) this.reparse(edits);
    const after = this.afterResponseVerdict();
    if (after.kind !== "continue") return this.responseDenied(after, parsed, rest);
    // A rule's set-status is the status told (and logged, as reparse noted); the server's body goes
    // by its own.
    res = this.res!;
    edits.startLine ??= normalizedStartLine(res);
    // The body comes as the server framed it; it leaves as the head that leaves says.
    const kind = responseBodyKind(parsed, this.req.method);
    // An upgrade the server refused: the connection stays HTTP.
    if (res.versionMinor === 0 && !res.connKeepAlive) this.serverMustClose = true;
    if (res.connClose) this.serverMustClose = true;
    if (kind === BodyKind.UntilClose) {
      this.closeAfter = true;
      this.resBody = Body.UntilClose;
    } else if (kind === BodyKind.Chunked) {
      this.resBody = Body.Chunked;
      const sc = (this.resChunks ??= new ChunkedScanner(this.rt.global.bufsize, true, this.rt.global.maxhdr));
      sc.reset();
      sc.data = this.compPayload = this.comp ? [] : undefined;
    } else if (kind === BodyKind.Length && parsed.contentLength > 0) {
      this.resBody = Body.Length;
      this.resLeft = parsed.contentLength;
    } else this.resBody = Body.Done;
    if (res.status === 204) dropFraming(res);
    // A rule's status without a body (204, 304) keeps the compressed head, as haproxy's, and no body.
    const told = responseBodyKind(res, this.toldMethod());
    const compressing = this.comp !== undefined && told !== BodyKind.None;
    if (this.comp) compressedHead(res, edits, this.comp.algo, res.status !== 204);
    const framing =
      res !== parsed && this.comp === undefined && res.status !== 204
        ? this.responseFraming(res, kind, told, parsed.contentLength)
        : undefined;
    // A body the client may not have (a rule set a status without one, or made its HEAD a GET) is
    // read and dropped.
    if (told === BodyKind.None && kind !== BodyKind.None && this.resBody !== Body.Done) {
      this.resDropped = true;
      // Nothing of it is gathered for a compression that will not run.
      this.compPayload = undefined;
      if (this.resChunks) this.resChunks.data = undefined;
    }
    // HTTP/1.0 has no chunked coding: haproxy 2.6 closes after a 1.0 response that says it is chunked
    // (even to a HEAD, which gets no body), so that its end cannot be misread.
    if (res.versionMinor === 0 && res.body === BodyKind.Chunked && res.status !== 204) this.closeAfter = true;
    // The client's side of the Connection header. haproxy 2.6 takes the server's close and keep-alive
    // words out and appends its own where the versions of the response and the request need one.
    // Sluice does so whenever the server's words are not already true of the client's connection;
    // when they are (the usual keep-alive answer), the head leaves untouched, meaning the same.
    this.closeIfRulesSay(parsed, res);
    const clientClose = this.saysClose();
    let needed: string | undefined;
    if (!res.connUpgrade) {
      if (clientClose) needed = res.versionMinor === 1 ? "close" : undefined;
      else if (res.versionMinor === 0 || this.req.versionMinor === 0) needed = "keep-alive";
    }
    const untrue = clientClose ? res.connKeepAlive : res.connClose;
    const unsaid = needed === "close" ? !res.connClose : needed === "keep-alive" && !res.connKeepAlive;
    // Next to `upgrade` (an upgrade the server did not make), haproxy writes no keep-alive word.
    const besideUpgrade = res.connUpgrade && res.connKeepAlive;
    if (untrue || unsaid || besideUpgrade) {
      cleanConnectionHeaders(res, edits);
      if (needed) edits.add.push(`Connection: ${needed}`);
    }
    if (clientClose) this.closeAfter = true;
    if (framing?.addChunked) edits.add.push("Transfer-Encoding: chunked");
    if (res.connUpgrade && res.upgradeWebSocket) this.answerClientKey(res);
    // The body bytes that came with the head leave with it, in one write when possible.
    let n = 0;
    if (rest && this.resBody !== Body.Done) {
      n = this.responseBodyBytes(rest);
      if (n < 0) return;
    }
    // Whatever follows the response in the server's bytes cannot be trusted.
    if (rest && n < rest.length) this.serverMustClose = true;
    const c = this.client;
    // The body bytes the client gets.
    const shown = this.resDropped ? 0 : n;
    let fixed = shown > 0 ? this.resFixed : undefined;
    if (this.resOut) {
      fixed = this.resOut.next(
        fixed ?? rest?.subarray(0, n) ?? EMPTY,
        this.resBody === Body.Done,
        this.resChunks,
      );
      if (fixed === undefined) return this.responseOverflow();
    }
    let ok: boolean;
    // The head as it leaves, when it is not the server's.
    let sent: Buffer | undefined;
    normalizeHead(res, edits);
    if (edits.empty && res === parsed && !fixed) {
      // Unchanged head and body: contiguous in the server's buffer.
      const end = res.end + shown;
      // Most often the server's whole read: itself, no view of it.
      ok = c.write(
        this.clientCase(
          res.start === 0 && end === res.buf.length ? res.buf : res.buf.subarray(res.start, end),
        ),
      );
    } else {
      // A small body that came with the head leaves in the head's buffer: one write, where two
      // buffers would go out through writev, which costs Node more than the copy.
      const merged = !compressing && !fixed && shown > 0 && shown <= MERGED_BODY_MAX;
      const head = this.clientCase(serializeHead(res, edits, merged ? rest : undefined, merged ? shown : 0));
      const body = merged
        ? undefined
        : compressing
          ? this.compressed(rest, n)
          : (fixed ?? (shown > 0 ? rest!.subarray(0, shown) : undefined));
      // Both go in one segment: writes wait for the round's end, or go together past 16 KiB.
      ok = c.write(head);
      if (body?.length) ok = c.write(body);
      sent = head;
    }
    edits.reset();
    // A body left without a length is chunked by haproxy's encoder, which writes that line itself.
    this.logAsap(interims, sent, parsed, rec.bytesOut - bodyFrom, framing?.addChunked ? CHUNKED_HTX : 0);
    if (this.resBody === Body.Done) return this.endTransaction(true);
    // A body that goes on as it comes (no chunks to scan, nothing to compress or re-frame) is only
    // written on: bulk goes uncopied (tcp-socket.ts), until the server connection leaves (detach).
    const plain = this.resBody === Body.Length || this.resBody === Body.UntilClose;
    if (plain && !this.resDropped && this.comp === undefined && this.resOut === undefined)
      this.conn?.relayTo(c);
    if (!ok) this.waitForClient();
  }

  /**
   * How the response's body leaves with a head that rules rewrote (reframe.ts); as for a request,
   * and the client's connection closes after a head that says both a length and chunks, or nothing.
   * Where the server's status had no body and the one told has, the client gets an empty one.
   */
  private responseFraming(res: HttpHead, kind: BodyKind, told: BodyKind, length: number): OutFraming {
    // A body that is not sent needs no framing; a HEAD's response or a 304 that says both still closes.
    const sends = told !== BodyKind.None;
    const framing = outFraming(res, false, sends && kind !== BodyKind.UntilClose);
    if (framing.close) this.closeAfter = true;
    if (!sends) return framing;
    this.resOut = reframer(kind, length, framing);
    if (this.resOut && kind === BodyKind.Chunked && !framing.chunked) this.resChunks!.data = [];
    if (!framing.chunked && framing.length < 0) this.closeAfter = true;
    return framing;
  }

  /**
   * The response's body passed the Content-Length that rules gave its head: haproxy's HTTP/1 layer
   * fails the client's side, and closes it with nothing more sent (logged CD).
   */
  private responseOverflow(): void {
    this.rt.counters.internalErrors++;
    this.serverMustClose = true;
    this.close("C", "D");
  }

  /** The method the client's response is framed for: HEAD when it sent one (as haproxy's HTTP/1 layer has it). */
  private toldMethod(): string {
    return this.receivedHead ? "HEAD" : this.req.method;
  }

  /**
   * The server's Set-Cookie headers, after the http-response rules as in haproxy: the persistence
   * cookie's handled per the mode and ours added (with `Cache-control: private` when `nocache` and a
   * cache could keep the response); the frontend's `capture cookie`.
   */
  private serverCookies(res: HttpHead): void {
    const p = this.persistence;
    if (!p) return;
    // An ignore-persist rule leaves the server's cookie alone, and inserts none.
    const ck = this.persistRule === "ignore" ? undefined : this.be!.px.cookie;
    if (!ck && !p.capture) return;
    const srv = this.srv!;
    readServerCookies(res, edits, ck, srv, p);
    if (!ck) return;
    const line = insertedCookie(ck, srv, this.req.method, p, nowSeconds());
    if (line === undefined) return;
    edits.add.push(line);
    if (ck.nocache && cacheable(this.req.method, res)) edits.add.push("Cache-control: private");
  }

  /** The line already left with the response head (option logasap): not again at the end. */
  private loggedEarly = false;

  /**
   * option logasap: log as soon as the response head is sent, with the times so far. haproxy then
   * counts what its response buffer holds: the interim heads of the same read, the head as it leaves
   * (`sent`, rules' edits included but not the `encoder`'s lines; else the server's `head`) and the
   * `body` bytes that came with it; and nothing of the request yet.
   */
  private logAsap(
    interims: number,
    sent: Buffer | undefined,
    head: HttpHead,
    body: number,
    encoder = 0,
  ): void {
    if (!this.fe.px.logasap || !this.logging) return;
    const rec = this.rec;
    const bytesIn = rec.bytesIn;
    const bytesOut = rec.bytesOut;
    const left = sent && this.readBack(sent);
    rec.bytesIn = 0;
    rec.bytesOut =
      interims + (sent === undefined ? head.htxSize : left ? left.htxSize - encoder : sent.length) + body;
    this.emitLog("-", "-");
    rec.bytesIn = bytesIn;
    rec.bytesOut = bytesOut;
    this.loggedEarly = true;
  }

  private serverMustClose = false;
  /**
   * The server's body is read and dropped: the client may not have one (its HEAD went as a GET, or a
   * rule set a status without a body). The server's connection stays usable, as in haproxy.
   */
  private resDropped = false;

  /** What the last responseBodyBytes() sends in place of the bytes it counted: chunked framing fixed. */
  private resFixed: Buffer | undefined = undefined;

  /**
   * How many bytes of `chunk` belong to the response body (and advances its framing); -1 on an
   * error. The bytes sent for them are resFixed when it is set.
   */
  private responseBodyBytes(chunk: Buffer): number {
    this.resFixed = undefined;
    if (this.resBody === Body.Chunked) {
      const sc = this.resChunks!;
      const counted = sc.htxSize;
      const n = sc.scan(chunk, 0, chunk.length);
      this.rec.bytesOut += sc.htxSize - counted;
      if (sc.error) {
        this.rt.counters.badResponses++;
        this.close("S", "D");
        return -1;
      }
      if (sc.done) this.resBody = Body.Done;
      this.resFixed = sc.normalized;
      return n;
    }
    let n = chunk.length;
    if (this.resBody === Body.Length) {
      n = Math.min(this.resLeft, n);
      this.resLeft -= n;
      if (this.resLeft === 0) this.resBody = Body.Done;
    }
    this.rec.bytesOut += n;
    return n;
  }

  private forwardResponseBody(chunk: Buffer): void {
    const n = this.responseBodyBytes(chunk);
    if (n < 0) return;
    if (n < chunk.length) this.serverMustClose = true;
    if (this.resDropped) {
      if (this.resBody === Body.Done) return this.endTransaction(true);
      return this.touch();
    }
    let out = this.comp === undefined ? (this.resFixed ?? firstBytes(chunk, n)) : this.compressed(chunk, n);
    if (this.resOut) {
      out = this.resOut.next(out!, this.resBody === Body.Done, this.resChunks);
      if (out === undefined) return this.responseOverflow();
    }
    const ok = out === undefined || out.length === 0 || this.client.write(out);
    if (this.resBody === Body.Done) return this.endTransaction(true);
    if (!ok) return this.waitForClient();
    this.touch();
  }

  /**
   * The client's bytes for the next piece of a compressed body: the `n` bytes of `chunk` that
   * belong to it, or the payload its chunks carried; undefined when there is nothing to send yet.
   * After each piece, the level adapts to the limits, as haproxy's does.
   */
  private compressed(chunk: Buffer | undefined, n: number): Buffer | undefined {
    const comp = this.comp!;
    const end = this.resBody === Body.Done;
    const payload = this.compPayload;
    let piece: Buffer = EMPTY;
    // Only a chunked body has trailers, to follow its last chunk.
    let trailers: Buffer | undefined;
    if (payload) {
      if (payload.length > 0) piece = payload.length === 1 ? payload[0]! : Buffer.concat(payload);
      payload.length = 0;
      if (end) trailers = this.resChunks!.trailers;
    } else if (n > 0) piece = chunk!.subarray(0, n);
    const out = comp.chunk(piece, end, trailers);
    // Identity compresses nothing: haproxy counts its bytes as passed by, not compressed.
    if (comp.algo !== "identity" && (piece.length > 0 || end)) {
      const lim = this.rt.compression;
      const now = performance.now();
      comp.adjust(comp.level > 0 ? lim.counted(now, piece.length, comp.encoded) : lim.over(now));
    }
    return out.length > 0 ? out : undefined;
  }

  /**
   * The client does not take the response as fast as it comes: the server is read no more until it
   * does, and meanwhile timeout client runs, not timeout server (as in haproxy 2.6).
   */
  private waitForClient(): void {
    this.conn!.pause();
    this.arm(this.fe.px.timeouts.client);
  }

  /**
   * The response is complete and its request is not (an early response: the server answered before
   * the body's end). As haproxy 2.6 does, the body goes on to the server (or nowhere, once the server
   * has closed) under timeout client, and the transaction ends with it: logged then, its connections
   * kept if both allow.
   */
  private responseDone = false;

  /** Lets the server connection go after an early response; the body's rest then goes nowhere. */
  private dropServerAfterResponse(): ServerConn | undefined {
    const c = this.detach();
    // Nothing is re-framed for nobody, nor gathered for it.
    this.reqOut = undefined;
    if (this.reqChunks) this.reqChunks.data = undefined;
    // It may have been holding the client back.
    this.resumeClient();
    this.arm(this.fe.px.timeouts.client);
    return c;
  }

  private awaitRequestEnd(serverReusable: boolean): void {
    this.responseDone = true;
    if (!serverReusable) this.serverMustClose = true;
    this.arm(this.fe.px.timeouts.client);
    this.resumeClient();
  }

  /** A malformed chunk after an early response: haproxy 2.6 closes both sides (FIN), logged PD. */
  private badBodyAfterResponse(): void {
    this.conn?.end();
    this.close("P", "D");
  }

  /** The response is complete: log, then keep or close each side. */
  private endTransaction(serverReusable: boolean, cause: TermCause = "-", phase: TermPhase = "-"): void {
    if (this.requestBodyFlowing()) return this.awaitRequestEnd(serverReusable);
    const rec = this.rec;
    const now = clock.now();
    rec.Ta = now - rec.requestTime;
    this.served++;
    const reusable = serverReusable && !this.serverMustClose && this.resBody === Body.Done;
    // After an early response the server's side ends with a FIN, as haproxy's does.
    if (this.responseDone && !reusable) this.conn?.end();
    this.releaseServer(reusable);
    if (!this.loggedEarly) this.emitLog(cause, phase);
    if (this.closesAfterThis()) {
      this.client.end();
      return this.finish();
    }
    // Next request on the same connection.
    this.resetTransaction(now);
    this.phase = Phase.Head;
    if (this.client.writableNeedDrain) {
      // The client does not read its answers: read no more requests until it does.
      this.client.pause();
      this.awaitingDrain = true;
      this.arm(this.fe.px.timeouts.client);
      return;
    }
    this.nextRequest();
  }

  /**
   * The client connection ends with this transaction: the request or our mode says so, a soft stop
   * is under way, or the client has finished sending and pipelined nothing more.
   */
  private closesAfterThis(): boolean {
    return this.saysClose() || (this.clientEnded && this.cbuf === undefined);
  }

  /**
   * A `Connection: close` that response rules wrote closes the client's connection after this
   * response: haproxy's HTTP/1 layer reads the head it sends.
   */
  private closeIfRulesSay(before: HttpHead, after: HttpHead): void {
    if (after !== before && after.connClose && !before.connClose) this.closeAfter = true;
  }

  /**
   * The response says `Connection: close`: the request, our mode or a soft stop ends the connection.
   * A client that has only finished sending is not told (haproxy 2.6 just closes after the answer).
   */
  private saysClose(): boolean {
    return this.closeAfter || this.rt.stopping;
  }

  /** Starts the pipelined request already received, or waits idle for the next one. */
  private nextRequest(): void {
    if (this.pipelineFits()) this.resumeClient();
    if (this.cbuf) {
      // Its bytes came with an earlier read.
      this.rec.empty = false;
      this.rec.Ti = 0;
      this.arm(this.fe.headTimeout);
      this.readRequest();
    } else if (this.clientEnded || this.rt.stopping) {
      this.client.end();
      this.finish();
    } else {
      this.idle = true;
      this.arm(this.fe.idleTimeout);
    }
  }

  /** Gives the server connection back (to the idle pool when allowed) and the server slot. */
  private releaseServer(reusable: boolean): void {
    this.letServerGo(reusable);
    this.releaseSlot();
    if (this.beCounted) {
      this.beCounted = false;
      this.be!.cur--;
    }
  }

  /** Lets the server connection go: kept (idle, or for this client) when `reusable` and allowed, else closed. */
  private letServerGo(reusable: boolean): void {
    const c = this.detach();
    if (!c) return;
    const be = this.be;
    if (reusable && be && this.connMode(be) === "keep-alive" && c.usable) {
      if (be.px.httpReuse !== "never" && !c.boundToSession) {
        if (this.rt.keepsIdle()) park(c);
        else c.close();
      } else {
        // Not shared, but kept for this client's next requests (an owner-less connection closes on
        // any sign of life from the server meanwhile).
        this.keep(c);
      }
    } else c.close();
  }

  /** A server's 4xx is the client's error, its 5xx (but 501 and 505) its own failure. */
  private countStatus(status: number): void {
    if (status >= 400 && status < 500) this.stk!.countError(clock.now());
    else if (status >= 500 && status !== 501 && status !== 505) this.stk!.countFailure(clock.now());
  }

  private resetTransaction(now: number): void {
    this.notFirst = true;
    this.rulesFrom = this.waitAtLeast = this.ruleWaitUntil = 0;
    this.lastRule = undefined;
    if (this.stk) {
      this.stk.countBytes(this.rec.bytesIn, this.rec.bytesOut, now);
      this.stk.endStream(now);
    }
    if (this.stores) empty(this.stores);
    this.continued = false;
    // A request that cannot be read is logged with none of the last one's variables.
    this.vars.newTransaction();
    const rec = this.rec;
    // haproxy's next stream on the connection starts now: its date, %Tt and %Ts count from here.
    rec.acceptTime = rec.requestTime = now;
    rec.Th = 0;
    rec.backend = "";
    rec.server = "";
    rec.serverIp = rec.sourceIp = "";
    rec.serverPort = rec.sourcePort = 0;
    rec.TR = rec.Tw = rec.Tc = rec.Tr = -1;
    rec.Ta = rec.Tt = 0;
    rec.termCause = rec.termPhase = "-";
    rec.persistCookie = "--";
    rec.status = -1;
    rec.bytesOut = 0;
    rec.bytesIn = 0;
    rec.retries = 0;
    rec.backendQueue = 0;
    rec.srvQueue = 0;
    rec.redispatched = false;
    this.persistence?.reset();
    rec.capturedRequest = rec.capturedResponse = NO_CAPTURES;
    rec.requestLine = "";
    rec.empty = true;
    rec.requestCounter = -1;
    rec.uniqueId = undefined;
    rec.logLevel = undefined;
    if (this.endsChanged) {
      this.startEnds();
      this.endsChanged = false;
    }
    this.loggedEarly = false;
    this.monitored = false;
    this.res = undefined;
    this.be = undefined;
    this.beName = "";
    this.srv = undefined;
    this.serverMustClose = false;
    this.resDropped = false;
    this.responseDone = false;
    this.bodyCut = false;
    this.reqBody = Body.None;
    this.resBody = Body.None;
    this.outHead = this.replay = undefined;
    this.l7RetryOff = false;
    this.reqRewritten = false;
    this.wsKey = this.clientKey = undefined;
    this.streamServerTimeout = this.streamTunnelTimeout = undefined;
    this.priorityClass = this.priorityOffset = 0;
    // A body cut short may leave its payload gathered: let it go.
    if (this.reqChunks) this.reqChunks.data = undefined;
    this.reqOut = this.resOut = undefined;
    this.compAlgo = this.comp = this.compPayload = undefined;
  }

  // ─── tunnel ──────────────────────────────────────────────────────────────────────────────────

  /** A 101, or a 2xx to CONNECT: the connection becomes a tunnel once the head is through. */
  private switchProtocols(head: HttpHead, rest: Buffer | undefined, interims: number): void {
    // haproxy 2.6 switches when the request and the 101 both say `Connection: upgrade` (whatever
    // their Upgrade headers say), and a 101 that names websocket carries Sec-WebSocket-Accept
    // (whatever its value). Any other 101 is a 502.
    if (head.status === 101) {
      if (!this.wantsUpgrade || !head.connUpgrade) return this.badResponse();
      const accept = headerIndex(head, "sec-websocket-accept");
      if (head.upgradeWebSocket && accept < 0) return this.badResponse();
      // A key of the proxy's making must be answered.
      if (
        this.wsKey !== undefined &&
        head.upgradeWebSocket &&
        headerValue(head, accept).toLowerCase() !== acceptFor(this.wsKey).toLowerCase()
      )
        return this.badResponse();
    }
    const rec = this.rec;
    rec.Tr = clock.now() - this.connectStart - Math.max(rec.Tc, 0);
    rec.status = head.status;
    rec.bytesOut += head.htxSize;
    this.res = head;
    this.captureResponse(head);
    // http-response rules see this head too: they may edit it, or deny it (a 502, as haproxy 2.6 does).
    const v = this.responseVerdict();
    if (v.kind !== "continue") return this.responseDenied(v, head, rest, true);
    this.serverCookies(this.res!);
    if (!edits.empty && this.hasAfterRules()) this.reparse(edits);
    const after = this.afterResponseVerdict();
    if (after.kind !== "continue") return this.responseDenied(after, head, rest, true);
    const out = this.res!;
    if (out.connUpgrade && out.upgradeWebSocket) this.answerClientKey(out);
    // haproxy 2.6 drops a 101's framing headers, but not those of a 2xx to CONNECT.
    const bytes = this.clientCase(interimHead(out, head.status === 101));
    this.client.write(bytes);
    this.logAsap(interims, bytes, head, 0);
    this.startTunnel(rest, this.cbuf);
  }

  /**
   * A response that says upgrade to websocket leaves with a Sec-WebSocket-Accept: haproxy's HTTP/1
   * layer writes one where it has none, a 101 whose own a rule deleted, or any other status (a 426
   * Upgrade Required), answering the client's key (24 zero bytes when the request had none).
   */
  private answerClientKey(res: HttpHead): void {
    if (headerIndex(res, "sec-websocket-accept") < 0)
      edits.add.push(`Sec-Websocket-Accept: ${acceptFor(this.clientKey ?? NO_KEY)}`);
  }

  /** From now on, bytes both ways and nothing parsed; `timeout tunnel` replaces client and server. */
  private startTunnel(fromServer: Buffer | undefined, fromClient: Buffer | undefined): void {
    this.phase = Phase.Tunnel;
    this.sbuf = this.cbuf = undefined;
    this.outHead = undefined;
    // Let go of parsed heads and their buffers: an idle tunnel keeps little beyond its two sockets.
    this.res = this.resHead = undefined;
    this.req = TUNNEL_HEAD;
    this.reqChunks = this.resChunks = undefined;
    if (fromServer) {
      this.rec.bytesOut += fromServer.length;
      this.client.write(fromServer);
    }
    if (fromClient) {
      // mode tcp counted them as they came.
      if (this.http) this.rec.bytesIn += fromClient.length;
      this.conn!.write(fromClient);
    }
    // `timeout tunnel` is the backend's (a frontend's, even one from its defaults, does nothing).
    // Without it, each side keeps its own timeout, counted from the last data either way.
    const tunnel = this.tunnelTimeout;
    const server = this.serverTimeout;
    const client = this.fe.px.timeouts.client;
    this.independent = (this.fe.px.independentStreams ? 1 : 0) | (this.be!.px.independentStreams ? 2 : 0);
    this.clientReadAt = this.serverReadAt = wheel.now;
    if (tunnel !== undefined) this.arm(tunnel);
    else if (client === undefined || server === undefined) {
      this.tunnelTimeoutCause = client === undefined ? "s" : "c";
      this.arm(client ?? server);
    } else {
      this.clientTimesOutFirst = client < server;
      this.tunnelTimeoutCause = client <= server ? "c" : "s";
      this.arm(Math.min(client, server));
    }
    // Each side's bytes go to the other and are kept nowhere else: bulk goes on uncopied (tcp-socket.ts).
    this.client.relayTo(this.conn);
    this.conn!.relayTo(this.client);
    this.client.resume();
    this.conn!.resume();
    // A client that finished sending before the tunnel existed: its FIN goes on now.
    if (this.clientEnded) this.onClientEnd();
  }

  private clientSideTimedOut(): void {
    this.clientTimesOutFirst = false;
    this.clientTimedOut = true;
    this.client.pause();
    this.conn!.end();
    const fin = this.be!.px.timeouts.serverFin;
    if (fin !== undefined) return this.arm(fin);
    // The server side's deadline is as far from the last data as its timeout.
    const server = this.serverTimeout!;
    this.arm(server, server - this.fe.px.timeouts.client!);
  }

  /**
   * mode tcp: the frontend's content rules inspect what the client sends, waiting for more while a
   * rule cannot tell yet, up to tcp-request inspect-delay (without one, they decide at once), within
   * timeout client counted from the last read.
   */
  private startTcp(): void {
    const delay = this.fe.px.inspectDelay ?? 0;
    const rules = this.fe.tcpContent.length > 0;
    const bufsize = this.rt.global.bufsize;
    this.inspect = { buf: NO_BYTES, final: delay === 0 || !rules, mayChange: false, max: bufsize };
    if (!rules) return this.routeTcp();
    this.phase = Phase.Inspect;
    this.inspectUntil = clock.now() + delay;
    if (delay > 0) this.armInspection();
    this.inspectNow();
  }

  /** When the inspection's delay ends. */
  private inspectUntil = 0;

  /** The inspection's timer: its delay's end, or timeout client from now if that comes first. */
  private armInspection(): void {
    const left = this.inspectUntil - clock.now();
    const client = this.fe.px.timeouts.client;
    this.arm(Math.max(1, client === undefined ? left : Math.min(left, client)));
  }

  /**
   * The frontend's content rules on what came so far (as much as haproxy's buffer holds: tune.bufsize
   * less its reserve for rewrites): a decision, or more waiting.
   */
  private inspectNow(): void {
    const insp = this.inspect!;
    const all = this.cbuf ?? NO_BYTES;
    const room = maxHeadSize(insp.max, this.rt.global.maxrewrite);
    insp.buf = all.length > room ? all.subarray(0, room) : all;
    if (all.length >= room) insp.final = true;
    const v = tcpVerdict(this.fe.tcpContent, this);
    if (v === "wait") return;
    // What follows (use_backend) reads the bytes as they are now.
    insp.final = true;
    this.arm(undefined);
    if (v !== "accept") return this.contentRejected(v);
    this.routeTcp();
  }

  /** The inspection cannot wait any more (its delay, the client's FIN): the rules decide now. */
  private inspectionEnds(): void {
    this.inspect!.final = true;
    this.inspectNow();
  }

  /** The client left or timed out while inspected: haproxy logs it against the backend it would use. */
  private inspectionAborted(cause: "C" | "c"): void {
    this.inspect!.final = true;
    const be = this.fe.route(this);
    if (be) this.rec.backend = be.name;
    this.close(cause, "R");
  }

  private routeTcp(): void {
    const be = this.fe.route(this);
    if (!be || be.px.disabled) return this.noBackend(be);
    this.be = be;
    this.beName = be.name;
    this.rec.backend = be.name;
    be.cur++;
    be.total++;
    if (this.rt.countsRates) be.sessRate.add(performance.now(), 1000, 1);
    this.beCounted = true;
    const content =
      be.px !== this.fe.px && be.tcpContent.length > 0 ? tcpVerdict(be.tcpContent, this) : "accept";
    if (refuses(content)) return this.contentRejected(content);
    this.client.pause();
    this.persistRule = be.persistRule(this);
    this.direct = be.ruledServer(this, this.persistRule === "force");
    if (be.stickRules.length > 0) this.stickMatch(be);
    // No rule reads the inspected bytes past here; cbuf takes them to the server.
    this.inspect!.buf = NO_BYTES;
    this.acquireServer();
  }

  /**
   * No backend for the request (no rule chose one and there is no default), or a disabled one:
   * haproxy answers 503 at once, logged SC-- (against that backend, not counted there), with no
   * request time; in mode tcp it closes.
   */
  private noBackend(be: RtBackend | undefined): void {
    if (be) {
      this.beName = be.name;
      this.rec.backend = be.name;
    }
    this.rec.TR = -1;
    this.abortWith(503, "S", "C");
  }

  /**
   * A name made per request chose a backend of the other mode (a configuration cannot name one):
   * haproxy 2.6.12 closes an HTTP client's connection without a word and logs a 500, IR--, with no
   * request time. (A tcp frontend that could name an http backend is refused as it is read.)
   */
  private otherMode(be: RtBackend): void {
    this.beName = be.name;
    this.rec.backend = be.name;
    this.rec.TR = -1;
    this.replyAndClose(500, undefined, 0, "I", "R");
  }

  /**
   * A tcp-request content rule rejected the request: haproxy closes the connection without a word
   * and logs it with neither a request time nor a status, PR. It has read what the client sent, so
   * its close is a FIN; ours is a lingering one, which reads and drops what else comes (haproxy's
   * socket is gone: that would meet an RST). A silent drop is logged and counted the same, and
   * sends nothing at all.
   */
  private contentRejected(how: "reject" | "silent-drop"): void {
    this.rec.TR = -1;
    if (how === "silent-drop") return this.silentDrop();
    this.rt.counters.denied++;
    this.client.end();
    this.close("P", "R");
  }

  /**
   * A silent-drop rule: the session ends as the proxy's refusal (PR, whether the request or the
   * response was at hand), and the client hears nothing more.
   */
  private silentDrop(): void {
    this.rt.silentDrop(this.fe, this.client);
    this.close("P", "R");
  }

  /** What a client's heads may hold beyond the grammar: the frontend's and the global relaxations. */
  private requestLeniency(): Leniency {
    return (
      (this.fe.px.acceptInvalidHttpRequest ? Leniency.InvalidHttp : Leniency.None) |
      (this.rt.global.payloadWithAnyMethod ? Leniency.PayloadAnyMethod : Leniency.None)
    );
  }

  /** What a server's heads may hold beyond the grammar (the proxy's own answers have no backend). */
  private responseLeniency(): Leniency {
    return this.be?.px.acceptInvalidHttpResponse ? Leniency.InvalidHttp : Leniency.None;
  }

  /** A head for the client in the case option h1-case-adjust-bogus-client asks for. */
  private clientCase(bytes: Buffer): Buffer {
    return this.fe.px.caseAdjustClient ? adjustCase(bytes, this.rt.global.caseAdjust) : bytes;
  }

  /**
   * Soft stop: a kept-alive connection waiting for its next request closes now, unlogged. One that has
   * not sent its first request yet is waited for, as haproxy 2.6 does, and so is an idle one with
   * option idle-close-on-response: the answer then says `Connection: close`.
   */
  closeIfIdle(): void {
    if (this.phase !== Phase.Head || this.cbuf !== undefined || this.awaitingDrain || !this.rec.empty) return;
    if (this.served > 0 && !this.fe.px.idleCloseOnResponse) this.finish();
  }

  /** `on-marked-down shutdown-sessions`: the server went away. */
  shutdown(): void {
    this.close("K", this.phase === Phase.Tunnel || this.res !== undefined ? "D" : "H");
  }

  // ─── end ─────────────────────────────────────────────────────────────────────────────────────

  /** Ends the session, logged with this cause and phase unless `log` is false. */
  private close(cause: TermCause, phase: TermPhase, log = true): void {
    if (this.phase === Phase.Closed) return;
    this.client.relayTo(undefined);
    this.conn?.relayTo(undefined);
    if (this.clientTimedOut) [cause, phase] = ["c", "D"];
    const rec = this.rec;
    // Body bytes that came but went to no server: haproxy counted them as they came.
    if (this.cbuf !== undefined && this.requestBodyFlowing())
      rec.bytesIn += this.bodyIn(
        this.cbuf,
        this.reqBody === Body.Chunked ? BodyKind.Chunked : BodyKind.Length,
        this.reqLeft,
      );
    this.leaveQueue();
    const wasTunnel = this.phase === Phase.Tunnel;
    this.releaseServer(false);
    const now = clock.now();
    if (rec.Ta === 0 || wasTunnel) rec.Ta = now - rec.requestTime;
    // Log unless this was an idle keep-alive connection closing between requests.
    try {
      if (log && !this.loggedEarly && !(this.served > 0 && rec.empty && !wasTunnel && rec.status < 0))
        this.emitLog(cause, phase);
    } finally {
      // Whatever happens while logging, the session ends and gives back what it holds.
      this.finish();
    }
  }

  private finish(): void {
    this.phase = Phase.Closed;
    if (this.stk) {
      const now = clock.now();
      this.stk.countBytes(this.rec.bytesIn, this.rec.bytesOut, now);
      this.stk.endSession(now);
    }
    for (const c of this.ownConns.splice(0)) c.close();
    this.arm(undefined);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    // A silent drop took the client from the session.
    if (!c.destroyed && c.session === this) {
      // What the kernel takes at once needs no lingering.
      c.sendHeld();
      if (c.writableLength > 0 || c.writableEnded) {
        c.end();
        // The client has LINGER_MS to take our last bytes and close. Whatever it sends meanwhile is
        // read and dropped, and buys it no more time: a client that never reads, or keeps writing,
        // does not hold the socket.
        c.linger = setTimeout(destroySocket, LINGER_MS, c);
      } else c.destroy();
    }
    this.cbuf = this.sbuf = undefined;
    this.rt.sessionEnded(this.fe, this);
  }

  private emitLog(cause: TermCause, phase: TermPhase): void {
    if (this.monitored) return;
    const rec = this.rec;
    rec.termCause = cause;
    rec.termPhase = phase;
    const now = clock.now();
    rec.Tt = now - rec.acceptTime;
    if (rec.Ta <= 0) rec.Ta = now - rec.requestTime;
    this.logRecord();
    rec.persistCookie = this.cookieLetters();
    // A request haproxy could not read has no stream, hence no id and no stream's variables.
    if (!this.http || (rec.requestLine !== "" && rec.requestLine !== "<BADREQ>")) this.uniqueId();
    else this.vars.streamless();
    this.ended = true;
    this.rt.log(this.fe, rec);
    this.ended = false;
  }

  /** httplog's cookie letters: those of the backend's cookie (the frontend's before a backend). */
  private cookieLetters(): string {
    const ck = (this.be ?? this.fe).px.cookie;
    if (!ck || (ck.mode === "passive" && !ck.indirect)) return "--";
    const p = this.persistence;
    return p ? p.seen + p.set : "NN";
  }

  private captureRequest(): void {
    // haproxy logs the response's captures empty (`{}`) until a response fills them.
    this.captureNothing();
    const caps = this.fe.px.captureRequestHeaders;
    if (caps.length > 0) this.rec.capturedRequest = caps.map((c) => capture(this.req, c.name, c.len));
  }

  /** Every capture empty, as a stream's start. */
  private captureNothing(): void {
    const px = this.fe.px;
    if (px.captureRequestHeaders.length > 0)
      this.rec.capturedRequest = px.captureRequestHeaders.map(() => "");
    if (px.captureResponseHeaders.length > 0)
      this.rec.capturedResponse = px.captureResponseHeaders.map(() => "");
  }

  /** An http-request or http-response capture rule's sample into its slot, cut to the slot's length. */
  capture(side: "request" | "response", slot: number, value: string): void {
    const px = this.fe.px;
    const decl = (side === "request" ? px.captureRequestHeaders : px.captureResponseHeaders)[slot];
    const caps = side === "request" ? this.rec.capturedRequest : this.rec.capturedResponse;
    // Without log targets there are no captures to fill; a backend's rule may name a slot its
    // frontend does not have (haproxy then does nothing either).
    if (decl === undefined || slot >= caps.length) return;
    (caps as string[])[slot] = value.slice(0, decl.len);
  }

  private captureResponse(res: HttpHead): void {
    const caps = this.fe.px.captureResponseHeaders;
    if (caps.length === 0 || !(this.logging || this.rt.readsCaptures)) return;
    this.rec.capturedResponse = caps.map((c) => capture(res, c.name, c.len));
  }
}

/** The process's streams so far (haproxy's %rt). */
let streamCount = 0;

/** Wall-clock seconds, as cookie dates count them. */
const nowSeconds = (): number => Math.floor(clock.now() / 1000);

/** Walks a head's lines for captures; their names, lower-cased once. */
const captureWalk = new Sample();
const captureNames = new Map<string, Buffer>();

/**
 * A capture slot's value from the head: its header's last occurrence (as haproxy's parser left a
 * Connection line), cut; "" for a rule's slot.
 */
function capture(head: HttpHead, name: string | undefined, len: number): string {
  if (name === undefined) return "";
  let lc = captureNames.get(name);
  if (lc === undefined) captureNames.set(name, (lc = Buffer.from(name.toLowerCase(), "latin1")));
  if (!hdrOcc(head, lc, false, -1, captureWalk)) return "";
  const w = captureWalk;
  return w.buf!.toString("latin1", w.bs, Math.min(w.be, w.bs + len));
}

/**
 * The header edits of the head being built, one for the process: edits are made and applied within
 * one synchronous step (each rule reparses the head it edited; the outgoing request head is built
 * in toServer(), a response's in startResponse()), and a step that could find edits left over
 * starts with a reset.
 */
const edits = new HeadEdits();

/** Checks the chunks that arrived with a head before anything else reads them. */
const bodyCheck = new ChunkedScanner();

/** What the proxy answers for the server to a 1.1 client expecting 100-continue, with http-buffer-request. */
const CONTINUE_100 = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
/** What haproxy counts of it (HTX_HEAD): its start line's parts. */
const CONTINUE_100_HTX = HTX_HEAD + "HTTP/1.1".length + "100".length + "Continue".length;
/** What haproxy counts of some header lines (HTX_HEAD): their names and values. */
const CONNECTION_CLOSE_HTX = "connection".length + "close".length;
const ZERO_LENGTH_HTX = "content-length".length + "0".length;
const CHUNKED_HTX = "transfer-encoding".length + "chunked".length;
/** The end of a chunked body: alone, an empty one. */
const EMPTY = Buffer.alloc(0);

/** The most body bytes that are copied into a rewritten response head to leave in one write. */
const MERGED_BODY_MAX = 4096;

/** The backend's http-response rules when the frontend and backend are one section (a listen). */
const NO_RULES: CompiledRule<HttpResponseAction>[] = [];

/** haproxy 2.6 sends no Content-Length or Transfer-Encoding with a response bodiless by status (1xx, 204). */
function dropFraming(head: HttpHead): void {
  for (let i = 0; i < head.count; i++)
    if (headerNameIs(head, i, "content-length") || headerNameIs(head, i, "transfer-encoding"))
      edits.dropHeader(i);
}

/**
 * A 1xx head (or a 2xx to CONNECT) as haproxy 2.6 passes it on: no Connection words of the server's
 * hop, no framing (unless `dropsFraming` is false), and the edits already in `edits` (http-response
 * rules).
 */
function interimHead(head: HttpHead, dropsFraming = true): Buffer {
  edits.startLine ??= normalizedStartLine(head);
  cleanConnectionHeaders(head, edits);
  if (dropsFraming) dropFraming(head);
  normalizeHead(head, edits);
  const bytes = serializeHead(head, edits);
  edits.reset();
  return bytes;
}

/** The heads the proxy sends, read back for what haproxy counts of them. */
const sentHead: HttpHead = newHead(Buffer.alloc(0));
/** What `req` points to once the connection is a tunnel: the handshake's bytes are let go. */
const TUNNEL_HEAD: HttpHead = newHead(Buffer.alloc(0));
const NO_BYTES = Buffer.alloc(0);
/** A handshake's Sec-WebSocket-Key: its first value of the right length (16 bytes in base64). */
function webSocketKey(req: HttpHead): string | undefined {
  for (
    let i = headerIndex(req, "sec-websocket-key");
    i >= 0;
    i = headerIndex(req, "sec-websocket-key", i + 1)
  ) {
    const key = headerValue(req, i);
    if (key.length === 24) return key;
  }
  return undefined;
}

/** What haproxy answers for when a request brought no WebSocket key: its buffer, empty. */
const NO_KEY = "\0".repeat(24);

/** haproxy's max-session-srv-conns default: the server connections a session may keep for itself. */
const MAX_SESSION_SRV_CONNS = 10;

/** How long a closed session waits for its client to take the last bytes and close. */
const LINGER_MS = 5000;

function destroySocket(s: ClientSocket): void {
  s.destroy();
}

/** The first n bytes of chunk, without a new view when that is all of it. */
function firstBytes(chunk: Buffer, n: number): Buffer {
  return n === chunk.length ? chunk : chunk.subarray(0, n);
}

/**
 * The request line as the log keeps it: its first `kept` characters (tune.http.logurilen, 1023 by
 * default), a long target losing its end and the version.
 */
const requestLineOf = (req: HttpHead, kept: number): string => {
  // The version as the client wrote it: "HTTP/2.0" is logged as such, though it leaves as 1.1.
  const line = `${req.method} ${req.uri} ${req.version}`;
  return line.length > kept ? line.slice(0, Math.max(0, kept)) : line;
};

/** A request kept for retry-on: its head, then its body as it left, `size` bytes of it. */
interface Replay {
  head: Buffer;
  body: Buffer[];
  size: number;
}

/** A response from the proxy: its bytes with a given Connection header, and what they imply. */
interface Answer {
  bytes(c: ReplyConnection): Buffer;
  /** The connection closes after it, whatever the request says. */
  closes: boolean;
  http10: boolean;
  /** What haproxy counts of it (HTX_HEAD) but does not send. */
  unsentHtx: number;
}

const fileAnswer = (f: ErrorFile): Answer => ({
  bytes: (c) => errorFileBytes(f, c),
  closes: f.closes,
  http10: f.http10,
  unsentHtx: f.unsentHtx,
});
