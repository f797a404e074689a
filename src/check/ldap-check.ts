// `option ldap-check`: an anonymous simple bind (LDAPv3, RFC 4511 §4.2), answered by a
// BindResponse whose resultCode is the check's code; success (0) alone passes.
import { failed } from "./result.js";
import { customExpect, type CannedRule, type Judge } from "./tcp-check.js";

/** BER tags (X.690): universal INTEGER, OCTET STRING, ENUMERATED, SEQUENCE; RFC 4511's own. */
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const ENUMERATED = 0x0a;
const SEQUENCE = 0x30;
const BIND_REQUEST = 0x60;
const BIND_RESPONSE = 0x61;
const SIMPLE_AUTH = 0x80;

const MESSAGE_ID = 1;
const LDAP_VERSION = 3;

/** A BER element of fewer than 128 bytes: its length fits the short form. */
const tlv = (tag: number, ...content: number[]): number[] => [tag, content.length, ...content];

/** LDAPMessage { messageID, BindRequest { version, name "", simple "" } }. */
export const bindRequest = (): Buffer =>
  Buffer.from(
    tlv(
      SEQUENCE,
      ...tlv(INTEGER, MESSAGE_ID),
      ...tlv(BIND_REQUEST, ...tlv(INTEGER, LDAP_VERSION), ...tlv(OCTET_STRING), ...tlv(SIMPLE_AUTH)),
    ),
  );

const NOT_LDAP = "Not LDAPv3 protocol";

/**
 * The BindResponse of message 1, once whole. The message's length may take the long form on two or
 * four bytes (as Active Directory writes it), the BindResponse's on any number.
 */
const bindResponse: Judge = (buf, lastRead) => {
  // Fewer bytes than announced: an invalid response once nothing more comes.
  const truncated = lastRead ? failed("L7RSP") : "wait";
  const first = buf[1] ?? 0;
  const lengthBytes = first & 0x80 ? first & 0x7f : 0;
  if (lengthBytes !== 0 && lengthBytes !== 2 && lengthBytes !== 4) return failed("L7RSP", NOT_LDAP);
  const start = 2 + lengthBytes;
  if (buf.length < start) return truncated;
  const length = lengthBytes ? buf.readUIntBE(2, lengthBytes) : first;
  if (buf.length < start + length) return truncated;
  const head = [INTEGER, 1, MESSAGE_ID, BIND_RESPONSE];
  if (!head.every((b, i) => buf[start + i] === b)) return failed("L7RSP", NOT_LDAP);
  const at = start + head.length;
  const result = at + 1 + (buf[at]! & 0x80 ? buf[at]! & 0x7f : 0);
  if (buf[result] !== ENUMERATED || buf[result + 1] !== 1) return failed("L7RSP", NOT_LDAP);
  const code = buf[result + 2];
  if (code === 0) return "next";
  return failed("L7STS", "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9", code);
};

export const ldapCheck = (): CannedRule[] => [
  { action: "send", data: bindRequest().toString("latin1") },
  // A SEQUENCE, of at least an LDAPResult's size.
  { action: "expect", kind: "rbinary", pattern: "^30", negate: false, minRecv: 14, onError: NOT_LDAP },
  customExpect(bindResponse, { onSuccess: () => "Success" }),
];
