/**
 * IPv4 prefixes (CIDR blocks) as certificates use them: address pools a node may claim from, and the
 * ranges a CA allows its nodes to use.
 */
import { formatIpv4Address, type Ipv4Interface, parseIpv4Address, prefixMask } from "../ipv4.js";

/** A block of addresses, `A.B.C.D/N` with the host bits zero. */
export interface Ipv4Prefix {
  readonly address: number;
  readonly prefixLength: number;
}

/**
 * Parses `A.B.C.D/N` (N from 0 to 32) with the host bits zero. Returns a message saying what is
 * wrong otherwise: a prefix with host bits set is usually a typo for a host address, so it is refused
 * instead of silently masked.
 */
export function parseIpv4Prefix(text: string): Ipv4Prefix | string {
  const match = /^([0-9.]{7,15})\/(0|[1-9]\d?)$/.exec(text);
  if (!match) return `"${text}" is not an address block like 10.88.0.0/16`;
  const address = parseIpv4Address(match[1]!);
  if (address === null) return `"${match[1]}" is not an IPv4 address`;
  const prefixLength = Number(match[2]);
  if (prefixLength > 32) return `prefix length /${prefixLength} is more than /32`;
  const network = (address & prefixMask(prefixLength)) >>> 0;
  if (network !== address) {
    return `${text} has host bits set; the block is ${formatIpv4Address(network)}/${prefixLength}`;
  }
  return { address, prefixLength };
}

export function formatIpv4Prefix(prefix: Ipv4Prefix): string {
  return `${formatIpv4Address(prefix.address)}/${prefix.prefixLength}`;
}

/** `A.B.C.D/N` of a host address on its subnet. */
export function formatIpv4Interface(iface: Ipv4Interface): string {
  return `${formatIpv4Address(iface.address)}/${iface.prefixLength}`;
}

/** True when `address` lies in `prefix`. */
export function prefixContainsAddress(prefix: Ipv4Prefix, address: number): boolean {
  const mask = prefixMask(prefix.prefixLength);
  return (address & mask) >>> 0 === prefix.address;
}

/** True when every address of `inner` lies in `outer`. */
export function prefixContainsPrefix(outer: Ipv4Prefix, inner: Ipv4Prefix): boolean {
  return inner.prefixLength >= outer.prefixLength && prefixContainsAddress(outer, inner.address);
}
