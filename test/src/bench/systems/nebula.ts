/**
 * Nebula (Debian's package) between h1 and h2 on 10.91.0.0/24: a CA and two host certificates made
 * with nebula-cert in the bench's scratch directory, h1 as the lighthouse, both with static underlay
 * addresses of each other.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "../../lab/command.js";
import type { Lab } from "../../lab/netns.js";
import type { LabProcess } from "../../lab/process.js";
import { daemonPids, deviceName, stopDaemons } from "./daemons.js";
import { nebulaConfig } from "./nebula-config.js";
import { waitForPath } from "./path.js";
import { type BenchSystem, OVERLAY_MTU, type RunningSystem } from "./system.js";

const PREFIX = "10.91.0";
const LISTEN_PORT = 4242;

function tunnelIp(lab: Lab, host: string): string {
  return `${PREFIX}.${lab.hosts.indexOf(host) + 1}`;
}

/** Nebula on h1 (lighthouse) and h2. */
export const nebulaSystem: BenchSystem = {
  name: "nebula",
  description: "Nebula (Go), TUN device, h1 as lighthouse, static host map",
  needs: { nebula: "nebula", "nebula-cert": "nebula" },
  async setup(lab, ctx): Promise<RunningSystem> {
    const hosts = lab.hosts.slice(0, 2);
    const dir = ctx.workDir;
    const ca = { crt: join(dir, "ca.crt"), key: join(dir, "ca.key") };
    await runChecked([
      "nebula-cert",
      "ca",
      "-name",
      "ipop-bench",
      "-duration",
      "24h",
      "-out-crt",
      ca.crt,
      "-out-key",
      ca.key,
    ]);
    const staticHosts = Object.fromEntries(hosts.map((h) => [tunnelIp(lab, h), `${lab.underlayIp(h)}:${LISTEN_PORT}`]));
    for (const host of hosts) {
      const crt = join(dir, `${host}.crt`);
      const key = join(dir, `${host}.key`);
      await runChecked([
        "nebula-cert",
        "sign",
        "-ca-crt",
        ca.crt,
        "-ca-key",
        ca.key,
        "-name",
        host,
        "-ip",
        `${tunnelIp(lab, host)}/24`,
        "-out-crt",
        crt,
        "-out-key",
        key,
      ]);
      const config = nebulaConfig({
        caCert: ca.crt,
        cert: crt,
        key,
        dev: deviceName("bnb", host),
        mtu: OVERLAY_MTU,
        listenPort: LISTEN_PORT,
        lighthouse: host === hosts[0],
        lighthouseIp: tunnelIp(lab, hosts[0]!),
        staticHosts,
      });
      writeFileSync(join(dir, `${host}.yml`), config, { mode: 0o600 });
    }
    const procs: LabProcess[] = [];
    try {
      for (const host of hosts) {
        procs.push(lab.spawn(host, ["nebula", "-config", join(dir, `${host}.yml`)], { label: `${host} nebula` }));
      }
      for (const p of procs) await p.waitForLine(/Nebula interface is active/, { stream: "both", timeoutMs: 15_000 });
      await waitForPath(lab, "nebula", hosts[0]!, tunnelIp(lab, hosts[1]!));
    } catch (e) {
      await stopDaemons(procs);
      throw e;
    }
    return {
      addressOf: (host) => tunnelIp(lab, host),
      pids: () => daemonPids(procs),
      setupTimings: {},
      teardown: () => stopDaemons(procs),
    };
  },
};
