// The responses the proxy itself sends. Same status lines and headers as haproxy's (clients and
// monitoring match on them); the short HTML bodies are our own words.

/** Reason phrases of haproxy's redirects and error pages (its 407 page says "Unauthorized"). */
export const REASONS: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  407: "Unauthorized",
  408: "Request Time-out",
  410: "Gone",
  413: "Payload Too Large",
  414: "URI Too Long",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  425: "Too Early",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Time-out",
};

/** The statuses haproxy 2.6 has a built-in page for: a deny_status without a body needs one. */
export const HAPROXY_PAGES = new Set([
  200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504,
]);

/** What each of our pages explains: haproxy's statuses, and the 414 our parser sends. */
const EXPLANATIONS: Record<number, string> = {
  200: "The proxy is alive.",
  400: "The request could not be understood.",
  401: "This request needs credentials.",
  403: "This request is refused by the proxy's rules.",
  404: "Nothing is here to answer this request.",
  405: "This method is not allowed for this request.",
  407: "This request needs proxy credentials.",
  408: "The request did not arrive completely in time.",
  410: "What this request asks for is gone for good.",
  421: "This request was sent to a proxy that cannot answer for it.",
  425: "This request came too early to be answered safely.",
  429: "Too many requests came in too short a time.",
  413: "The request is larger than the proxy accepts.",
  414: "The request's URI is longer than the proxy accepts.",
  422: "The request's transfer coding is not one the proxy implements.",
  500: "The proxy met an internal error.",
  501: "The proxy does not implement what this request asks.",
  502: "The server's response was invalid or incomplete.",
  503: "No server is available to take this request.",
  504: "The server did not answer in time.",
};

export const reasonFor = (status: number): string => REASONS[status] ?? "Unknown";

/**
 * The reason phrases haproxy 2.6 gives a reply that a rule writes (`return`, a deny with a body or
 * the `status` word), which are not always its error pages' (400 "Bad Request" there).
 */
const RULE_REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  210: "Content Different",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Moved Temporarily",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  310: "Too many Redirects",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Time-out",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested range unsatisfiable",
  417: "Expectation failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Method failure",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  449: "Retry With",
  450: "Blocked by Windows Parental Controls",
  451: "Unavailable For Legal Reasons",
  456: "Unrecoverable Error",
  499: "client has closed connection",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway or Proxy Error",
  503: "Service Unavailable",
  504: "Gateway Time-out",
  505: "HTTP Version not supported",
  506: "Variant also negotiate",
  507: "Insufficient storage",
  508: "Loop detected",
  509: "Bandwidth Limit Exceeded",
  510: "Not extended",
  511: "Network authentication required",
  520: "Web server is returning an unknown error",
};

/** A status without a phrase of its own is named by its class; set-status goes to 999 ("Other"). */
const CLASS_REASONS = ["Success", "Redirection", "Client Error", "Server Error"];

export const ruleReason = (status: number): string =>
  RULE_REASONS[status] ?? CLASS_REASONS[Math.floor(status / 100) - 2] ?? "Other";

/**
 * The Connection header of a response from the proxy: "close" when the client's connection ends
 * with it, "keep-alive" for an HTTP/1.0 client whose connection stays open, none otherwise.
 */
export type ReplyConnection = "close" | "keep-alive" | undefined;

export interface ReplyOptions {
  contentType?: string;
  connection: ReplyConnection;
  /** Header lines ("Name: value") a rule adds, before the reply's own. */
  headers?: string[];
  /** A header line after the reply's own, before the Connection line. */
  last?: string;
}

/**
 * A response a rule wrote (`return`, or a deny with its own body): unlike the error pages, haproxy
 * 2.6 marks it neither cacheable nor not.
 */
export function buildReply(status: number, body: string, o: ReplyOptions): Buffer {
  return reply(`${status} ${ruleReason(status)}`, body, o, false);
}

function reply(statusLine: string, body: string, o: ReplyOptions, noCache: boolean): Buffer {
  const b = Buffer.from(body, "latin1");
  const lines = [`HTTP/1.1 ${statusLine}`, ...(o.headers ?? [])];
  // haproxy's encoder sends no length with a 204, which has no body.
  if (!statusLine.startsWith("204 ")) lines.push(`content-length: ${b.length}`);
  if (noCache) lines.push("cache-control: no-cache");
  if (o.contentType !== undefined) lines.push(`content-type: ${o.contentType}`);
  if (o.last !== undefined) lines.push(o.last);
  if (o.connection !== undefined) lines.push(`connection: ${o.connection}`);
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), b]);
}

/**
 * A redirect as haproxy 2.6 sends it: no body, cacheable when permanent (301, 308), with the cookie
 * a `set-cookie` or `clear-cookie` option gives.
 */
export function redirectReply(
  status: number,
  location: string,
  connection: ReplyConnection,
  cookie: string | undefined,
): Buffer {
  let head = `HTTP/1.1 ${status} ${reasonFor(status)}\r\ncontent-length: 0\r\nlocation: ${location}\r\n`;
  if (status !== 301 && status !== 308) head += "cache-control: no-cache\r\n";
  if (cookie !== undefined) head += `set-cookie: ${cookie}\r\n`;
  if (connection !== undefined) head += `connection: ${connection}\r\n`;
  return Buffer.from(head + "\r\n", "latin1");
}

/** A reply's head alone (the answer to HEAD). */
export const headOf = (reply: Buffer): Buffer => reply.subarray(0, reply.indexOf("\r\n\r\n") + 4);

const cache = new Map<string, Buffer>();

/** The proxy's own error page for `status`, built once for each Connection header. */
export function errorReply(status: number, connection: ReplyConnection): Buffer {
  return page(status, connection, undefined);
}

/** The proxy's 401 or 407 page with `header` (http-request auth's challenge) after its own lines. */
export function challengeReply(status: 401 | 407, header: string, connection: ReplyConnection): Buffer {
  return page(status, connection, header);
}

function page(status: number, connection: ReplyConnection, last: string | undefined): Buffer {
  const key = `${status} ${connection} ${last}`;
  let r = cache.get(key);
  if (!r) {
    const text = EXPLANATIONS[status] ?? "";
    const html = `<html><body><h1>${status} ${reasonFor(status)}</h1>\n${text}\n</body></html>\n`;
    r = reply(`${status} ${reasonFor(status)}`, html, { contentType: "text/html", connection, last }, true);
    cache.set(key, r);
  }
  return r;
}
