import { errorMessage } from "@ipop/shared";
import nodeDataChannel, { type DataChannel, type PeerConnection, type Track } from "node-datachannel";
import { LinkError } from "../errors.js";
import { asCandidateType } from "./candidates.js";
import { CHANNEL_SPECS, LINK_CHANNELS } from "./channels.js";
import type { DtlsFingerprint } from "./dtls-fingerprint.js";
import { toNdcIceServers } from "./ice-servers.js";
import { decodeTrackReport, IP_TRACK_MID, offersIpTrack, TRACK_REPORT_MARKER } from "./ip-track-rtp.js";
import { BaseLink } from "./link-base.js";
import { ipTrackDescription, NdcIpTrack, randomSsrc } from "./ndc-ip-track.js";
import { ndcLogLevel } from "./ndc-log.js";
import type {
  DatagramSend,
  LinkChannel,
  LinkEvents,
  LinkOptions,
  LinkTransportStats,
  PeerLinkFactory,
} from "./peer-link.js";

/** How an ndc link is built beyond the common options. */
export interface NdcLinkSettings {
  /** Off only to measure what the hold buys (link-setup-bench.ts). */
  readonly holdsCandidatesUntilAnswer: boolean;
  /** Offer (as offerer) and accept (as answerer) the IP track; off: an agent without it. */
  readonly ipTrack: boolean;
}

/**
 * The IP MTU of the path between peers that libdatachannel sizes its SCTP packets for (it subtracts
 * the largest IPv6, UDP, DTLS and SCTP headers: 1500 gives datagrams of at most 1489 bytes over
 * IPv6, 1469 over IPv4). Its default, 1280, cuts every message into ~1170-byte chunks; 1500 makes
 * each chunk ~18% larger, and per-chunk work (SCTP, DTLS records, one UDP datagram each) is most of
 * a link's CPU: one TCP stream through the lab went 15-25% faster. IPOP's default TUN MTU (1400)
 * already assumes a 1500-byte underlay; a narrower path (a tunnel) fragments or drops datagrams.
 */
const UNDERLAY_MTU = 1500;

/**
 * A link on node-datachannel (libdatachannel), through its native API rather than its W3C polyfill:
 * the polyfill is a thin JS layer over the same calls, and the native API also gives the selected
 * candidate pair and the SCTP round trip directly.
 *
 * Quirks handled here:
 * - Auto-negotiation is on: creating the first channel makes the offer, applying a remote offer makes
 *   the answer. The answerer must create its (pre-negotiated) channels only after the offer: before
 *   it, creating a channel would make the answerer produce an offer of its own.
 * - Candidates come as `a=candidate:...` (the base strips the prefix).
 * - `sendMessageBinary` returns false when the message was queued rather than sent at once, not when
 *   it was dropped, so its result is ignored; it copies the bytes before returning.
 * - libjuice gathers on every interface (a TUN included): the base filter is the only guard.
 * - A connection the remote closed is not released until we call `close()` on it and its channels;
 *   until then the process cannot exit. `release()` always does.
 * - No mDNS resolution (no `.local` handling in libjuice; Debian has no nss-mdns by default).
 * - The offerer holds its candidates until it has applied the answer (`holdsCandidatesUntilAnswer`).
 *   The answerer is the DTLS client and, ICE-controlled, usually completes ICE first and sends its
 *   ClientHello at once; an offerer whose own ICE had not completed dropped it and the handshake
 *   waited for the 1 s DTLS retransmission (in 4-8 setups of 10). Without our candidates the answerer
 *   completes only through the offerer's own checks, which start with the answer, so the offerer is
 *   ready first. It also closes a gap in libdatachannel, which hands an answer to ICE before storing
 *   it for the certificate check: a handshake finished in that gap failed. Now 1 s waits are 0-4%
 *   and those failures gone (docs/bench.md, "Link setup").
 * - Data batches are sent reliably (still unordered), where the other backends send them with
 *   `maxRetransmits: 0`. Reliability is the sender's choice per message: the receiver takes a
 *   retransmitted chunk like any other, so older agents, wrtc and werift agents and the browser
 *   console (which sends reliable-unordered itself) receive from this one unchanged. The channel
 *   carries 16 KiB batches of ~11 packets: without retransmission one lost underlay datagram loses
 *   the whole batch, and 1% underlay loss became ~11% packet loss for the TCP flows inside. Sent
 *   reliably, SCTP repairs the loss within an underlay round trip, nothing waits behind a lost chunk
 *   (unordered), and the `bufferedAmount` high-water mark still drops packets when the link cannot
 *   keep up. Measured in docs/bench.md ("Where IPOP's time goes").
 * - The IP track: between two ndc agents that both have it, data frames go as SRTP packets on a
 *   video track of the same connection, one frame per packet, skipping SCTP (about half the CPU per
 *   Gbit; docs/bench.md, "An SRTP track instead of the data channel"). The offerer adds the track's
 *   video section to every offer; an answerer that reads it says so with `ipTrack` in its signed
 *   answer, and only then does the offerer send on it. An older ndc answerer accepts the section
 *   silently (libdatachannel answers every m-line) but never says so, so the offerer keeps the data
 *   channel; an older offerer sends no section. Control frames, and data frames too big for one
 *   packet, stay on the channels. Candidates are signalled for mid "0" (the data channel's section),
 *   which every stack has: the track's section comes first in the bundle, and a stack that rejects
 *   it must still take the candidates.
 */
