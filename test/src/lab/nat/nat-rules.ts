/**
 * The NAT kinds the NAT lab can put in front of a home network, and the nftables ruleset that makes a
 * namespace behave as each. Pure: it only writes the ruleset text; `nat-lab.ts` loads it.
 *
 * RFC 4787 terms: mapping says which outside port a flow gets, filtering says who may send to it.
 * - `port-restricted`: endpoint-independent mapping (`masquerade` keeps the source port while it is
 *   free, so one socket has one outside port for every destination) with address-and-port-dependent
 *   filtering (only replies to a conntrack flow come in). The common home router.
 * - `full-cone`: endpoint-independent mapping and filtering: anything sent to a mapped port reaches the
 *   host (new inbound UDP is DNATed to the home network's one host, port unchanged). One host only.
 * - `symmetric`: address-and-port-dependent mapping (`masquerade random`: a new port for each
 *   destination) and filtering. Carrier-grade NATs and many corporate firewalls.
 */

/** What stands between a home network and the lab's internet. `none`: hosts with public addresses. */
export type NatKind = "none" | "port-restricted" | "full-cone" | "symmetric";

/** Every kind, in the order tables list them. */
export const NAT_KINDS: readonly NatKind[] = ["none", "full-cone", "port-restricted", "symmetric"];

/** Name of the nftables table the lab owns inside a NAT namespace. */
export const NAT_TABLE = "ipopnat";

/** Where a NAT box sits. */
export interface NatBoxInterfaces {
  /** Interface towards the internet. */
  readonly wan: string;
  /** Interface towards the home network. */
  readonly lan: string;
  /** The home network's only host, for `full-cone` (inbound flows are sent to it). */
  readonly fullConeHost?: string;
}

/**
 * The ruleset (for `nft -f -`) that makes a NAT box of `kind`. It replaces the lab's table wholesale,
 * so loading another kind's ruleset switches the box (flush conntrack afterwards: existing flows keep
 * the mapping they were given).
 *
 * Every kind drops new flows from the WAN to the box itself: otherwise an early probe to a port that is
 * not mapped yet is taken for the box's own (and answered, or it steals the port from a later mapping).
 */
export function natRuleset(kind: Exclude<NatKind, "none">, box: NatBoxInterfaces): string {
  if (kind === "full-cone" && box.fullConeHost === undefined) {
    throw new RangeError("a full-cone NAT needs the address of the one host behind it");
  }
  const wan = JSON.stringify(box.wan);
  const lan = JSON.stringify(box.lan);
  const masquerade = kind === "symmetric" ? "masquerade random" : "masquerade";
  const inboundDnat = kind === "full-cone" ? [`    iifname ${wan} meta l4proto udp dnat to ${box.fullConeHost}`] : [];
  const inboundAccept = kind === "full-cone" ? [`    iifname ${wan} ct status dnat accept`] : [];
  return [
    // `add` then `delete` makes the load idempotent: the table may or may not exist yet.
    `add table ip ${NAT_TABLE}`,
    `delete table ip ${NAT_TABLE}`,
    `table ip ${NAT_TABLE} {`,
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    ...inboundDnat,
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname ${wan} ${masquerade}`,
    "  }",
    "  chain forwarding {",
    "    type filter hook forward priority filter; policy drop;",
    "    ct state established,related accept",
    `    iifname ${lan} oifname ${wan} accept`,
    // Between two hosts of the home network: bridged, but where br_netfilter is loaded (Docker hosts)
    // bridged frames pass this hook too, and the policy would drop the LAN's own traffic.
    `    iifname ${lan} oifname ${lan} accept`,
    ...inboundAccept,
    "  }",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname ${wan} ct state new drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Whether two agents behind `a` and `b` can reach each other directly by ICE hole punching (host,
 * srflx or prflx candidates), by RFC 4787: a symmetric NAT's outside port for the peer is not the one
 * STUN saw, so the other side must accept packets from an unpredicted port, which only endpoint-
 * independent filtering (a full cone) or no NAT does. Same site: always direct (host candidates).
 */
export function directPossible(a: NatKind, b: NatKind): boolean {
  if (a !== "symmetric" && b !== "symmetric") return true;
  const other = a === "symmetric" ? b : a;
  return other === "none" || other === "full-cone";
}
