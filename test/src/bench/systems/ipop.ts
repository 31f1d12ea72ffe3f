/**
 * IPOP itself: a signaling server in the lab's `sig` namespace and `ipop up` on h1 and h2 with one of
 * the WebRTC backends. Setting up also times the cold start (both agents started at once, until the
 * first ping reply); {@link RunningSystem.linkSetup} times re-linking after an agent restart.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BenchError, codedMessage } from "../../errors.js";
import {
  type AgentOptions,
  agentArgv,
  hostCredentials,
  type SignalingServer,
  startSignaling,
  virtualIp,
  type WebRtcBackend,
} from "../../lab/agents.js";
import type { Lab } from "../../lab/netns.js";
import { AGENT_CLI } from "../../lab/paths.js";
import { LabPki } from "../../lab/pki.js";
import type { LabProcess } from "../../lab/process.js";
import { firstReplyAt } from "../rtt.js";
import { daemonPids, stopDaemons } from "./daemons.js";
import { type LinkUpEntry, linkUpBefore, linkUpEntries } from "./ipop-log.js";
import { waitForPath } from "./path.js";
import type { BenchSystem, LinkSetupSample, RunningSystem, SetupContext } from "./system.js";

/** How long a cold start or a re-link may take before the run counts as failed. */
const UP_TIMEOUT_MS = 60_000;
/**
 * How long one restart may take to carry a ping again. Shorter than a cold start's limit: five restarts
 * per backend must not be able to take half an hour, and 30 s still covers a link that only comes up
 * after the core's 20 s setup timeout abandoned a first attempt.
 */
const RELINK_TIMEOUT_MS = 30_000;
/** How long to wait for the "link up" log line after the ping that proved the link was up. */
const LOG_GRACE_MS = 2_000;

