// Actions that act on the client's socket or on haproxy's scheduling rather than on a message.
// set-mark (SO_MARK) and set-tos (IP_TOS) change what the network does with the packets, and Node.js
// 20 sets no such option on a TCP socket (its handles take TCP_NODELAY and SO_KEEPALIVE only): a
// configuration that relies on them is refused rather than run without them. set-nice weighs a
// stream against the others in haproxy's scheduler, which Sluice does not have: it is accepted, with
// a warning, and does nothing.

const SOCKET_OPTIONS = new Map([
  ["set-mark", "SO_MARK"],
  ["set-tos", "IP_TOS"],
]);

/** Why `rule` (`http-request set-mark`...) is refused, or undefined when `kw` sets no socket option. */
export function socketOptionRefusal(rule: string, kw: string): string | undefined {
  const option = SOCKET_OPTIONS.get(kw);
  if (option === undefined) return undefined;
  return `'${rule}' is not supported by sluice: Node.js cannot set ${option} on a socket, so the client's packets would leave without it.`;
}

/** The warning for a set-nice rule, kept (its condition still runs) and doing nothing. */
export const niceIgnored = (rule: string): string =>
  `'${rule}' has no effect in sluice, which has no scheduler to weigh streams against one another; ignored.`;

/** haproxy's refusal of a set-nice without its one argument. */
export const NICE_USAGE = "expects exactly 1 argument (integer value)";
