// Whether an address belongs to this machine, as haproxy's addr_is_local decides it (a UDP socket
// bound to it, port 0, then connected to it): an address of one of the interfaces, or any of the
// loopback's 127.0.0.0/8, all of which Linux lets a socket bind.
import { networkInterfaces } from "node:os";
import { parseIpv4 } from "./ip.js";

const v4 = new Uint8Array(4);

export function isLocalAddress(address: string): boolean {
  const plain = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
  if (parseIpv4(plain, v4) && v4[0] === 127) return true;
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.address === plain) return true;
  return false;
}
