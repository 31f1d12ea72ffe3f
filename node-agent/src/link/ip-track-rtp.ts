/**
 * The wire format of the IP track: the RTP packets that carry one data frame each between two ndc
 * agents (see ndc-ip-track.ts), and the link-private report a receiver sends back on the control
 * channel. Pure: no WebRTC, no clock; the callers pass time in.
 */

/** The media section's mid and the made-up codec's name: what marks an offer as one that carries IP. */
export const IP_TRACK_MID = "ipop-ip";
export const IP_TRACK_CODEC = "ipop-ip";
/**
 * A dynamic payload type (96-127): above 95 after masking the marker bit, so libdatachannel's RTP/RTCP
 * demultiplexer (RFC 5761) reads it as RTP.
 */
export const IP_TRACK_PAYLOAD_TYPE = 96;
/** RFC 3550 fixed header: V=2, no padding, no extension, no CSRC. */
export const RTP_HEADER_BYTES = 12;
/**
 * The largest frame the track carries: a 1500-byte underlay less IPv6 (40), UDP (8), the SRTP tag
 * (16 for AES-GCM, the profile libdatachannel offers first; 10 for AES-CM-HMAC-SHA1-80) and the RTP
 * header (12). A data frame of a 1400-byte packet is 1402 bytes, a routed one 1416. Anything larger
 * (a bigger TUN MTU) goes on the data channel.
 */
export const MAX_TRACK_FRAME_BYTES = 1500 - 40 - 8 - 16 - RTP_HEADER_BYTES;
/** RTP timestamp units per millisecond: the sender's monotonic clock in 0.1 ms (wraps every 119 h). */
export const RTP_TICKS_PER_MS = 10;

/**
 * Writes the RTP header into `packet[0..12)`. `seq` is the sender's 32-bit packet counter; only its
 * low 16 bits go on the wire, and libsrtp derives the rollover counter from them, so it must grow by
 * one per packet sent. The timestamp is the sender's clock, which lets the receiver see how long a
 * packet waited in the queues between the stack and its JavaScript (see `ReceiveTracker`).
 */
export function writeRtpHeader(packet: Uint8Array, seq: number, nowMs: number, ssrc: number): void {
  const ts = Math.floor(nowMs * RTP_TICKS_PER_MS) >>> 0;
  packet[0] = 0x80;
  packet[1] = IP_TRACK_PAYLOAD_TYPE;
  packet[2] = (seq >>> 8) & 0xff;
  packet[3] = seq & 0xff;
  packet[4] = ts >>> 24;
  packet[5] = (ts >>> 16) & 0xff;
  packet[6] = (ts >>> 8) & 0xff;
  packet[7] = ts & 0xff;
  packet[8] = ssrc >>> 24;
  packet[9] = (ssrc >>> 16) & 0xff;
  packet[10] = (ssrc >>> 8) & 0xff;
  packet[11] = ssrc & 0xff;
}

/** Why a packet the track delivered is not ours to pass on. */
export type RtpDropReason = "track-not-rtp" | "track-rtcp" | "track-bad-payload-type" | "track-bad-rtp-length";

/** What the receiver reads of one of our RTP packets; the frame is a view of the packet. */
export interface RtpPacket {
  readonly seq: number;
  readonly timestamp: number;
  /** The carried frame; empty for a probe (see `SendTracker`). */
  readonly frame: Uint8Array;
}

/**
 * Reads an unprotected RTP packet as the track hands it over. Never throws: anything that is not an
 * RTP packet of our payload type (RTCP, garbage, a header that claims more than the packet holds)
 * gets a drop reason. CSRCs, a header extension and padding are honoured, though our sender uses none.
 */
export function parseRtpPacket(packet: Uint8Array): RtpPacket | RtpDropReason {
  if (packet.length < RTP_HEADER_BYTES || packet[0]! >> 6 !== 2) return "track-not-rtp";
  const second = packet[1]!;
  // RTCP packet types 192-223 put 64-95 in the low 7 bits (RFC 5761, 4).
  const type = second & 0x7f;
  if (type >= 64 && type <= 95) return "track-rtcp";
  if (type !== IP_TRACK_PAYLOAD_TYPE) return "track-bad-payload-type";
  let start = RTP_HEADER_BYTES + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) !== 0) {
    if (packet.length < start + 4) return "track-bad-rtp-length";
    start += 4 + 4 * ((packet[start + 2]! << 8) | packet[start + 3]!);
  }
  let end = packet.length;
  if ((packet[0]! & 0x20) !== 0) {
    const padding = packet[packet.length - 1]!;
    if (padding === 0) return "track-bad-rtp-length";
    end -= padding;
  }
  if (start > end) return "track-bad-rtp-length";
  return {
    seq: (packet[2]! << 8) | packet[3]!,
    timestamp: ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0,
    frame: packet.subarray(start, end),
  };
}

/**
 * The first byte of a link-private control message. Core frames start with their version (1), so a
 * receiver tells the two apart by this byte alone; only peers that announced the track get these.
 */
export const TRACK_REPORT_MARKER = 0xff;
export const TRACK_REPORT_BYTES = 6;

/** A receiver's report: the highest extended sequence number it has received on the track. */
export function encodeTrackReport(highestSeq: number): Uint8Array {
  const out = new Uint8Array(TRACK_REPORT_BYTES);
  out[0] = TRACK_REPORT_MARKER;
  out[1] = 1; // report version
  new DataView(out.buffer).setUint32(2, highestSeq >>> 0);
  return out;
}

/** The report's sequence number, or undefined when `message` is not a well-formed report. */
export function decodeTrackReport(message: Uint8Array): number | undefined {
  if (message.length !== TRACK_REPORT_BYTES || message[0] !== TRACK_REPORT_MARKER || message[1] !== 1) return undefined;
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(2);
}

/**
 * Whether a remote offer carries our IP track: a media section with our mid whose payload type
 * maps to our codec. Another stack's video section (or a stranger's) does not qualify.
 */
export function offersIpTrack(sdp: string): boolean {
  const section = sdp.split(/\r?\nm=/).find((s) => new RegExp(`\\na=mid:${IP_TRACK_MID}\\r?(\\n|$)`).test(s));
  if (section === undefined || !section.startsWith("video ")) return false;
  return new RegExp(`\\na=rtpmap:${IP_TRACK_PAYLOAD_TYPE} ${IP_TRACK_CODEC}/`).test(section);
}
