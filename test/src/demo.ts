/**
 * `npm run demo`: a signaling server and three agents, each in its own network namespace, pinging
 * each other over the virtual network; then a live status table (every 2 s) until Ctrl-C, after
 * which everything the demo made is removed.
 *
 *   node test/dist/demo.js [--once] [--hosts N] [--webrtc ndc|werift|wrtc]
 *
 * `--once` prints one table and exits; its exit status says whether the round worked (links up,
 * every ping answered, agents shut down cleanly), so a test can run it.
 */

import { LabError } from "./errors.js";
import {
  agentStatus,
  type Overlay,
  startOverlay,
  stopOverlay,
  virtualIp,
  type WebRtcBackend,
  waitForOverlayUp,
} from "./lab/agents.js";
import { destroyAllSync } from "./lab/cleanup.js";
import { Lab, UNDERLAY_PREFIX } from "./lab/netns.js";
import { pingUntilClean } from "./lab/ping.js";
import { type HostStatus, renderStatusTable } from "./lab/status-table.js";

const USAGE = "usage: node test/dist/demo.js [--once] [--hosts N] [--webrtc ndc|werift|wrtc]";
const REFRESH_MS = 2_000;
const UP_TIMEOUT_MS = 60_000;

/** Raised into the main flow when the user pressed Ctrl-C. */
class Interrupted extends Error {}

interface DemoOptions {
  once: boolean;
  hosts: number;
  webrtc: WebRtcBackend | undefined;
}

function parseOptions(argv: readonly string[]): DemoOptions {
  const options: DemoOptions = { once: false, hosts: 3, webrtc: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--once") options.once = true;
    else if (a === "--hosts") options.hosts = Number(argv[++i]);
    else if (a === "--webrtc" && ["ndc", "werift", "wrtc"].includes(argv[i + 1] ?? "")) {
      options.webrtc = argv[++i] as WebRtcBackend;
    } else {
      console.error(`${a === "--help" ? "" : `unknown argument ${a}\n`}${USAGE}`);
      process.exit(a === "--help" ? 0 : 64);
    }
  }
  if (!Number.isInteger(options.hosts) || options.hosts < 2 || options.hosts > 20) {
    console.error(`--hosts must be 2..20\n${USAGE}`);
    process.exit(64);
  }
  return options;
}

const options = parseOptions(process.argv.slice(2));
const log = (line: string) => console.log(line);

// Ctrl-C: the first one asks for an orderly teardown; a second one tears down at once. Our children
// run in process groups of their own, so the terminal's SIGINT reaches only us.
let stopRequested = false;
let requestStop: () => void = () => {};
const stopped = new Promise<void>((resolve) => {
  requestStop = resolve;
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopRequested) {
      destroyAllSync();
      process.exit(130);
    }
    stopRequested = true;
    log(`\n${sig === "SIGINT" ? "Ctrl-C" : sig}: stopping (again to force)...`);
    requestStop();
  });
}

/** `p`, unless Ctrl-C comes first. */
function untilStopped<T>(p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    stopped.then((): never => {
      throw new Interrupted();
    }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function statusRows(lab: Lab, overlay: Overlay): Promise<HostStatus[]> {
  return Promise.all(
    overlay.agents.map(async ({ host }): Promise<HostStatus> => {
      try {
        return { host, status: await agentStatus(lab, host) };
      } catch (e) {
        return { host, error: (e as Error).message.split("\n")[0] ?? "" };
      }
    }),
  );
}

/** Pings each ordered pair, printing ping's summary line; returns whether all got every reply. */
async function pingRound(lab: Lab, hosts: readonly string[]): Promise<boolean> {
  let ok = true;
  for (const from of hosts) {
    for (const to of hosts) {
      if (from === to) continue;
      const ip = virtualIp(lab, to);
      const r = await untilStopped(pingUntilClean(lab, from, ip, 3, { count: 3, intervalS: 0.2, waitS: 2 }));
      ok &&= r.transmitted > 0 && r.lost === 0;
      log(`  ${from} -> ${to} (${ip}): ${r.summary}`);
    }
  }
  return ok;
}

/** Prints the status table every REFRESH_MS (once with --once), redrawing it in place on a terminal. */
async function liveTable(lab: Lab, overlay: Overlay): Promise<void> {
  const redraw = process.stdout.isTTY && !options.once;
  let drawn = 0;
  for (;;) {
    const table = renderStatusTable(await untilStopped(statusRows(lab, overlay)));
    const text = `status at ${new Date().toTimeString().slice(0, 8)}${options.once ? "" : " (Ctrl-C to stop)"}\n${table}`;
    // Cursor up over the previous table and clear to the end, so the ping lines above stay visible.
    if (redraw && drawn > 0) process.stdout.write(`\x1b[${drawn}F\x1b[J`);
    log(text);
    drawn = text.split("\n").length;
    if (options.once) return;
    await untilStopped(sleep(REFRESH_MS));
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error("demo: needs root (it creates network namespaces and TUN devices); try sudo npm run demo");
    return 1;
  }
  let ok = true;
  let lab: Lab | undefined;
  let overlay: Overlay | undefined;
  try {
    lab = await Lab.create({ hosts: options.hosts });
    log(`lab: ${options.hosts} hosts in namespaces ${lab.nsPrefix}*, underlay ${UNDERLAY_PREFIX}.0/24`);
    overlay = await untilStopped(
      startOverlay(lab, { network: "demo", ...(options.webrtc ? { webrtc: options.webrtc } : {}) }),
    );
    log(`signaling: ${overlay.signaling.url}`);
    for (const a of overlay.agents) log(`agent ${a.host}: ${a.options.ip}/16 (${options.webrtc ?? "default WebRTC"})`);
    log(`waiting up to ${UP_TIMEOUT_MS / 1000} s for every agent to see all peers up...`);
    try {
      await untilStopped(waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS));
      log("all links up");
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      ok = false;
      log(`not all links came up: ${(e as Error).message}`);
    }
    log("ping, each ordered pair:");
    ok = (await pingRound(lab, lab.hosts)) && ok;
    await liveTable(lab, overlay);
  } catch (e) {
    if (!(e instanceof Interrupted)) {
      ok = false;
      console.error(`demo: ${e instanceof LabError ? e.message : ((e as Error).stack ?? String(e))}`);
    }
  } finally {
    if (overlay) {
      log("stopping agents...");
      for (const [host, exit] of await stopOverlay(overlay)) {
        if (exit.code === 0) continue;
        ok = false;
        log(`  ${host} agent exited ${exit.code ?? exit.signal} (expected 0)`);
      }
    }
    if (lab) {
      try {
        await lab.destroy();
        log("lab removed, nothing left");
      } catch (e) {
        ok = false;
        console.error(`demo: ${(e as Error).message}`);
      }
    }
  }
  // Ctrl-C in the live view is the normal way out of the interactive demo, not a failure.
  return ok || (stopRequested && !options.once) ? 0 : 1;
}

process.exit(await main());
