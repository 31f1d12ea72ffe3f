import { type Ipv4Interface, inSubnet, isMemberName, type MemberInfo, parseIpv4Address } from "@ipop/shared";
import { AgentError } from "./errors.js";

/** A node as `ipop ping`, `route` and `status` name it. */
export interface ResolvedNode {
  readonly ip: string;
  readonly address: number;
  readonly name: string | null;
}

/**
 * Of `members`, the one named `lowerName` (any case). A name two nodes claim with different
 * addresses resolves to the one linked to this node (`linked`, asked only then), else the first.
 */
export function pickNamed(
  members: readonly MemberInfo[],
  lowerName: string,
  linked: () => ReadonlySet<string>,
): MemberInfo | undefined {
  const named = members.filter((m) => m.name.toLowerCase() === lowerName);
  if (named.length <= 1) return named[0];
  const ids = linked();
  return named.find((m) => ids.has(m.nodeId)) ?? named[0];
}

/**
 * The virtual address of a node given by address or by name. Names are the certificates' names
 * of the nodes the core knows of (`members`: peers, the signaling server's members, gossip).
 * @throws {@link AgentError} for an address outside `subnet`, or a name nobody here knows.
 */
export function resolveNode(
  target: string,
  members: readonly MemberInfo[],
  linked: () => ReadonlySet<string>,
  subnet: Ipv4Interface,
): ResolvedNode {
  const address = parseIpv4Address(target);
  if (address !== null) {
    if (!inSubnet(address, subnet))
      throw new AgentError("IPOP_ADDRESS_OUTSIDE_NETWORK", `${target} is not an address of this virtual network`);
    return { ip: target, address, name: members.find((m) => m.ip === target)?.name ?? null };
  }
  if (!isMemberName(target))
    throw new AgentError("IPOP_UNKNOWN_NODE", `"${target}" is neither a virtual IP nor a node name`);
  const chosen = pickNamed(
    members.filter((m) => m.name === target),
    target.toLowerCase(),
    linked,
  );
  if (chosen === undefined) {
    throw new AgentError(
      "IPOP_UNKNOWN_NODE",
      `no node named "${target}" is known here (${members.length - 1} other nodes known); ` +
        "use its virtual IP, or see `ipop status` for the peers",
    );
  }
  return { ip: chosen.ip, address: parseIpv4Address(chosen.ip)!, name: chosen.name };
}
