import type { LinkChannel } from "./peer-link.js";

/**
 * How a link's two data channels are set up, identical on every backend (and what a browser peer
 * must use too).
 *
 * Both are pre-negotiated (`negotiated: true`) with fixed SCTP stream ids: each side creates them
 * itself, so they open as soon as the SCTP association is up, with no DCEP open/ack round trip, no
 * `ondatachannel` label matching, and no window in which the answerer has one channel but not the
 * other. The answerer creates them after applying the offer (see the backends for why).
 */
export interface ChannelSpec {
  readonly label: string;
  /** SCTP stream id, fixed because the channels are pre-negotiated. */
  readonly id: number;
  readonly ordered: boolean;
  /** Undefined for a reliable channel. */
  readonly maxRetransmits: number | undefined;
  /**
   * `send()` drops a message while the channel's `bufferedAmount` is above this many bytes (a
   * backend may lower it: `BackendTraits.highWaterMarks`).
   */
  readonly highWaterMark: number;
}

/** The channels in the order they are created (stream ids 0 and 1). */
export const LINK_CHANNELS: readonly LinkChannel[] = ["control", "data"];

export const CHANNEL_SPECS: Readonly<Record<LinkChannel, ChannelSpec>> = {
  control: {
    label: "control",
    id: 0,
    ordered: true,
    maxRetransmits: undefined,
    // Control frames are small and must not be lost while the link is healthy; a queue this deep
    // (seconds of control traffic) means the link is stalled, and dropping tells the core so.
    highWaterMark: 4 * 1024 * 1024,
  },
  data: {
    label: "data",
    id: 1,
    ordered: false,
    maxRetransmits: 0,
    // IP packets: a deeper queue only adds latency, and TCP above reacts to a drop far better than
    // to a growing delay, as on a real router. Measured on loopback, node-datachannel moves ~400
    // Mbit/s with 16 KiB to 1 MiB queued alike, and wrtc is slower at 1 MiB than at 256 KiB; 256 KiB
    // is ~5 ms of queue at 400 Mbit/s. (werift needs far less: see werift-link.ts.)
    highWaterMark: 256 * 1024,
  },
};
