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
 */
export async function configureTun(dev: string, cidr: string, mtu: number): Promise<void> {
  await ip(["link", "set", "dev", dev, "mtu", String(mtu), "txqueuelen", String(TUN_TXQUEUELEN)]);
  await writeFile(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, "1").catch(() => {
    // No IPv6 in this kernel: nothing to switch off.
  });
  await ip(["addr", "replace", cidr, "dev", dev]);
  await ip(["link", "set", "dev", dev, "up"]);
}

async function ip(args: string[]): Promise<void> {
  try {
    await run("ip", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new TunError(`\`ip ${args.join(" ")}\` failed: ${stderr || errorMessage(error)}`);
  }
}
