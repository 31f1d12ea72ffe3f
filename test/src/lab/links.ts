/**
 * Reading interfaces and addresses of lab namespaces with `ip -j` (JSON output), without entering them.
 */
import { runChecked } from "./command.js";
import type { Lab } from "./netns.js";

interface IpLink {
  ifname: string;
  linkinfo?: { info_kind?: string };
}
interface IpAddr {
  ifname: string;
  addr_info?: { local?: string }[];
}

/** Names of the TUN devices in `host`'s namespace. */
export async function tunDevices(lab: Lab, host: string): Promise<string[]> {
  const r = await runChecked(["ip", "-n", lab.nsName(host), "-j", "-d", "link", "show"]);
  const links = JSON.parse(r.stdout || "[]") as IpLink[];
  return links.filter((l) => l.linkinfo?.info_kind === "tun").map((l) => l.ifname);
}

/** All addresses (IPv4 and IPv6, lower case, no prefix length) of `dev` in `host`'s namespace. */
export async function interfaceAddresses(lab: Lab, host: string, dev = "eth0"): Promise<string[]> {
  const r = await runChecked(["ip", "-n", lab.nsName(host), "-j", "addr", "show", "dev", dev]);
  const ifaces = JSON.parse(r.stdout || "[]") as IpAddr[];
  return ifaces.flatMap((i) => i.addr_info ?? []).flatMap((a) => (a.local ? [a.local.toLowerCase()] : []));
}
