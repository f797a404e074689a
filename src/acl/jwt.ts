// JSON Web Tokens as haproxy 2.6 reads them: their parts queried (jwt_header_query,
// jwt_payload_query) and their signature checked (jwt_verify) with the key files read at start-up.
import { readFileSync } from "node:fs";
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import type { Converter } from "./converters.js";
import type { Arg } from "./args.js";
import { T, TRASH_SIZE } from "./sample.js";
import { parseVarName } from "./vars.js";
import { jsonQuery, outputTypeCheck } from "./json-text.js";
import { base64urldec } from "./digest-conv.js";

/** A token's part decoded (haproxy's base64urldec), none past haproxy's buffer. */
function base64UrlDecode(s: string): string | undefined {
  const bytes = base64urldec(s);
  return bytes !== undefined && bytes.length > TRASH_SIZE ? undefined : bytes;
}

/**
 * jwt_tokenize: the token's first `max` dot-separated parts, or undefined when a dot starts a part
 * past them.
 */
function jwtParts(token: string, max: number): string[] | undefined {
  const parts = token.split(".");
  return parts.length > max ? undefined : parts;
}

/** The public keys of jwt_verify's key files, loaded at configuration time (haproxy's jwt_cert_tree). */
const jwtKeys = new Map<string, KeyObject>();

/** Loads a key file as PEM_read_bio_PUBKEY does; a certificate alone is no public key. */
function loadJwtKey(path: string): void {
  if (jwtKeys.has(path)) return;
  let pem: string;
  try {
    pem = readFileSync(path, "latin1");
  } catch {
    return;
  }
  const block = /-----BEGIN (?:RSA )?PUBLIC KEY-----[\s\S]*?-----END (?:RSA )?PUBLIC KEY-----/.exec(pem);
  if (!block) return;
  try {
    jwtKeys.set(path, createPublicKey(block[0]));
  } catch {
    // Not a key: haproxy leaves it out, and tokens checked with it are of an unknown certificate.
  }
}

type JwtAlg = { kind: "none" } | { kind: "HS" | "RS" | "ES" | "PS"; hash: string };

/** jwt_parse_alg: none, or one of the RFC 7518 names; undefined for any other. */
function parseAlg(alg: string): JwtAlg | undefined {
  if (alg === "none") return { kind: "none" };
  const m = /^(HS|RS|ES|PS)(256|384|512)$/.exec(alg);
  return m ? { kind: m[1] as "HS" | "RS" | "ES" | "PS", hash: `sha${m[2]}` } : undefined;
}

const JWT_OK = 1;
const JWT_KO = 0;
const JWT_UNKNOWN_ALG = -1;
const JWT_UNMANAGED_ALG = -2;
const JWT_INVALID_TOKEN = -3;
const JWT_UNKNOWN_CERT = -5;

/** An R||S signature as DER (SEQUENCE of two INTEGERs), its halves R and S; undefined when odd. */
function ecdsaDer(sig: Buffer): Buffer | undefined {
  if (sig.length === 0 || sig.length % 2 !== 0) return undefined;
  const int = (b: Buffer): Buffer => {
    let k = 0;
    while (k < b.length - 1 && b[k] === 0) k++;
    const v = b[k]! & 0x80 ? Buffer.concat([Buffer.from([0]), b.subarray(k)]) : b.subarray(k);
    return Buffer.concat([Buffer.from([2]), derLength(v.length), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, sig.length / 2)), int(sig.subarray(sig.length / 2))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

const derLength = (n: number): Buffer =>
  n < 128 ? Buffer.from([n]) : n < 256 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 255]);

/** jwt_verify's return code for a token, an algorithm name and a secret or key path. */
export function jwtVerify(token: string, algName: string, key: string): number {
  const alg = parseAlg(algName);
  if (!alg) return JWT_UNKNOWN_ALG;
  const parts = jwtParts(token, 3);
  if (!parts || (parts.length !== 3 && (alg.kind !== "none" || parts.length !== 2))) return JWT_INVALID_TOKEN;
  const sig = parts[2] ?? "";
  if (alg.kind === "none") return sig === "" ? JWT_OK : JWT_KO;
  if (sig === "") return JWT_INVALID_TOKEN;
  const decoded = base64UrlDecode(sig);
  if (decoded === undefined) return JWT_INVALID_TOKEN;
  const signature = Buffer.from(decoded, "latin1");
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`, "latin1");
  if (alg.kind === "HS") {
    const mac = createHmac(alg.hash, Buffer.from(key, "latin1")).update(signed).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature) ? JWT_OK : JWT_KO;
  }
  if (alg.kind === "PS") return JWT_UNMANAGED_ALG;
  const pub = jwtKeys.get(key);
  if (!pub) return JWT_UNKNOWN_CERT;
  try {
    // JWS's ECDSA signatures are R and S side by side: haproxy gives OpenSSL their DER form.
    const sig = alg.kind === "ES" ? ecdsaDer(signature) : signature;
    return sig && verify(alg.hash, signed, pub, sig) ? JWT_OK : JWT_KO;
  } catch {
    return JWT_KO;
  }
}

/** jwt_verify's check: the algorithm and key may be variables; a literal key file is loaded now. */
export function jwtVerifyCheck(args: Arg[]): string | undefined {
  const [alg, key] = [String(args[0]), String(args[1])];
  if (typeof parseVarName(alg) === "string") {
    const a = parseAlg(alg);
    if (!a) return `unknown JWT algorithm: ${alg}`;
    if (a.kind === "PS") return "RSASSA-PSS JWS signing not managed yet";
  }
  if (typeof parseVarName(key) === "string") loadJwtKey(key);
  return undefined;
}

/** A JWT part's decoded JSON queried; with no path haproxy 2.6 gives no sample at all. */
export const jwtQuery = (part: number): Converter => ({
  args: ["str", "str"],
  min: 0,
  in: "bin",
  out: T.Str,
  anyType: true,
  check: (args) => outputTypeCheck(args[1]),
  make: (args) => {
    const path = args[0] === undefined ? undefined : String(args[0]);
    const asInt = args[1] === "int";
    return (smp) => {
      if (path === undefined) return false;
      const parts = smp.getStr().split(".");
      const decoded = part < parts.length ? base64UrlDecode(parts[part]!) : undefined;
      return decoded !== undefined && jsonQuery(smp, decoded, path, asInt);
    };
  },
});