/** Starts `ipop up` on `host`; with a profile directory, under `node --cpu-prof`. */
function spawnAgent(lab: Lab, host: string, options: AgentOptions, ctx: SetupContext, tag: string): LabProcess {
  const argv = agentArgv(options);
  if (ctx.cpuProfDir) {
    // NODE_OPTIONS may not carry --cpu-prof, so the flags go with node's own, before the script.
    const dir = join(ctx.cpuProfDir, `${options.webrtc}-${tag}-${host}`);
    mkdirSync(dir, { recursive: true });
    argv.splice(argv.indexOf(AGENT_CLI), 0, "--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  return lab.spawn(host, argv, { label: `${host} agent` });
}

/** Rejects when any of `procs` exits before `work` settles, so a crashed agent fails fast with its output. */
async function unlessExited<T>(work: Promise<T>, procs: readonly LabProcess[]): Promise<T> {
  const exits = procs.map((p) =>
    p.exited.then((e) => {
      throw new BenchError(
        "BENCH_SETUP_FAILED",
        `${p.label} exited (${e.code ?? e.signal}) while the bench waited for it:\n${p.tail()}`,
      );
    }),
  );
  return Promise.race([work, ...exits]);
}

/** What h1's log says about links to h2 between a start and the first ping reply. */
interface LinkLog {
  /** The link that carried the first reply. */
  carrying: LinkUpEntry | undefined;
  /** The first link logged up, which may have been replaced before any traffic. */
  first: LinkUpEntry | undefined;
  /** How many links came up in between (more than one: churn). */
  count: number;
}

/** Reads `proc`'s "link up" lines for `peerIp` in [since, firstReply], waiting briefly for the log to catch up. */
async function linkLog(proc: LabProcess, peerIp: string, since: number, firstReply: number): Promise<LinkLog> {
  // pino stamps ms; the reply is stamped in us by ping: allow for the rounding.
  const until = firstReply + 1;
  const deadline = Date.now() + LOG_GRACE_MS;
  for (;;) {
    const carrying = linkUpBefore(proc.lines("stderr"), peerIp, since, until);
    if (carrying || Date.now() > deadline) {
      const all = linkUpEntries(proc.lines("stderr")).filter(
        (e) => e.peerIp === peerIp && e.time >= since && e.time <= until,
      );
      return { carrying, first: all[0], count: all.length };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** IPOP with WebRTC backend `backend`. */
export function ipopSystem(backend: WebRtcBackend): BenchSystem {
  return {
    name: `ipop-${backend}`,
    description: `IPOP agent (Node ${process.versions.node}), --webrtc ${backend}`,
    needs: {},
    async setup(lab, ctx): Promise<RunningSystem> {
      const [h1, h2] = lab.hosts as [string, string];
      let signaling: SignalingServer | undefined;
      const agents = new Map<string, LabProcess>();
      const pki = await LabPki.create("bench", "ipop-bench-pki-");
      const credentials = new Map<string, AgentOptions["credentials"]>();
      const options = (signalUrl: string, host: string): AgentOptions => ({
        signalUrl,
        network: "bench",
        ip: virtualIp(lab, host),
        credentials: credentials.get(host)!,
        webrtc: backend,
      });
      const stopAll = async () => {
        await stopDaemons([...agents.values()], 10_000);
        await signaling?.proc.stop("SIGTERM", 5_000);
        pki.remove();
      };
      const timings: Record<string, number> = {};
      try {
        for (const host of [h1, h2]) credentials.set(host, await hostCredentials(lab, pki, host));
        signaling = await startSignaling(lab);
        const url = signaling.url;
        const t0 = Date.now();
        for (const host of [h1, h2]) agents.set(host, spawnAgent(lab, host, options(url, host), ctx, `t${t0}`));
        const procs = [...agents.values()];
        const firstReply = await unlessExited(firstReplyAt(lab, h1, virtualIp(lab, h2), UP_TIMEOUT_MS), procs);
        timings.upToFirstPingMs = firstReply - t0;
        const links = await linkLog(agents.get(h1)!, virtualIp(lab, h2), t0, firstReply);
        if (links.carrying) timings.upToLinkUpMs = links.carrying.time - t0;
        if (links.carrying?.setupMs !== undefined) timings.coreSetupMs = links.carrying.setupMs;
        timings.linksUp = links.count;
        await waitForPath(lab, `ipop-${backend}`, h1, virtualIp(lab, h2));
      } catch (e) {
        await stopAll();
        throw e;
      }
      const url = signaling.url;
      return {
        addressOf: (host) => virtualIp(lab, host),
        pids: () => daemonPids([...agents.values()]),
        setupTimings: timings,
        async linkSetup(samples) {
          const out: LinkSetupSample[] = [];
          const failures: string[] = [];
          for (let i = 1; i <= samples; i++) {
            await agents.get(h2)!.stop("SIGTERM", 10_000);
            const t0 = Date.now();
            const proc = spawnAgent(lab, h2, options(url, h2), ctx, `t${t0}`);
            agents.set(h2, proc);
            try {
              const firstReply = await unlessExited(firstReplyAt(lab, h1, virtualIp(lab, h2), RELINK_TIMEOUT_MS), [
                proc,
                agents.get(h1)!,
              ]);
              const links = await linkLog(agents.get(h1)!, virtualIp(lab, h2), t0, firstReply);
              out.push({
                restartToFirstPingMs: firstReply - t0,
                restartToLinkUpMs: links.carrying ? links.carrying.time - t0 : undefined,
                restartToFirstLinkUpMs: links.first ? links.first.time - t0 : undefined,
                linksUp: links.count,
                coreSetupMs: links.carrying?.setupMs,
              });
            } catch (e) {
              failures.push(`restart ${i}/${samples}: ${codedMessage(e)}`);
              ctx.log(`  restart ${i} failed: ${codedMessage(e).split("\n")[0]}`);
            }
          }
          return { samples: out, failures };
        },
        teardown: stopAll,
      };
    },
  };
}
