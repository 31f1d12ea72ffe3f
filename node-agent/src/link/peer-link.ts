import type { Channel as LinkChannel, LinkRole } from "@ipop/shared";
import type { IceServer } from "./ice-servers.js";

/**
 * One WebRTC connection to one peer, as the agent sees it, whatever library implements it.
 *
 * A link carries two data channels, pre-negotiated (`negotiated: true`) with fixed SCTP stream ids
 * so that both open with the SCTP association, without an in-band open handshake; each side creates
 * both (the offerer before its offer, the answerer after applying it). See `channels.ts`; a browser
 * peer must use the same labels, ids and options.
 * - `control` (id 0): reliable and ordered, for the core's control frames (keepalives, link setup).
 * - `data` (id 1): unordered with `maxRetransmits: 0`, for IP packets; a lost packet is left to the
 *   transport above (TCP) exactly as on a real LAN. SCTP reliability is each sender's choice per
 *   message and receivers take either: node-datachannel agents and the browser console send their
 *   data reliably (still unordered), see ndc-link.ts.
 *
 * Contract:
 * - `send()` copies or hands off the bytes before it returns; the caller may reuse the buffer at once.
 * - `send()` never throws and never blocks. It returns false, and the message is dropped, when the
 *   link is not open or the channel's buffered amount is above its high-water mark (backpressure:
 *   the caller counts the drop; IP tolerates loss, unbounded queues add latency).
 * - Bytes passed to `onMessage` are borrowed until the callback returns.
 * - Events arrive on the Node event loop, never synchronously from inside a method call.
 * - `onOpen` fires at most once, before any `onMessage`.
 * - `handleSignal()` never throws: a malformed candidate is dropped, a description that cannot be
 *   applied closes the link (`onClose` with a `bad-signal` reason).
 * - After `close()` (or after `onClose` fired) no further event is delivered and `send()` returns false.
 *   `onClose` fires exactly once, also when the caller closed the link; its reason starts with a
 *   stable code (`LinkCloseCode` in `close-reason.ts`), e.g. `local-close`, `channel-closed: ...`.
 * - A closed link holds no native resources: once every link is closed the process can exit.
 */
export interface PeerLink {
  /** Which library implements this link. */
  readonly backend: WebRtcBackendName;
  /** Offerer creates the offer and the channels; answerer waits for the offer. */
  readonly role: LinkRole;
  /** Applies a description or candidate the remote side produced (see `onSignal`). */
  handleSignal(signal: LinkSignal): void;
  /** Sends one message on a channel; false when dropped (not open, or over the high-water mark). */
  send(channel: LinkChannel, message: Uint8Array): boolean;
  /**
   * Sends one data frame as a datagram of its own outside the data channel (ndc: the IP track, see
   * ndc-ip-track.ts), when this link has such a path now and the frame fits it. "no-path": the
   * caller sends the frame on the data channel instead. Absent on backends without one. Same
   * contract as `send`: copies before returning, never throws.
   */
  sendDatagram?(frame: Uint8Array): DatagramSend;
  /**
   * Whether `sendDatagram` takes frames now (a link with the path open and not fallen back), so the
   * caller can batch for the datagram or for the channel. A frame sent while this said true may still
   * come back "no-path" (the path fell back in between).
   */
  datagramsReady?(): boolean;
  /** Transport facts for status output; fields the backend cannot tell are undefined. */
  stats(): Promise<LinkTransportStats>;
  /** Closes both channels and the connection. Idempotent. */
  close(): void;
}

export type WebRtcBackendName = "ndc" | "werift" | "wrtc" | "browser" | "fake";
/** What became of a frame given to `PeerLink.sendDatagram`. */
export type DatagramSend = "sent" | "dropped" | "no-path";
/** The core's names for a link's two ends and two channels: the link layer carries out its actions. */
export type { LinkChannel, LinkRole };

/**
 * Longest session description accepted from a peer, in characters (SDP is ASCII), on both paths: when
 * the agent reads a signal (`parseLinkSignal`) and when a link applies it. A data-channel-only
 * description is 1-3 KiB even with many candidates, so this only bounds garbage. It must also leave
 * room for what carries it: JSON-escaped in a sealed link envelope whose signed bytes are base64 (a
 * third larger), beside the sender's certificate (up to 3.9 KiB), in a signaling message of at most
 * 64 KiB. A 32 KiB description makes an envelope of about 50 KiB; 64 KiB could never arrive.
 */
