import type { MemberInfo } from "./signaling-protocol.js";
import type { StatusRequester } from "./status-requests.js";

/** Which channel of a link a frame travels on (see the host's PeerLink). */
export type Channel = "control" | "data";
export type LinkRole = "offerer" | "answerer";

/**
 * What the core asks its host to do. The host drains these with `pollAction()` after every call into
 * the core and carries them out in order.
 *
 * Buffers in `send-frame` and `deliver` may be views into the buffer the host passed in with the
 * event that produced them: they are valid only until the host next calls into the core, so the host
 * must send or write them before that (it does, by draining actions at once).
 */
export type Action =
  | { readonly type: "send-frame"; readonly linkId: number; readonly channel: Channel; readonly frame: Uint8Array }
  | { readonly type: "deliver"; readonly packet: Uint8Array }
  /** Create a WebRTC link to `peer`; report its signals with `handleLinkSignal`, its fate with `handleLinkUp/Down`. */
  | { readonly type: "open-link"; readonly linkId: number; readonly peer: MemberInfo; readonly role: LinkRole }
  /** A description or candidate from the remote side, for the host's link object. Opaque to the core. */
  | { readonly type: "link-signal"; readonly linkId: number; readonly payload: unknown }
  | { readonly type: "close-link"; readonly linkId: number; readonly reason: string }
  /** Send a sealed link-setup envelope to another node through the signaling server. */
  | { readonly type: "send-signal"; readonly to: string; readonly body: unknown }
  | { readonly type: "event"; readonly event: NodeEvent };

/** Things worth a log line or a metric. Never carries packet contents or secrets. */
export type NodeEvent =
  | { readonly kind: "link-opening"; readonly linkId: number; readonly peer: MemberInfo; readonly role: LinkRole }
  | { readonly kind: "link-up"; readonly linkId: number; readonly peer: MemberInfo; readonly setupMs: number }
  | { readonly kind: "link-down"; readonly linkId: number; readonly peer: MemberInfo; readonly reason: string }
  | { readonly kind: "address-conflict"; readonly ip: string; readonly kept: string; readonly dropped: string }
  | { readonly kind: "signal-dropped"; readonly from: string; readonly reason: string }
  /** A ring neighbour this node cannot link to directly is now reached through `via` (relays.ts). */
  | {
      readonly kind: "relay-up";
      readonly peer: MemberInfo;
      readonly via: MemberInfo;
      readonly role: "initiator" | "responder";
    }
  | { readonly kind: "relay-down"; readonly peer: MemberInfo; readonly reason: string }
  /** A newer revocation list was adopted; `self` is true when it revokes this node itself. */
  | { readonly kind: "revocations-updated"; readonly closedLinks: number; readonly self: boolean }
  /** The answer to `traceRoute`: the nodes a routed message passed, in order, ending at the closest. */
  | {
      readonly kind: "trace-result";
      readonly id: number;
      readonly path: readonly MemberInfo[];
      /** The last node owns the traced address (false: nobody does, or the trace timed out). */
      readonly owner: boolean;
      readonly complete: boolean;
    }
  /** The answer to `ping`, or its absence after `pingTimeoutMs` (`complete` false, nothing else known). */
  | {
      readonly kind: "ping-result";
      readonly id: number;
      readonly complete: boolean;
      /** Milliseconds from sending to the answer; null when there was none. */
      readonly rttMs: number | null;
      /** The nodes the ping passed, from this node to the one that answered; empty without an answer. */
      readonly path: readonly MemberInfo[];
      /** The answering node owns the pinged address (false: nobody does, or no answer). */
      readonly owner: boolean;
      /** The ping reached it over a direct link from this node, not through other nodes. */
      readonly direct: boolean;
    }
  /** An operator asked for this node's status: answer with `OverlayNode.answerStatus(handle, report)`. */
  | { readonly kind: "status-asked"; readonly handle: number; readonly requester: StatusRequester }
  /** The answer to `askStatus`: the target's report, or why it refused. */
  | { readonly kind: "status-result"; readonly id: number; readonly report?: unknown; readonly refused?: string };
