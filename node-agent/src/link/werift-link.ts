import { networkInterfaces } from "node:os";
import { RTCPeerConnection } from "werift";
import { normalizeAddress } from "./candidates.js";
import { toW3cIceServers } from "./ice-servers.js";
import type { LinkOptions, PeerLinkFactory } from "./peer-link.js";
import { createW3cLinkFactory, type W3cBackend, type W3cPeerConnection } from "./w3c-link.js";

/**
 * werift (pure TypeScript). Quirks handled here:
 * - Host gathering skips interfaces named `veth*`, `tun*`, `tap*`, `vmnet*`, `ipsec*` (as Chromium
 *   does), which in the namespace lab would leave no host candidate at all. We list the host
 *   addresses ourselves (minus forbidden ones) as `iceAdditionalHostAddresses`.
 * - It can filter candidate pairs, which also catches peer-reflexive addresses
 *   the signal filter never sees, so the forbidden-address rule is applied there too.
 * - `send()` takes a Buffer and may keep it queued: we always send a copy.
 * - It could resolve mDNS `.local` candidates itself, but each lookup opens a multicast socket, asks
 *   for IPv4 only, and an unanswered one holds a 10 s timer that keeps the process alive after the
 *   link closed. We drop them as on the other backends: a browser behind an mDNS name still connects,
 *   through the peer-reflexive candidate its own connectivity checks create.
 * - Closing the connection in the same tick as the channels loses the SCTP stream reset.
 * - Its SCTP send path slows down badly as its queue grows: 1400-byte messages on loopback moved
 *   ~60-70 Mbit/s with 16-32 KiB queued, 17-20 Mbit/s with 256 KiB, and ~1 Mbit/s with 1 MiB (and
 *   half the data messages were lost). Hence its own, small high-water marks.
 */
const WERIFT: W3cBackend = {
  name: "werift",
  resolvesMdns: false,
  highWaterMarks: { control: 64 * 1024, data: 32 * 1024 },
  closeDelayMs: 50,
  createPeerConnection(options: LinkOptions): W3cPeerConnection {
    const allowed = (host: string): boolean => {
      try {
        return !options.isForbiddenAddress(normalizeAddress(host));
      } catch {
        return false;
      }
    };
    const pc = new RTCPeerConnection({
      iceServers: toW3cIceServers(options.iceServers),
      iceAdditionalHostAddresses: hostAddresses().filter(allowed),
      iceFilterCandidatePair: (pair) => allowed(pair.localCandidate.host) && allowed(pair.remoteCandidate.host),
    });
    // werift's handler and event types differ in detail from the W3C ones declared in w3c-link.ts
    // (its own Event classes, Buffer messages); the members used there behave as W3C says.
    return pc as unknown as W3cPeerConnection;
  },
  send(channel, message) {
    (channel as unknown as { send(data: Buffer): void }).send(Buffer.from(message));
  },
};

/** Unicast interface addresses worth a host candidate: not loopback, not link-local. */
function hostAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal) continue;
      if (info.family === "IPv6" && info.address.toLowerCase().startsWith("fe80:")) continue;
      if (info.family === "IPv4" && info.address.startsWith("169.254.")) continue;
      out.push(info.address);
    }
  }
  return out;
}

/** Creates links on werift. Nothing to shut down: each link closes its sockets. */
export function createWeriftLinkFactory(): PeerLinkFactory {
  return createW3cLinkFactory(WERIFT);
}
