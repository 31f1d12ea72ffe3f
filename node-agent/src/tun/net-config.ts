import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { errorMessage } from "@ipop/shared";
import { TunError } from "../errors.js";

const run = promisify(execFile);

/**
 * Device queue length. The kernel default of 500 dropped packets in bursts in our measurements;
 * 5000 did not.
 */
export const TUN_TXQUEUELEN = 5000;

/**
 * Gives the device its address (which also installs the on-link route for the virtual network), MTU
 * and queue length, and brings it up. IPv6 is switched off on it: the overlay carries IPv4 only and
 * a new device would otherwise send router solicitations into it.
 *
 * With `multicast`, 224.0.0.0/4 is routed to the device too, so a socket that does not pick an
 * interface (IP_MULTICAST_IF) sends its multicast (mDNS, SSDP) into the overlay. The route has a
 * high metric: a route for 224.0.0.0/4 the host already has (on its LAN interface) keeps winning,
 * and its sockets then name the device's address to reach the overlay. Packets to the subnet's
 * broadcast address follow the device's subnet route anyway.
 */
export async function configureTun(dev: string, cidr: string, mtu: number, multicast = false): Promise<void> {
  await ip(["link", "set", "dev", dev, "mtu", String(mtu), "txqueuelen", String(TUN_TXQUEUELEN)]);
  await writeFile(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, "1").catch(() => {
    // No IPv6 in this kernel: nothing to switch off.
  });
  await ip(["addr", "replace", cidr, "dev", dev]);
  await ip(["link", "set", "dev", dev, "up"]);
  if (multicast) await ip(["route", "replace", MULTICAST_ROUTE, "dev", dev, "metric", String(MULTICAST_ROUTE_METRIC)]);
}

export const MULTICAST_ROUTE = "224.0.0.0/4";
/** Above the kernel's and DHCP clients' usual metrics (0-1024), so the host's own route wins. */
export const MULTICAST_ROUTE_METRIC = 4000;

async function ip(args: string[]): Promise<void> {
  try {
    await run("ip", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new TunError(`\`ip ${args.join(" ")}\` failed: ${stderr || errorMessage(error)}`);
  }
}
