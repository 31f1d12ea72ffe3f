/**
 * Memory of an idle agent with 10 peers: eleven agents in a namespace lab, h1 pings every other
 * node until it has a link up to each (a burst of 12 pings 0.2 s apart passes the core's on-demand
 * threshold of 10 packets in 5 s, so h1 links directly to the nodes that are not already its ring
 * neighbours or shortcuts), then all stay idle for a few seconds and every agent's resident set is
 * read. Run as root, under the lab lock:
 *
 *   flock /tmp/ipop-lab.lock node test/dist/bench/idle-memory.js [--webrtc ndc|werift|wrtc]
 *
 * Prints one JSON line: h1's peers up, its RSS, peak and where its resident memory goes (MiB, see
 * smaps.ts), the mean and largest RSS of the other agents, and the native addons h1 mapped.
 */
import { readFileSync } from "node:fs";
import { agentStatus, startOverlay, stopOverlay, virtualIp, type WebRtcBackend } from "../lab/agents.js";
import { Lab } from "../lab/netns.js";
import { ping } from "../lab/ping.js";
import { type MemoryBreakdown, nativeAddons, parseSmaps, processMemory } from "./smaps.js";

const HOSTS = 11;
const IDLE_MS = 5_000;
const LINKS_TIMEOUT_MS = 90_000;

function peakKb(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? Number.NaN : Number(match[1]);
}

const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;

function breakdownMiB(b: MemoryBreakdown): Record<string, number> {
  return Object.fromEntries(
    Object.entries(b).map(([k, v]) => (k.endsWith("Kb") ? [k.replace(/Kb$/, "MiB"), mib(v)] : [k, v])),
  );
}

const at = process.argv.indexOf("--webrtc");
const webrtc = (at > 0 ? process.argv[at + 1] : "ndc") as WebRtcBackend;

const lab = await Lab.create({ hosts: HOSTS, prefix: "ipopmem" });
try {
  const overlay = await startOverlay(lab, { webrtc });
  const [h1, ...others] = lab.hosts as [string, ...string[]];
  const deadline = Date.now() + LINKS_TIMEOUT_MS;
  let up = 0;
  while (up < others.length && Date.now() < deadline) {
    await Promise.all(
      others.map((h) => ping(lab, h1, virtualIp(lab, h), { count: 12, intervalS: 0.2, waitS: 2 }).catch(() => {})),
    );
    const status = await agentStatus(lab, h1).catch(() => undefined);
    up = status?.peers.filter((p) => p.state === "up").length ?? 0;
    if (up < others.length) await new Promise((r) => setTimeout(r, 1_000));
  }
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const [first, ...rest] = overlay.agents;
  const h1Memory = processMemory(first!.proc.pid);
  const othersRss = rest.map((a) => processMemory(a.proc.pid).rssKb);
  console.log(
    JSON.stringify({
      webrtc,
      h1PeersUp: up,
      h1PeakMiB: mib(peakKb(first!.proc.pid)),
      h1: breakdownMiB(h1Memory),
      othersMeanRssMiB: mib(othersRss.reduce((a, b) => a + b, 0) / othersRss.length),
      othersMaxRssMiB: mib(Math.max(...othersRss)),
      // Only the chosen backend's library may be mapped (link/backends.ts imports it on demand).
      h1NativeAddons: nativeAddons(parseSmaps(readFileSync(`/proc/${first!.proc.pid}/smaps`, "utf8"))).map((p) =>
        p.replace(/^.*node_modules\//, ""),
      ),
    }),
  );
  await stopOverlay(overlay);
} finally {
  await lab.destroy();
}
