/**
 * Two agents in a NAT lab, on a network of their own (so several pairs can share one lab and one
 * signaling server without linking across pairs): start them, wait for their link, ping both ways,
 * and read how the link goes from each side's `ipop status`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Agent,
  agentStatus,
  hostCredentials,
  startAgent,
  virtualIp,
  type WebRtcBackend,
  waitForPeersUp,
} from "../agents.js";
import type { Lab } from "../netns.js";
import { pingUntilClean } from "../ping.js";
import { LabPki } from "../pki.js";
import type { AgentStatus } from "../status.js";
import type { Coturn } from "./coturn.js";
import type { NatLab } from "./nat-lab.js";
import type { NatKind } from "./nat-rules.js";

/** How a link goes, from the candidate types of its selected pair. */
export type PathKind = "host" | "srflx" | "prflx" | "relay" | "unknown";

/** What one pair did. */
export interface PairResult {
  readonly hosts: readonly [string, string];
  readonly kinds: readonly [NatKind, NatKind];
  readonly sameSite: boolean;
  /** Each side's local candidate type of the selected pair. */
  readonly candidates: readonly [PathKind, PathKind];
  /** Each side's `pathReason` from `ipop status` (why relayed; null when direct). */
  readonly reasons: readonly [string | null, string | null];
  /** Each side's role in the link (the offerer is ICE's controlling agent, which nominates). */
  readonly roles: readonly [string | null, string | null];
  /** "relay" when either side relays through TURN, else "direct". */
  readonly path: "direct" | "relay";
  /** From starting the second agent until the first saw the link up. */
  readonly setupMs: number;
  /** Ping over the overlay got every reply a->b and b->a (after retries while the link settles). */
  readonly pinged: readonly [boolean, boolean];
}

/** Options of {@link runPair}. */
export interface PairOptions {
  readonly network: string;
  readonly signalUrl: string;
  /** STUN (and TURN, when `turn` is given) from this coturn. */
  readonly coturn: Coturn;
  /**
   * Where the agents get STUN/TURN: `file` (default): `--ice-server` flags and TURN credentials in a
   * `--turn-credentials-file`; `signal`: no flags, the signaling server hands them out (it must run
   * with `--turn-url`); `stun`: STUN only, no TURN.
   */
  readonly ice?: "file" | "signal" | "stun";
  readonly webrtc?: WebRtcBackend;
  readonly upTimeoutMs?: number;
  /** More checks while both agents still run (after the link and the pings). */
  readonly whileUp?: (result: PairResult) => Promise<void>;
}

/** Runs one pair to the end (agents stopped again, PKI removed), whatever happens. */
export async function runPair(nat: NatLab, a: string, b: string, options: PairOptions): Promise<PairResult> {
  const lab = nat.lab;
  const pki = await LabPki.create(options.network);
  const agents: Agent[] = [];
  try {
    const ice = options.ice ?? "file";
    const iceArgs = ice === "signal" ? [] : ["--ice-server", options.coturn.stunUrls[0]!];
    if (ice === "file") {
      const file = join(pki.dir, "turn.json");
      writeFileSync(file, JSON.stringify(options.coturn.credentials(options.network)), { mode: 0o600 });
      iceArgs.push("--ice-server", options.coturn.turnUrl, "--turn-credentials-file", file);
    }
    const start = async (host: string) =>
      startAgent(lab, host, {
        signalUrl: options.signalUrl,
        network: options.network,
        ip: virtualIp(lab, host),
        credentials: await hostCredentials(lab, pki, host),
        ...(options.webrtc ? { webrtc: options.webrtc } : {}),
        extraArgs: [...iceArgs, "--dns", "off"],
      });
    agents.push(await start(a));
    const started = Date.now();
    agents.push(await start(b));
    const timeout = options.upTimeoutMs ?? 60_000;
    const [statusA, statusB] = await Promise.all([
      waitForPeersUp(lab, a, [virtualIp(lab, b)], timeout, { proc: agents[0]!.proc }),
      waitForPeersUp(lab, b, [virtualIp(lab, a)], timeout, { proc: agents[1]!.proc }),
    ]);
    const setupMs = Date.now() - started;
    const pingOpts = { count: 3, intervalS: 0.2, waitS: 2 };
    const ab = await pingUntilClean(lab, a, virtualIp(lab, b), 5, pingOpts);
    const ba = await pingUntilClean(lab, b, virtualIp(lab, a), 5, pingOpts);
    const [settledA, settledB] = await settledPath(lab, a, b, [statusA, statusB]);
    const candidates = [candidate(settledA, virtualIp(lab, b)), candidate(settledB, virtualIp(lab, a))] as const;
    const reason = (status: AgentStatus, peerIp: string) =>
      status.peers.find((p) => p.ip === peerIp)?.pathReason ?? null;
    const reasons = [reason(settledA, virtualIp(lab, b)), reason(settledB, virtualIp(lab, a))] as const;
    const role = (status: AgentStatus, peerIp: string) => status.peers.find((p) => p.ip === peerIp)?.role ?? null;
    const roles = [role(settledA, virtualIp(lab, b)), role(settledB, virtualIp(lab, a))] as const;
    const siteA = nat.siteOf(a);
    const siteB = nat.siteOf(b);
    const result: PairResult = {
      hosts: [a, b],
      kinds: [siteA.kind, siteB.kind],
      sameSite: siteA === siteB,
      candidates,
      reasons,
      roles,
      path: candidates.includes("relay") ? "relay" : "direct",
      setupMs,
      pinged: [ab.transmitted > 0 && ab.lost === 0, ba.transmitted > 0 && ba.lost === 0],
    };
    await options.whileUp?.(result);
    return result;
  } finally {
    await Promise.all(agents.map((agent) => agent.proc.stop("SIGTERM", 10_000)));
    pki.remove();
  }
}

/** How long the two sides get to agree on their path after the link is up and has carried pings. */
const PATH_SETTLE_MS = 10_000;

function candidate(status: AgentStatus, peerIp: string): PathKind {
  return (status.peers.find((p) => p.ip === peerIp)?.candidateType as PathKind | undefined) ?? "unknown";
}

/**
 * Both sides' status once they agree whether the link is relayed. ICE may nominate a relayed pair
 * first and switch to a direct one when its checks finish, and the two agents see that switch at
 * slightly different moments; the status read when the link came up can catch one side before it.
 * Returns the last statuses read even if they never agree, so the caller's check shows both sides.
 */
async function settledPath(
  lab: Lab,
  a: string,
  b: string,
  initial: readonly [AgentStatus, AgentStatus],
): Promise<[AgentStatus, AgentStatus]> {
  const agree = ([sa, sb]: readonly [AgentStatus, AgentStatus]) =>
    (candidate(sa, virtualIp(lab, b)) === "relay") === (candidate(sb, virtualIp(lab, a)) === "relay");
  let statuses: [AgentStatus, AgentStatus] = [initial[0], initial[1]];
  const deadline = Date.now() + PATH_SETTLE_MS;
  while (!agree(statuses) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    statuses = await Promise.all([agentStatus(lab, a), agentStatus(lab, b)]);
  }
  return statuses;
}
