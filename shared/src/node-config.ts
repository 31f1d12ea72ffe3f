import { CoreError } from "./errors.js";
import { MAX_DATA_PAYLOAD_BYTES } from "./frame.js";
import type { LinkStatus } from "./link-record.js";
import type { NodeTrust } from "./node-trust.js";
import type { RelayStatus } from "./relay-route.js";
import type { HmacSha256 } from "./relay-session.js";
import { isNetworkName, type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";
import { MIN_OVERLAY_MTU, type OverlayLimits, type Timing } from "./timing.js";

export interface NodeConfig {
  /** This node's identity and virtual address. */
  readonly self: MemberInfo;
  readonly network: string;
  /** Prefix length of the virtual network, e.g. 16 for 10.88.0.0/16. */
  readonly prefixLength: number;
  /** Seals and checks link-setup envelopes; knows who is revoked. */
  readonly trust: NodeTrust;
  /** Uniform numbers in [0, 1): the core's only source of randomness (shortcut targets). */
  readonly random: () => number;
  /**
   * `length` bytes from a cryptographically secure source (ephemeral keys of relayed sessions,
   * relays.ts). Without it the node neither starts nor accepts relayed paths.
   */
  readonly randomBytes?: (length: number) => Uint8Array;
  /** HMAC-SHA256 for the tags of relayed frames; default, the pure-JavaScript one of @noble/hashes. */
  readonly hmacSha256?: HmacSha256;
  readonly timing?: Partial<Timing>;
  readonly limits?: Partial<OverlayLimits>;
  /** The certificate group whose members may read this node's status (default `ops`). */
  readonly operatorGroup?: string;
}

/** A snapshot of the node for status output. */
export interface NodeStatus {
  readonly self: MemberInfo;
  readonly ring: number;
  readonly network: string;
  readonly prefixLength: number;
  readonly signalingUp: boolean;
  readonly members: number;
  /** Nodes known as link candidates (heard of through links, gossip or signaling). */
  readonly known: number;
  readonly networkSizeEstimate: number;
  readonly links: readonly LinkStatus[];
  readonly drops: Record<string, number>;
  /** Packets the node changed to fit the overlay MTU, by what it did (`mss-clamped-*`, `fragmented`). */
  readonly adjusted: Record<string, number>;
  /** Broadcast and multicast floods: `sent`, `delivered`, `forwarded` (drops are in `drops`). */
  readonly multicast: Record<string, number>;
  /** Ring neighbours reached through a relay because no direct link comes up (relays.ts). */
  readonly relays: readonly RelayStatus[];
  /** Sealed frames this node passed on as the relay between two others. */
  readonly relayedForOthers: number;
}

/** Checks a node's configuration; throws CoreError saying what to fix. */
export function validSelf(config: NodeConfig): MemberInfo {
  const self = parseMemberInfo(config.self);
  if (typeof self === "string") throw new CoreError("IPOP_BAD_CONFIG", `self: ${self}`);
  if (!isNetworkName(config.network)) {
    throw new CoreError(
      "IPOP_BAD_CONFIG",
      `network name "${config.network}" must be 1-64 characters of [A-Za-z0-9._-]`,
    );
  }
  if (!Number.isInteger(config.prefixLength) || config.prefixLength < 1 || config.prefixLength > 30) {
    throw new CoreError("IPOP_BAD_CONFIG", "prefix length must be an integer from 1 to 30");
  }
  const mtu = config.limits?.mtu;
  if (mtu !== undefined && (!Number.isInteger(mtu) || mtu < MIN_OVERLAY_MTU || mtu > MAX_DATA_PAYLOAD_BYTES)) {
    throw new CoreError(
      "IPOP_BAD_CONFIG",
      `MTU ${mtu} must be an integer from ${MIN_OVERLAY_MTU} to ${MAX_DATA_PAYLOAD_BYTES}`,
    );
  }
  return self;
}
