import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { promisify } from "node:util";
import { errorMessage } from "@ipop/shared";
import type { Logger } from "pino";

const run = promisify(execFile);

/** Present while systemd-resolved runs (its varlink socket). */
const RESOLVED_RUNTIME = "/run/systemd/resolve/io.systemd.Resolve";

/**
 * Makes systemd-resolved send queries for `zone` (and only those: `~zone` is a routing-only
 * domain) to `ip` on the TUN device `dev`. Where resolved is not running or resolvectl is missing,
 * it logs why and does nothing: the names still work by pointing a resolver at the agent
 * (docs/dns.md). resolved forgets the setting by itself when the device goes away.
 */
export async function registerWithResolved(dev: string, ip: string, zone: string, logger: Logger): Promise<void> {
  try {
    await access(RESOLVED_RUNTIME);
  } catch {
    logger.info({ zone }, "systemd-resolved is not running; not registering the DNS zone (docs/dns.md)");
    return;
  }
  try {
    await run("resolvectl", ["dns", dev, ip]);
    await run("resolvectl", ["domain", dev, `~${zone}`]);
    logger.info({ zone, dev, ip }, "registered the DNS zone with systemd-resolved");
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    logger.warn(
      { zone, reason: stderr || errorMessage(error) },
      "could not register the DNS zone with systemd-resolved (resolvectl); see docs/dns.md",
    );
  }
}