export class NdcLink extends BaseLink {
  readonly backend = "ndc";
  #pc: PeerConnection | undefined;
  readonly #channels = new Map<LinkChannel, DataChannel>();
  readonly #ipTrackCapable: boolean;
  #ipTrack: NdcIpTrack | undefined;
  /** Answerer: the offer carried the IP track and this side reads it. */
  #answersIpTrack = false;

  constructor(options: LinkOptions, events: LinkEvents, settings: NdcLinkSettings) {
    super(options, events, { resolvesMdns: false, holdsCandidatesUntilAnswer: settings.holdsCandidatesUntilAnswer });
    this.#ipTrackCapable = settings.ipTrack;
    try {
      const pc = new nodeDataChannel.PeerConnection(`ipop-${options.role}`, {
        iceServers: toNdcIceServers(options.iceServers),
        mtu: UNDERLAY_MTU,
      });
      this.#pc = pc;
      pc.onLocalDescription((sdp, type) => {
        if (type === "offer" || type === "answer") this.emitLocalDescription(type, sdp, this.#answersIpTrack);
      });
      // See the class comment: "0" is the data channel's section, which every peer has.
      pc.onLocalCandidate((candidate) => this.emitLocalCandidate(candidate, "0"));
      if (this.#ipTrackCapable && options.role === "answerer") pc.onTrack((track) => this.#remoteTrack(track));
      pc.onStateChange((state) => this.connectionStateChanged(state));
    } catch (error) {
      this.fail("setup-failed", `node-datachannel: ${errorMessage(error)}`);
      return;
    }
    this.begin();
  }

  protected startOffer(): void {
    // Before the channels: creating the first channel makes the offer, which must carry the track.
    if (this.#ipTrackCapable) {
      const ssrc = randomSsrc();
      this.#ipTrack = this.#newIpTrack(this.#requirePc().addTrack(ipTrackDescription(ssrc)), ssrc);
    }
    this.#createChannels();
  }

  protected applyRemoteDescription(type: "offer" | "answer", sdp: string, ipTrack: boolean): void {
    if (type === "offer") this.#answersIpTrack = this.#ipTrackCapable && offersIpTrack(sdp);
    this.#requirePc().setRemoteDescription(sdp, type);
    if (type === "answer" && ipTrack) this.#ipTrack?.enable();
  }

  /** Whether the IP track takes data frames now. */
  datagramsReady(): boolean {
    return !this.closed && this.#ipTrack?.ready() === true;
  }

  /** Sends a data frame on the IP track when the link has one and it carries frames now. */
  sendDatagram(frame: Uint8Array): DatagramSend {
    if (this.closed) return "no-path";
    return this.#ipTrack?.send(frame) ?? "no-path";
  }

  protected startAnswer(): void {
    this.#createChannels();
  }

  protected applyRemoteCandidate(candidate: string, sdpMid: string): void {
    this.#requirePc().addRemoteCandidate(candidate, sdpMid);
  }

  protected override remoteDtlsFingerprint(): DtlsFingerprint | null {
    const fingerprint = this.#pc?.remoteFingerprint();
    return fingerprint === undefined ? null : { algorithm: fingerprint.algorithm, value: fingerprint.value };
  }

  protected bufferedAmount(channel: LinkChannel): number {
    return this.#channels.get(channel)?.bufferedAmount() ?? 0;
  }

  protected sendOn(channel: LinkChannel, message: Uint8Array): boolean {
    const dc = this.#channels.get(channel);
    if (dc === undefined) return false;
    dc.sendMessageBinary(message);
    return true;
  }

  protected async transportStats(): Promise<LinkTransportStats> {
    const pc = this.#pc;
    if (pc === undefined) return {};
    const pair = pc.getSelectedCandidatePair();
    const rtt = pc.rtt();
    return {
      localCandidateType: asCandidateType(pair?.local.type),
      remoteCandidateType: asCandidateType(pair?.remote.type),
      localAddress: pair?.local.address,
      remoteAddress: pair?.remote.address,
      // libdatachannel reports -1 (or nothing) before SCTP has measured one.
      rttMs: typeof rtt === "number" && rtt >= 0 ? rtt : undefined,
      ...(this.#ipTrack === undefined ? {} : { ipTrack: this.#ipTrack.stats() }),
    };
  }

  protected release(): void {
    this.#ipTrack?.close();
    this.#ipTrack = undefined;
    for (const dc of this.#channels.values()) {
      try {
        dc.close();
      } catch {
        // Already closed by the remote; nothing left to release.
      }
    }
    this.#channels.clear();
    try {
      this.#pc?.close();
    } catch {
      // Same: close() on a connection the stack already tore down.
    }
    this.#pc = undefined;
  }

  #createChannels(): void {
    const pc = this.#requirePc();
    for (const name of LINK_CHANNELS) {
      const spec = CHANNEL_SPECS[name];
      const dc = pc.createDataChannel(spec.label, {
        negotiated: true,
        id: spec.id,
        unordered: !spec.ordered,
        // No maxRetransmits: both channels are sent reliably from here (see the class comment).
      });
      this.#channels.set(name, dc);
      dc.onOpen(() => this.channelOpened(name));
      dc.onClosed(() => this.channelClosed(name));
      dc.onMessage((message) => {
        // Binary only: a string is not ours (and not an IP packet).
        if (typeof message === "string") return;
        const bytes = message instanceof ArrayBuffer ? new Uint8Array(message) : message;
        if (name === "control" && this.#ipTrack !== undefined && bytes[0] === TRACK_REPORT_MARKER) {
          // The peer's report on our track: link-private, never a core frame (those start with 1).
          const highest = decodeTrackReport(bytes);
          if (highest !== undefined) this.#ipTrack.handleReport(highest);
          return;
        }
        this.deliver(name, bytes);
      });
    }
  }

  /** Answerer: the offer's media section arrived as a track; ours if it is the IP track. */
  #remoteTrack(track: Track): void {
    if (this.closed || this.#ipTrack !== undefined || !this.#answersIpTrack || track.mid() !== IP_TRACK_MID) return;
    this.#ipTrack = this.#newIpTrack(track, randomSsrc());
    this.#ipTrack.enable();
  }

  #newIpTrack(track: Track, ssrc: number): NdcIpTrack {
    return new NdcIpTrack(track, ssrc, {
      deliver: (frame) => this.deliver("data", frame),
      sendReport: (report) => this.send("control", report),
    });
  }

  #requirePc(): PeerConnection {
    if (this.#pc === undefined) throw new LinkError("IPOP_LINK_RELEASED", "connection already released");
    return this.#pc;
  }
}

/**
 * Creates links on node-datachannel. Nothing to shut down: each link releases its native objects.
 * Turns libdatachannel's log on when `IPOP_NDC_LOG` asks for it (see `ndc-log.ts`).
 * @throws LinkError `IPOP_LINK_BAD_LOG_LEVEL` when `IPOP_NDC_LOG` names no level.
 */
export function createNdcLinkFactory(
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** Off only to measure what the hold buys (link-setup-bench.ts). */
  holdsCandidatesUntilAnswer = true,
): PeerLinkFactory {
  const settings: NdcLinkSettings = { holdsCandidatesUntilAnswer, ipTrack: ndcIpTrackEnabled(env) };
  const level = ndcLogLevel(env);
  if (level !== undefined) {
    nodeDataChannel.initLogger(level, (lineLevel, message) => process.stderr.write(`ndc ${lineLevel}: ${message}\n`));
  }
  return {
    backend: "ndc",
    create: (options, events) => new NdcLink(options, events, settings),
  };
}

/**
 * Whether links carry IP packets on the IP track where the peer can (default), or only on the data
 * channel: `IPOP_NDC_TRACK=0` is the operator's way back to the channel (and how the bench measures
 * the channel on the same build). An agent with it off behaves exactly like one without the track.
 */
export function ndcIpTrackEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.IPOP_NDC_TRACK?.trim().toLowerCase();
  return !(value === "0" || value === "off" || value === "false" || value === "no");
}
