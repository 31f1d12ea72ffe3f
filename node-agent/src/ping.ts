/**
 * `ipop ping`: overlay pings, one control request each, and what the CLI prints about them. The
 * agent answers one ping per request (`Agent.ping`); the loop, the pacing and the summary live here
 * so they can be tested without an agent.
 */

/** One ping's answer as the agent reports it over the control socket. */
export interface PingReply {
  /** The pinged virtual address (a name was resolved by the agent). */
  readonly ip: string;
  /** The node's name as its certificate has it, when known. */
  readonly name: string | null;
  /** An answer came back before the core's ping timeout. */
  readonly answered: boolean;
  /** The answering node owns the address; false when nobody does and the closest node answered. */
  readonly owner: boolean;
  /** The ping went over a direct link, not through other nodes. */
  readonly direct: boolean;
  /** Round trip in milliseconds; null without an answer. */
  readonly rttMs: number | null;
  /** The nodes the ping passed, from the pinging node to the one that answered. */
  readonly path: ReadonlyArray<{ readonly name: string; readonly ip: string }>;
}

/**
 * The answer to `ipop ping --json`. Stable: fields are only ever added, and `version` changes if
 * one ever has to change meaning (docs/status.md).
 */
export interface PingReport {
  readonly version: 1;
  /** What was asked for: a virtual IP or a node name. */
  readonly target: string;
  readonly ip: string | null;
  readonly name: string | null;
  readonly sent: number;
  /** Answers from the node that owns the address. */
  readonly received: number;
  /** The last answer came over a direct link. */
  readonly direct: boolean;
  readonly rttMs: { readonly min: number; readonly avg: number; readonly max: number } | null;
  readonly replies: ReadonlyArray<{ readonly seq: number } & Omit<PingReply, "ip" | "name">>;
}

export interface PingPlan {
  /** Pings to send; with `untilDirect`, the most to send before giving up. */
  readonly count: number;
  /** Stop at the first answer that came over a direct link. */
  readonly untilDirect: boolean;
  /** Pause between pings (after an answer or a loss). */
  readonly intervalMs: number;
}

/** Pings once a second by default, four times. */
export const DEFAULT_PING_COUNT = 4;
export const DEFAULT_PING_INTERVAL_MS = 1_000;
/**
 * `--until-direct` pings five times a second, up to 50 times: ten pings within the core's 5 s
 * on-demand window make a conversation worth a direct link, which WebRTC then sets up in well under
 * the remaining 8 s on a LAN (`tailscale ping` keeps going the same way until its path is direct).
 */
export const UNTIL_DIRECT_COUNT = 50;
export const UNTIL_DIRECT_INTERVAL_MS = 200;

/**
 * Sends `plan.count` pings through `send`, calling `onReply` with each answer as it comes, and
 * returns the report. Stops early on a direct answer with `untilDirect`.
 */
export async function runPings(
  target: string,
  plan: PingPlan,
  send: () => Promise<PingReply>,
  onReply: (seq: number, reply: PingReply) => void,
  sleep: (ms: number) => Promise<void>,
): Promise<PingReport> {
  const replies: Array<{ seq: number } & PingReply> = [];
  for (let seq = 1; seq <= plan.count; seq++) {
    if (seq > 1) await sleep(plan.intervalMs);
    const reply = await send();
    replies.push({ seq, ...reply });
    onReply(seq, reply);
    if (plan.untilDirect && reply.answered && reply.owner && reply.direct) break;
  }
  return report(target, replies);
}

function report(target: string, replies: ReadonlyArray<{ seq: number } & PingReply>): PingReport {
  const owned = replies.filter((r) => r.answered && r.owner);
  const rtts = owned.map((r) => r.rttMs ?? 0);
  const last = replies.at(-1);
  return {
    version: 1,
    target,
    ip: last?.ip ?? null,
    name: [...replies].reverse().find((r) => r.name !== null)?.name ?? null,
    sent: replies.length,
    received: owned.length,
    direct: last?.answered === true && last.owner && last.direct,
    rttMs:
      rtts.length === 0
        ? null
        : {
            min: Math.min(...rtts),
            avg: Math.round((rtts.reduce((a, b) => a + b, 0) / rtts.length) * 1000) / 1000,
            max: Math.max(...rtts),
          },
    replies: replies.map(({ ip: _ip, name: _name, ...rest }) => rest),
  };
}

/** Whether `ipop ping` succeeded: an answer from the owner; with `untilDirect`, a direct one. */
export function pingSucceeded(report: PingReport, untilDirect: boolean): boolean {
  return untilDirect ? report.direct : report.received > 0;
}

function who(name: string | null, ip: string): string {
  return name === null ? ip : `${name} (${ip})`;
}

function ms(value: number): string {
  return value < 1 ? value.toFixed(2) : value.toFixed(1);
}

/**
 * One line per ping: `reply from h7 (10.88.0.7) via h3 -> h7: 1.8 ms`, `... direct: 0.9 ms`, or
 * why there was no reply.
 */
export function formatPingReply(seq: number, reply: PingReply): string {
  if (!reply.answered) return `no reply from ${who(reply.name, reply.ip)} (seq ${seq}): timed out`;
  const last = reply.path.at(-1);
  if (!reply.owner) {
    const closest = last === undefined ? "" : `; the closest node, ${who(last.name, last.ip)}, answered`;
    return `no node owns ${reply.ip} (seq ${seq})${closest}`;
  }
  const rtt = `${ms(reply.rttMs ?? 0)} ms`;
  if (reply.path.length <= 1) return `reply from ${who(reply.name, reply.ip)} (this node): ${rtt}`;
  if (reply.direct) return `reply from ${who(reply.name, reply.ip)} direct: ${rtt}`;
  const via = reply.path
    .slice(1)
    .map((m) => m.name)
    .join(" -> ");
  return `reply from ${who(reply.name, reply.ip)} via ${via}: ${rtt}`;
}

/** The closing line: counts, loss, RTT and whether the last reply went direct. */
export function formatPingSummary(r: PingReport, untilDirect: boolean): string {
  const lost = r.sent === 0 ? 0 : Math.round(((r.sent - r.received) / r.sent) * 100);
  const rtt = r.rttMs === null ? "" : `, rtt min/avg/max ${ms(r.rttMs.min)}/${ms(r.rttMs.avg)}/${ms(r.rttMs.max)} ms`;
  const path = r.received === 0 ? "" : r.direct ? ", direct link" : ", through other nodes";
  const line = `--- ${r.ip === null ? r.target : who(r.name, r.ip)}: ${r.sent} sent, ${r.received} received, ${lost}% lost${rtt}${path}`;
  if (untilDirect && !r.direct) return `${line}\nno direct link after ${r.sent} pings`;
  return line;
}
