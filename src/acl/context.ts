import type { HttpHead } from "../http/message.js";

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
  /** Usable servers of a backend by name (nbsrv); -1 for an unknown backend. */
  nbsrv(backend: string): number;
}
