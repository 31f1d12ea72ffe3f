/**
 * Memory of an idle agent with 10 peers: eleven agents in a namespace lab, h1 pings every other
 * node (on-demand links give it a direct link to each), then all stay idle for a few seconds and
 * every agent's resident set (VmRSS) and peak (VmHWM) are read. Run as root, under the lab lock:
 *
 *   flock /tmp/ipop-lab.lock node test/dist/bench/idle-memory.js [--webrtc ndc|werift|wrtc]
 *
 * Prints one JSON line: h1's peers up, its RSS and peak, and the largest RSS of the others (MiB).
 */
import { readFileSync } from "node:fs";
import { agentStatus, startOverlay, stopOverlay, virtualIp, type WebRtcBackend } from "../lab/agents.js";
import { Lab } from "../lab/netns.js";
import { ping } from "../lab/ping.js";

const HOSTS = 11;
const IDLE_MS = 5_000;
const LINKS_TIMEOUT_MS = 90_000;

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? Number.NaN : Number(match[1]);
}

const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;
const at = process.argv.indexOf("--webrtc");
const webrtc = (at > 0 ? process.argv[at + 1] : "ndc") as WebRtcBackend;

const lab = await Lab.create({ hosts: HOSTS, prefix: "ipopmem" });
try {
  const overlay = await startOverlay(lab, { webrtc });
  const [h1, ...others] = lab.hosts as [string, ...string[]];
  const deadline = Date.now() + LINKS_TIMEOUT_MS;
  let up = 0;
  while (up < others.length && Date.now() < deadline) {
    await Promise.all(others.map((h) => ping(lab, h1, virtualIp(lab, h), { count: 1, waitS: 2 }).catch(() => {})));
    const status = await agentStatus(lab, h1).catch(() => undefined);
    up = status?.peers.filter((p) => p.state === "up").length ?? 0;
    if (up < others.length) await new Promise((r) => setTimeout(r, 1_000));
  }
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const [first, ...rest] = overlay.agents;
  console.log(
    JSON.stringify({
      webrtc,
      h1PeersUp: up,
      h1RssMiB: mib(statusKb(first!.proc.pid, "VmRSS")),
      h1PeakMiB: mib(statusKb(first!.proc.pid, "VmHWM")),
      othersMaxRssMiB: Math.max(...rest.map((a) => mib(statusKb(a.proc.pid, "VmRSS")))),
    }),
  );
  await stopOverlay(overlay);
} finally {
  await lab.destroy();
}
