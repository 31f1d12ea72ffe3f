/**
 * The two guards an SRTP track needs and a data channel does not (docs/bench.md, "An SRTP track
 * instead of the data channel"), as pure state machines on times the caller passes in:
 *
 * - SendTracker keeps the sender from outrunning the receiver's SRTP rollover counter. libsrtp's
 *   receiver guesses the 32-bit packet index from the 16-bit RTP sequence number (RFC 3711, 3.3.1);
 *   after more than 32,768 packets in a row lost, its guess is wrong and every later packet fails
 *   authentication, silently. The receiver reports the highest sequence number it has seen (on the
 *   control channel); a sender with `FALLBACK_UNACKED` packets unreported stops using the track (its
 *   frames go on the data channel) and sends a probe (an empty RTP packet) now and then; the first
 *   report that covers a probe turns the track back on. It also falls back when something on the path
 *   drops RTP but not the data channel's DTLS (a middlebox, a DSCP policy).
 * - ReceiveTracker counts gaps and reordering, decides when to report, and sheds packets that waited
 *   too long between the stack and JavaScript: node-datachannel hands each packet to the main thread
 *   through a thread-safe function with an unbounded queue, so a main thread slower than the wire
 *   would grow memory without bound. Shedding stale packets drains that queue faster than anything
 *   can fill it (a dropped packet costs a callback, not the core and a TUN write).
 */
import { RTP_TICKS_PER_MS } from "./ip-track-rtp.js";

/** Unreported packets after which the sender leaves the track: half the rollover counter's margin. */
export const FALLBACK_UNACKED = 16_384;
/** How often a sender that left the track probes it. */
export const PROBE_INTERVAL_MS = 1000;
/** A receiver reports after this many packets... */
export const REPORT_EVERY_PACKETS = 1024;
/** ...or on the first packet this long after its last report (so probes are answered at once). */
export const REPORT_INTERVAL_MS = 50;
/**
 * A packet that reached JavaScript this much later than the least-delayed recent packet is dropped:
 * a queue this deep means the main thread is behind, and TCP above does better with a drop than with
 * 50 ms more delay. At 1 Gbit/s this bounds the binding's queue to about 4,500 packets (6 MiB).
 */
export const STALE_AFTER_MS = 50;
/** The one-way delay's floor is the minimum over the last one or two windows of this length, so clock drift between hosts cannot accumulate. */
const DELAY_FLOOR_WINDOW_MS = 10_000;

/** What the sender does with the next frame. */
export type SendDecision = "track" | "probe" | "channel";

/** Sender side: sequence numbers, the receiver's reports, fallback and probes. */
export class SendTracker {
  /** Packets sent on the track (probes included), modulo 2^32: the next extended sequence number. */
  #sent = 0;
  /** One past the highest sequence number the receiver reported, modulo 2^32. */
  #acked = 0;
  #onTrack = true;
  #lastProbeMs = Number.NEGATIVE_INFINITY;
  fallbacks = 0;
  probes = 0;

  /** Whether frames currently go on the track. */
  get onTrack(): boolean {
    return this.#onTrack;
  }

  /** Packets sent that no report has covered yet. */
  get unreported(): number {
    return (this.#sent - this.#acked) >>> 0;
  }

  /** Whether frames should be offered now: on the track, or fallen back with a probe due. */
  wantsFrames(nowMs: number): boolean {
    return this.#onTrack || nowMs - this.#lastProbeMs >= PROBE_INTERVAL_MS;
  }

  /** Where the next frame goes; "probe" means: send an empty packet on the track, the frame on the channel. */
  decide(nowMs: number): SendDecision {
    if (this.#onTrack) {
      if (this.unreported < FALLBACK_UNACKED) return "track";
      this.#onTrack = false;
      this.fallbacks++;
    }
    if (nowMs - this.#lastProbeMs < PROBE_INTERVAL_MS) return "channel";
    this.#lastProbeMs = nowMs;
    this.probes++;
    return "probe";
  }

  /** Takes the sequence number of a packet about to be sent (call only when it is sent). */
  takeSeq(): number {
    const seq = this.#sent;
    this.#sent = (this.#sent + 1) >>> 0;
    return seq;
  }

  /** Gives back the number of a packet the stack refused: nothing went on the wire. */
  untakeSeq(): void {
    this.#sent = (this.#sent - 1) >>> 0;
  }

  /** A report from the receiver: the highest extended sequence number it has seen. */
  handleReport(highest: number): void {
    const covered = (highest + 1) >>> 0;
    // Only progress within what was sent counts; an old or garbled report is ignored.
    const progress = (covered - this.#acked) >>> 0;
    if (progress === 0 || progress > this.unreported) return;
    this.#acked = covered;
    if (!this.#onTrack && this.unreported === 0) this.#onTrack = true;
  }
}

/** What the receiver does with one packet. */
export interface ReceiveVerdict {
  /** Deliver its frame (false: it waited too long, drop it). */
  readonly fresh: boolean;
  /** Send a report now with this highest sequence number (undefined: not yet). */
  readonly report: number | undefined;
}

/** Receiver side: extended sequence numbers, gaps, reordering, queue delay, when to report. */
export class ReceiveTracker {
  /** Highest extended sequence number seen; -1 before the first packet. */
  #highest = -1;
  #sinceReport = 0;
  #lastReportMs = Number.NEGATIVE_INFINITY;
  #floor = Number.POSITIVE_INFINITY;
  #previousFloor = Number.POSITIVE_INFINITY;
  #floorSince = Number.NEGATIVE_INFINITY;
  /** Sequence numbers skipped (lost on the path, in a queue, or outside libsrtp's replay window). */
  gaps = 0;
  /** Packets below the highest seen (reordered): each also counted once as a gap. */
  late = 0;
  stale = 0;

  /** Takes one packet's RTP sequence number and timestamp, received at `nowMs`. */
  receive(seq: number, timestamp: number, nowMs: number): ReceiveVerdict {
    this.#track(seq);
    const fresh = this.#fresh(timestamp, nowMs);
    if (!fresh) this.stale++;
    this.#sinceReport++;
    if (this.#sinceReport < REPORT_EVERY_PACKETS && nowMs - this.#lastReportMs < REPORT_INTERVAL_MS) {
      return { fresh, report: undefined };
    }
    this.#sinceReport = 0;
    this.#lastReportMs = nowMs;
    return { fresh, report: this.#highest >>> 0 };
  }

  #track(seq: number): void {
    if (this.#highest < 0) {
      this.#highest = seq;
      return;
    }
    // The 16-bit distance from the highest seen, as libsrtp estimates the index (RFC 3711, 3.3.1).
    const delta = (((seq - this.#highest) & 0xffff) << 16) >> 16;
    if (delta > 0) {
      this.gaps += delta - 1;
      this.#highest += delta;
    } else if (delta < 0) {
      this.late++;
    }
  }

  #fresh(timestamp: number, nowMs: number): boolean {
    // The one-way delay up to an unknown clock offset, in 0.1 ms, wrapping with the timestamp.
    const offset = ((Math.floor(nowMs * RTP_TICKS_PER_MS) - timestamp) | 0) / RTP_TICKS_PER_MS;
    if (nowMs - this.#floorSince >= DELAY_FLOOR_WINDOW_MS) {
      this.#previousFloor = this.#floor;
      this.#floor = Number.POSITIVE_INFINITY;
      this.#floorSince = nowMs;
    }
    if (offset < this.#floor) this.#floor = offset;
    return offset - Math.min(this.#floor, this.#previousFloor) <= STALE_AFTER_MS;
  }
}
