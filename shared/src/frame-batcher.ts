import { BATCH_LENGTH_BYTES, FRAME_HEADER_BYTES, MAX_BATCH_FRAME_BYTES, writeBatch } from "./frame.js";

/**
 * Batch size the hosts use: far below every stack's maxMessageSize, and small enough that losing one
 * SCTP chunk of a batch (the data channel does not retransmit) loses a handful of packets, not dozens.
 */
export const DEFAULT_BATCH_BYTES = 16 * 1024;

/**
 * Sends one message on a link's data channel. `message` is borrowed until the call returns (the
 * batcher reuses it); `frames` is how many frames it carries, for counting drops.
 */
export type BatchSend = (linkId: number, message: Uint8Array, frames: number) => void;

interface Pending {
  readonly linkId: number;
  readonly frames: Uint8Array[];
  bytes: number;
  queued: boolean;
}

/**
 * Packs the data-channel frames a host sends in one turn of its event loop into batch frames, one
 * message per link per turn (more when they exceed `maxBytes`), because each message costs a crossing
 * into the WebRTC stack and an SCTP message of its own. It never waits for more frames: the host calls
 * `flush()` at the end of the turn, so batching adds no latency. A lone frame goes out unchanged.
 *
 * Frames given to `add` are borrowed until the next `flush()` (or until `add` sends them early), which
 * is exactly how long the core's actions keep their buffers valid.
 */
export class FrameBatcher {
  readonly #send: BatchSend;
  readonly #maxBytes: number;
  readonly #byLink = new Map<number, Pending>();
  readonly #queue: Pending[] = [];
  readonly #scratch: Uint8Array;

  /** `maxBytes` is capped at what every receiver accepts, which also keeps each length in 16 bits. */
  constructor(send: BatchSend, maxBytes = DEFAULT_BATCH_BYTES) {
    this.#send = send;
    maxBytes = Math.min(maxBytes, MAX_BATCH_FRAME_BYTES);
    this.#maxBytes = maxBytes;
    this.#scratch = new Uint8Array(maxBytes);
  }

  /** Queues `frame` (borrowed) for the data channel of `linkId`. */
  add(linkId: number, frame: Uint8Array): void {
    let pending = this.#byLink.get(linkId);
    if (pending === undefined) {
      pending = { linkId, frames: [], bytes: FRAME_HEADER_BYTES, queued: false };
      this.#byLink.set(linkId, pending);
    }
    const bytes = BATCH_LENGTH_BYTES + frame.length;
    if (pending.frames.length > 0 && pending.bytes + bytes > this.#maxBytes) this.#sendPending(pending);
    pending.frames.push(frame);
    pending.bytes += bytes;
    if (!pending.queued) {
      pending.queued = true;
      this.#queue.push(pending);
    }
  }

  /** Sends everything queued: one message per link unless a link's frames exceed `maxBytes`. */
  flush(): void {
    for (const pending of this.#queue) {
      pending.queued = false;
      this.#sendPending(pending);
    }
    this.#queue.length = 0;
  }

  /** Drops the state kept for a link that closed; its queued frames, if any, are discarded. */
  forget(linkId: number): void {
    const pending = this.#byLink.get(linkId);
    if (pending === undefined) return;
    this.#byLink.delete(linkId);
    pending.frames.length = 0;
    pending.bytes = FRAME_HEADER_BYTES;
  }

  #sendPending(pending: Pending): void {
    const { frames } = pending;
    const count = frames.length;
    if (count === 0) return;
    // A lone frame (also one too big to share a batch) goes as it is, without copying.
    if (count === 1) {
      this.#send(pending.linkId, frames[0]!, 1);
    } else {
      this.#send(pending.linkId, writeBatch(this.#scratch, frames), count);
    }
    frames.length = 0;
    pending.bytes = FRAME_HEADER_BYTES;
  }
}
