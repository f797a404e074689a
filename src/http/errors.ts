// The responses the proxy itself sends. Same status lines and headers as haproxy's (clients and
// monitoring match on them); the short HTML bodies are our own words.

/** Reason phrases as haproxy writes them. */
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
  407: "Proxy Authentication Required",
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

/** What each of haproxy's built-in error pages explains (a deny may use any of them). */
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
 * The Connection header of a response from the proxy: "close" when the client's connection ends
 * with it, "keep-alive" for an HTTP/1.0 client whose connection stays open, none otherwise.
 */
export type ReplyConnection = "close" | "keep-alive" | undefined;

export interface ReplyOptions {
  contentType?: string;
  connection: ReplyConnection;
}

/**
 * A response a rule wrote (`return`, or a deny with its own body): unlike the error pages, haproxy
 * 2.6 marks it neither cacheable nor not.
 */
export function buildReply(status: number, body: string, o: ReplyOptions): Buffer {
  return reply(status, body, o, false);
}

function reply(status: number, body: string, o: ReplyOptions, noCache: boolean): Buffer {
  const b = Buffer.from(body, "utf8");
  const lines = [`HTTP/1.1 ${status} ${reasonFor(status)}`, `content-length: ${b.length}`];
  if (noCache) lines.push("cache-control: no-cache");
  if (o.contentType !== undefined) lines.push(`content-type: ${o.contentType}`);
  if (o.connection !== undefined) lines.push(`connection: ${o.connection}`);
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), b]);
}

/** A redirect as haproxy 2.6 sends it: no body, and cacheable when permanent (301, 308). */
export function redirectReply(status: number, location: string, connection: ReplyConnection): Buffer {
  let head = `HTTP/1.1 ${status} ${reasonFor(status)}\r\ncontent-length: 0\r\nlocation: ${location}\r\n`;
  if (status !== 301 && status !== 308) head += "cache-control: no-cache\r\n";
  if (connection !== undefined) head += `connection: ${connection}\r\n`;
  return Buffer.from(head + "\r\n", "latin1");
}

/** A reply's head alone (the answer to HEAD). */
export const headOf = (reply: Buffer): Buffer => reply.subarray(0, reply.indexOf("\r\n\r\n") + 4);

const cache = new Map<string, Buffer>();

/** The proxy's own error page for `status`, built once for each Connection header. */
export function errorReply(status: number, connection: ReplyConnection): Buffer {
  const key = `${status} ${connection}`;
  let r = cache.get(key);
  if (!r) {
    const text = EXPLANATIONS[status] ?? "";
    const html = `<html><body><h1>${status} ${reasonFor(status)}</h1>\n${text}\n</body></html>\n`;
    r = reply(status, html, { contentType: "text/html", connection }, true);
    cache.set(key, r);
  }
  return r;
}
