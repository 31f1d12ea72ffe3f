import { x25519 } from "@noble/curves/ed25519";
import { hkdf } from "@noble/hashes/hkdf";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { ROUTED_HEADER_BYTES, RoutedKind, writeRoutedHeader } from "./frame.js";
import { ReplayWindow } from "./replay-window.js";
import { encodeUtf8 } from "./utf8.js";

/**
 * The end-to-end protection of traffic between two nodes that reach each other only through a
 * relay (relays.ts). The relay forwards routed frames it cannot forge: each carries a counter and
 * an HMAC-SHA256 tag (16 bytes) under a key only the two ends hold, agreed by X25519 between
 * ephemeral keys exchanged in envelopes each end sealed with its certified node key. The receiver
 * thus knows the frame came from the certified peer, unchanged, and not before (the counter).
 * Integrity only: the relay still reads what it carries (docs/threat-model.md).
 *
 * A sealed relay frame: `[routed header, kind relay][counter u64][body type u8][body][tag 16]`.
 */
export const RelayBody = {
  /** Liveness: the other end answers with a pong carrying the same 4 bytes. */
  ping: 0,
  pong: 1,
  /** A routed frame (header and payload) the receiver handles as if it arrived over a link. */
  frame: 2,
  /** The sender dropped the relayed path; the receiver drops its end. */
  close: 3,
} as const;
export type RelayBody = (typeof RelayBody)[keyof typeof RelayBody];

const COUNTER_BYTES = 8;
const TYPE_BYTES = 1;
export const RELAY_TAG_BYTES = 16;
/** Bytes a sealed relay frame adds around its body. */
export const RELAY_OVERHEAD_BYTES = ROUTED_HEADER_BYTES + COUNTER_BYTES + TYPE_BYTES + RELAY_TAG_BYTES;
const KEY_BYTES = 32;
const INFO_PREFIX = "ipop-relay-v1";

/** Why a sealed relay payload was refused (drop counters). */
export type RelayOpenFailure = "relay-short" | "relay-bad-tag" | "relay-replay" | "relay-bad-body";

/** An X25519 key pair for one relayed session; the private half never leaves the node. */
export interface RelayKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** A fresh ephemeral key pair from 32 random bytes of the host's secure random source. */
export function relayKeyPair(random32: Uint8Array): RelayKeyPair {
  const privateKey = random32.slice(0, KEY_BYTES);
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
}

/**
 * HMAC-SHA256 under one key: `keyed(key)` returns the function that tags data. Hosts may pass a
 * native one (the agent passes node:crypto's, about five times faster than pure JavaScript).
 */
export type HmacSha256 = (key: Uint8Array) => (data: Uint8Array) => Uint8Array;

/** The pure-JavaScript HMAC-SHA256 of @noble/hashes: the same in Node and the browser. */
export const nobleHmacSha256: HmacSha256 = (key) => {
  const base = hmac.create(sha256, key);
  return (data) => base.clone().update(data).digest();
};

/** What both ends agree on besides the shared secret: who initiated which session with whom. */
export interface RelayContext {
  readonly session: string;
  readonly initiator: string;
  readonly responder: string;
  readonly initiatorKey: Uint8Array;
  readonly responderKey: Uint8Array;
}

/** One end of a relayed session: its two direction keys, its send counter and its replay window. */
export class RelaySession {
  private sendCounter = 0;
  private readonly window = new ReplayWindow();

  private constructor(
    private readonly sendMac: (data: Uint8Array) => Uint8Array,
    private readonly receiveMac: (data: Uint8Array) => Uint8Array,
  ) {}

  /**
   * Derives the session from this end's private key and the peer's public key; null when the
   * peer's key is not a usable X25519 point (a low-order point gives an all-zero secret).
   */
  static derive(
    own: RelayKeyPair,
    peerPublic: Uint8Array,
    asInitiator: boolean,
    context: RelayContext,
    keyed: HmacSha256 = nobleHmacSha256,
  ): RelaySession | null {
    let secret: Uint8Array;
    try {
      secret = x25519.getSharedSecret(own.privateKey, peerPublic);
    } catch {
      return null;
    }
    if (secret.every((b) => b === 0)) return null;
    const info = encodeUtf8(
      [
        INFO_PREFIX,
        context.session,
        context.initiator,
        context.responder,
        hex(context.initiatorKey),
        hex(context.responderKey),
      ].join("|"),
    );
    const keys = hkdf(sha256, secret, undefined, info, 2 * KEY_BYTES);
    const forward = keyed(keys.slice(0, KEY_BYTES));
    const backward = keyed(keys.slice(KEY_BYTES));
    return asInitiator ? new RelaySession(forward, backward) : new RelaySession(backward, forward);
  }

  /** A sealed relay frame from `source` to `destination` (ring addresses) carrying `body`. */
  seal(ttl: number, source: number, destination: number, type: RelayBody, body: Uint8Array): Uint8Array {
    const frame = new Uint8Array(RELAY_OVERHEAD_BYTES + body.length);
    writeRoutedHeader(frame, { ttl, kind: RoutedKind.relay, source, destination });
    const counter = this.sendCounter++;
    const view = new DataView(frame.buffer);
    view.setUint32(ROUTED_HEADER_BYTES, Math.floor(counter / 2 ** 32));
    view.setUint32(ROUTED_HEADER_BYTES + 4, counter >>> 0);
    frame[ROUTED_HEADER_BYTES + COUNTER_BYTES] = type;
    frame.set(body, ROUTED_HEADER_BYTES + COUNTER_BYTES + TYPE_BYTES);
    const tagAt = frame.length - RELAY_TAG_BYTES;
    frame.set(this.sendMac(frame.subarray(ROUTED_HEADER_BYTES, tagAt)).subarray(0, RELAY_TAG_BYTES), tagAt);
    return frame;
  }

  /**
   * Checks the payload of a sealed relay frame (after its routed header): tag first, then the
   * counter against replays. Returns the body type and a view of the body, or why it was refused.
   */
  open(payload: Uint8Array): { readonly type: RelayBody; readonly body: Uint8Array } | RelayOpenFailure {
    if (payload.length < COUNTER_BYTES + TYPE_BYTES + RELAY_TAG_BYTES) return "relay-short";
    const tagAt = payload.length - RELAY_TAG_BYTES;
    const expected = this.receiveMac(payload.subarray(0, tagAt));
    let diff = 0;
    for (let i = 0; i < RELAY_TAG_BYTES; i++) diff |= expected[i]! ^ payload[tagAt + i]!;
    if (diff !== 0) return "relay-bad-tag";
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const counter = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    if (!this.window.accept(counter)) return "relay-replay";
    const type = payload[COUNTER_BYTES]!;
    if (type > RelayBody.close) return "relay-bad-body";
    return { type: type as RelayBody, body: payload.subarray(COUNTER_BYTES + TYPE_BYTES, tagAt) };
  }
}

/**
 * The channel a relay passes a sealed frame on: packets on the unreliable data channel like any
 * packet, keepalives and messages on the reliable one. The body type and inner kind are readable.
 */
export function relayChannel(frame: Uint8Array): "data" | "control" {
  const at = ROUTED_HEADER_BYTES + COUNTER_BYTES;
  const innerKind = frame[at + TYPE_BYTES + 3];
  return frame[at] === RelayBody.frame && innerKind === RoutedKind.packet ? "data" : "control";
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
