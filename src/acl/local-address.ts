// Whether an address belongs to this machine, as haproxy's addr_is_local decides it (a UDP socket
// bound to it, port 0, then connected to it): an address of one of the interfaces, or any of the
// loopback's 127.0.0.0/8, all of which Linux lets a socket bind.
import { networkInterfaces } from "node:os";
import { parseIpv4 } from "./ip.js";

const v4 = new Uint8Array(4);

/**
 * The test of a fetch, made with the configuration: the interfaces' addresses are read then, not
 * at each request as haproxy asks the kernel (one added to the machine later is not seen).
 */
export function localAddressTest(): (address: string) => boolean {
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) own.add(a.address);
  return (address) => {
    const plain = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
    return (parseIpv4(plain, v4) && v4[0] === 127) || own.has(plain);
  };
}