export const MAX_SDP_CHARS = 32 * 1024;

/**
 * What one side must carry to the other, in a backend-neutral form: a session description, or one
 * ICE candidate as the bare `candidate:...` attribute value (no `a=` prefix; all backends accept this
 * with `sdpMid` "0"/`sdpMLineIndex` 0 as the single m-line of a data-channel-only session).
 */
export type LinkSignal =
  | {
      readonly kind: "description";
      readonly type: "offer" | "answer";
      readonly sdp: string;
      /**
       * In an answer: the answerer reads IP packets on the offer's IP track (ndc only; see
       * ndc-link.ts). Older agents drop the field when they parse a signal, and never set it.
       */
      readonly ipTrack?: true;
    }
  | { readonly kind: "candidate"; readonly candidate: string; readonly sdpMid: string | null };

export interface LinkEvents {
  /** A description or candidate to carry to the remote side (through signaling or the overlay). */
  onSignal(signal: LinkSignal): void;
  /** Both channels are open: the link can carry traffic. */
  onOpen(): void;
  /** A message arrived on a channel; borrowed until return. */
  onMessage(channel: LinkChannel, message: Uint8Array): void;
  /** The link is gone (ICE failed or closed, a channel closed, or `close()` was called). */
  onClose(reason: string): void;
}

export interface LinkOptions {
  readonly role: LinkRole;
  /**
   * STUN/TURN servers, e.g. `{ urls: "stun:127.0.0.1:3478" }`; empty for host candidates only. TURN
   * credentials go in `username`/`credential`, never inside the URL.
   */
  readonly iceServers: readonly IceServer[];
  /**
   * Returns true for addresses that must never be used as an ICE candidate, local or remote: the
   * overlay's own addresses (a path through the overlay inside the overlay loops). Candidates whose
   * address it rejects are neither sent nor accepted. It gets bare literals (no brackets or zone,
   * IPv6 lower-case, IPv4-mapped IPv6 as IPv4); if it throws, the address counts as forbidden.
   * mDNS (`*.local`) candidates, whose address it cannot check, are dropped both ways. Only
   * signalled candidates are filtered: werift also filters candidate pairs (catching peer-reflexive
   * ones), the other stacks cannot.
   */
  readonly isForbiddenAddress: (ip: string) => boolean;
}

/** How a pair of candidates reaches the peer, as shown by `ipop status`. */
export type CandidateType = "host" | "srflx" | "prflx" | "relay";

export interface LinkTransportStats {
  readonly localCandidateType?: CandidateType;
  readonly remoteCandidateType?: CandidateType;
  /** Types of the candidates this side offered, and of those the peer offered (after the filter). */
  readonly localCandidateTypes?: readonly CandidateType[];
  readonly remoteCandidateTypes?: readonly CandidateType[];
  readonly localAddress?: string;
  readonly remoteAddress?: string;
  /** Round trip measured by the ICE/SCTP stack, when it tells. The core measures its own as well. */
  readonly rttMs?: number;
  /** The IP track's counters, on links that negotiated one. */
  readonly ipTrack?: IpTrackStats;
}

/** What a link's IP track carried (ndc-ip-track.ts), for `ipop status`. */
export interface IpTrackStats {
  /** Data frames go on the track now (false: before it opened, or fallen back to the channel). */
  readonly carrying: boolean;
  /** Data frames sent and received on the track. */
  readonly sent: number;
  readonly received: number;
  /** Times the sender left the track because the receiver's reports stopped; probes sent since. */
  readonly fallbacks: number;
  readonly probes: number;
  /** RTP sequence numbers never received, and packets that came out of order. */
  readonly gaps: number;
  readonly late: number;
  /** Packets dropped on this side, by reason (`track-stale`, `track-rtcp`, `track-send-failed`...). */
  readonly drops: Record<string, number>;
}

/** Creates links for one backend. */
export interface PeerLinkFactory {
  readonly backend: WebRtcBackendName;
  create(options: LinkOptions, events: LinkEvents): PeerLink;
}
