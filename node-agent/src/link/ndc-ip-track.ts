import { randomInt } from "node:crypto";
import { Counters } from "@ipop/shared";
import nodeDataChannel, { type Track } from "node-datachannel";
import { ReceiveTracker, SendTracker } from "./ip-track-flow.js";
import {
  encodeTrackReport,
  IP_TRACK_CODEC,
  IP_TRACK_MID,
  IP_TRACK_PAYLOAD_TYPE,
  MAX_TRACK_FRAME_BYTES,
  parseRtpPacket,
  RTP_HEADER_BYTES,
  writeRtpHeader,
} from "./ip-track-rtp.js";
import type { DatagramSend, IpTrackStats } from "./peer-link.js";

/** The payload type of the VP8 entry that other stacks accept in place of ours. */
const DECOY_PAYLOAD_TYPE = 97;

/** The part of node-datachannel's `Track` the IP track uses (a fake of it drives the unit tests). */
export type TrackPort = Pick<Track, "onOpen" | "onClosed" | "onMessage" | "sendMessageBinary" | "close">;

/** What the track needs from its link. */
export interface IpTrackHooks {
  /** A frame that arrived on the track; borrowed until return. */
  deliver(frame: Uint8Array): void;
  /** Sends a link-private report on the control channel; false if it could not. */
  sendReport(report: Uint8Array): boolean;
}

/**
 * The video section the offerer adds for the track: our made-up codec, which only a new ndc agent
 * reads, and VP8 beside it. The offerer cannot tell what answers (an ndc, werift or wrtc agent, a
 * browser); werift and libwebrtc refuse a whole offer whose video section has no codec they know
 * ("negotiate codecs failed"), so VP8 lets them accept the section; they answer without our codec,
 * never say `ipTrack`, and nothing is ever sent to them on it.
 */
export function ipTrackDescription(ssrc: number): nodeDataChannel.Video {
  const video = new nodeDataChannel.Video(IP_TRACK_MID, "SendRecv");
  video.addVideoCodec(IP_TRACK_PAYLOAD_TYPE, IP_TRACK_CODEC);
  video.addVP8Codec(DECOY_PAYLOAD_TYPE);
  video.addSSRC(ssrc, "ipop");
  return video;
}

/** A random SSRC for one link's sending side (RFC 3550 wants them random; nothing here relies on it). */
export function randomSsrc(): number {
  return randomInt(1, 0xffffffff);
}

/**
 * One link's IP track on node-datachannel: data frames out as RTP packets, one frame each, and RTP
 * packets in as frames, with the guards of ip-track-flow.ts. Carries frames only once `enable()` was
 * called (the peer's answer said it reads the track) and the track is open.
 *
 * Per packet on send: one copy into a reused buffer behind the RTP header, one call into the
 * binding, which copies again, runs `srtp_protect` and `sendto` on this thread (libdatachannel
 * 0.24.5: no queue, no thread hop; false means `sendto` failed). On receive: a thread-safe-function
 * call per packet and a Buffer copy, from libdatachannel's worker that ran `srtp_unprotect`.
 */
export class NdcIpTrack {
  readonly #track: TrackPort;
  readonly #ssrc: number;
  readonly #hooks: IpTrackHooks;
  readonly #out = Buffer.alloc(RTP_HEADER_BYTES + MAX_TRACK_FRAME_BYTES);
  readonly #sender = new SendTracker();
  readonly #receiver = new ReceiveTracker();
  readonly #drops = new Counters();
  #enabled = false;
  #open = false;
  #sent = 0;
  #received = 0;

  constructor(track: TrackPort, ssrc: number, hooks: IpTrackHooks) {
    this.#track = track;
    this.#ssrc = ssrc;
    this.#hooks = hooks;
    track.onOpen(() => {
      this.#open = true;
    });
    track.onClosed(() => {
      this.#open = false;
    });
    track.onMessage((message) => this.#receive(message));
  }

  /** The peer reads the track: frames may go on it once it is open. */
  enable(): void {
    this.#enabled = true;
  }

  /** Whether `send` takes frames now (see `PeerLink.datagramsReady`). */
  ready(): boolean {
    return this.#enabled && this.#open && this.#sender.wantsFrames(performance.now());
  }

  /** Sends one data frame on the track; "no-path" when the caller must use the data channel. */
  send(frame: Uint8Array): DatagramSend {
    if (!this.#enabled || !this.#open || frame.length > MAX_TRACK_FRAME_BYTES) return "no-path";
    const now = performance.now();
    const decision = this.#sender.decide(now);
    if (decision === "channel") return "no-path";
    const length = decision === "probe" ? 0 : frame.length;
    if (length > 0) this.#out.set(frame, RTP_HEADER_BYTES);
    if (!this.#sendPacket(length, now)) {
      this.#drops.add("track-send-failed");
      return decision === "probe" ? "no-path" : "dropped";
    }
    if (decision === "probe") return "no-path";
    this.#sent++;
    return "sent";
  }

  /** A report the peer sent on the control channel. */
  handleReport(highest: number): void {
    this.#sender.handleReport(highest);
  }

  /** Counters for `ipop status`. */
  stats(): IpTrackStats {
    return {
      carrying: this.#enabled && this.#open && this.#sender.onTrack,
      sent: this.#sent,
      received: this.#received,
      fallbacks: this.#sender.fallbacks,
      probes: this.#sender.probes,
      gaps: this.#receiver.gaps,
      late: this.#receiver.late,
      drops: this.#drops.toJSON(),
    };
  }

  /** Stops sending and closes the native track (its callbacks would otherwise keep Node alive). */
  close(): void {
    this.#enabled = false;
    this.#open = false;
    try {
      this.#track.close();
    } catch {
      // Already closed with its connection.
    }
  }

  #sendPacket(frameLength: number, now: number): boolean {
    writeRtpHeader(this.#out, this.#sender.takeSeq(), now, this.#ssrc);
    let ok = false;
    try {
      ok = this.#track.sendMessageBinary(this.#out.subarray(0, RTP_HEADER_BYTES + frameLength));
    } catch {
      // The track closed under us (the connection is going): the same as a refused packet.
    }
    if (!ok) this.#sender.untakeSeq();
    return ok;
  }

  #receive(message: string | Buffer | ArrayBuffer): void {
    // An old peer never sends here; only a peer that negotiated the track, or garbage, does.
    if (typeof message === "string" || message instanceof ArrayBuffer) {
      this.#drops.add("track-not-rtp");
      return;
    }
    const packet = parseRtpPacket(message);
    if (typeof packet === "string") {
      this.#drops.add(packet);
      return;
    }
    const verdict = this.#receiver.receive(packet.seq, packet.timestamp, performance.now());
    if (verdict.report !== undefined && this.#enabled) this.#hooks.sendReport(encodeTrackReport(verdict.report));
    if (packet.frame.length === 0) return; // a probe: it only asks for a report
    if (!verdict.fresh) {
      this.#drops.add("track-stale");
      return;
    }
    this.#received++;
    this.#hooks.deliver(packet.frame);
  }
}
