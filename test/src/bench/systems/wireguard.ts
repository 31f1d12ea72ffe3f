/**
 * wireguard-go (Debian's package, the userspace WireGuard: this kernel has no WireGuard module) between
 * h1 and h2, configured with `wg` over its UAPI socket, on 10.90.0.0/24.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "../../lab/command.js";
import type { Lab } from "../../lab/netns.js";
import type { LabProcess } from "../../lab/process.js";
import { daemonPids, deviceName, stopDaemons, waitFor } from "./daemons.js";
import { waitForPath } from "./path.js";
import { type BenchSystem, OVERLAY_MTU, type RunningSystem } from "./system.js";

const PREFIX = "10.90.0";
const LISTEN_PORT = 51820;

/** hN's tunnel address. */
function tunnelIp(lab: Lab, host: string): string {
  return `${PREFIX}.${lab.hosts.indexOf(host) + 1}`;
}

/** A new WireGuard key pair, from `wg genkey` / `wg pubkey` (no traffic; runs in our own namespace). */
async function keyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = (await runChecked(["wg", "genkey"])).stdout.trim();
  const publicKey = (await runChecked(["wg", "pubkey"], { input: `${privateKey}\n` })).stdout.trim();
  return { privateKey, publicKey };
}

/** wireguard-go on h1 and h2, each peered with the other. */
export const wireguardSystem: BenchSystem = {
  name: "wireguard-go",
  description: "wireguard-go (userspace WireGuard, Go), TUN device, configured with wg",
  needs: { "wireguard-go": "wireguard-go", wg: "wireguard-tools" },
  async setup(lab, ctx): Promise<RunningSystem> {
    const hosts = lab.hosts.slice(0, 2);
    const procs: LabProcess[] = [];
    const devs = new Map(hosts.map((h) => [h, deviceName("bwg", h)]));
    try {
      const keys = new Map<string, Awaited<ReturnType<typeof keyPair>>>();
      for (const host of hosts) keys.set(host, await keyPair());
      for (const host of hosts) {
        const dev = devs.get(host)!;
        // -f: stay in the foreground, so the lab tracks (and finally kills) the daemon itself.
        procs.push(
          lab.spawn(host, ["wireguard-go", "-f", dev], { label: `${host} wireguard-go`, env: { LOG_LEVEL: "error" } }),
        );
      }
      for (const host of hosts) {
        const sock = `/var/run/wireguard/${devs.get(host)}.sock`;
        await waitFor(`${sock}`, () => existsSync(sock), procs);
      }
      for (const host of hosts) {
        const peer = hosts.find((h) => h !== host)!;
        const dev = devs.get(host)!;
        const keyFile = join(ctx.workDir, `${host}.key`);
        writeFileSync(keyFile, `${keys.get(host)!.privateKey}\n`, { mode: 0o600 });
        await lab.execOk(host, [
          "wg",
          "set",
          dev,
          "listen-port",
          String(LISTEN_PORT),
          "private-key",
          keyFile,
          "peer",
          keys.get(peer)!.publicKey,
          "endpoint",
          `${lab.underlayIp(peer)}:${LISTEN_PORT}`,
          "allowed-ips",
          `${tunnelIp(lab, peer)}/32`,
        ]);
        await lab.execOk(host, ["ip", "addr", "add", `${tunnelIp(lab, host)}/24`, "dev", dev]);
        await lab.execOk(host, ["ip", "link", "set", dev, "mtu", String(OVERLAY_MTU), "up"]);
      }
      await waitForPath(lab, "wireguard-go", hosts[0]!, tunnelIp(lab, hosts[1]!));
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
