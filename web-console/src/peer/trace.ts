import { parseIpv4Address } from "@ipop/shared";
import { ConsoleError, type TraceHop } from "../api.js";
import type { PagePeer } from "./page-peer.js";

/**
 * An overlay traceroute: the core's trace (every node a routed message passes adds itself) gives
 * the path; an overlay ping to each hop gives its round trip from this page.
 */
export async function overlayTrace(
  peer: PagePeer,
  ip: string,
  address: number,
  timeoutMs: number,
): Promise<TraceHop[]> {
  const trace = await peer.request((at) => peer.node.traceRoute(at, address), "trace-result");
  if (trace.kind !== "trace-result" || !trace.complete)
    throw new ConsoleError("timeout", `the trace towards ${ip} got no answer`);
  const hops = trace.path.slice(1);
  if (!trace.owner) {
    const last = hops.at(-1) ?? peer.self;
    throw new ConsoleError(
      "unreachable",
      `${ip}: no node owns that address (the trace ended at ${last.name}, ${last.ip})`,
    );
  }
  const result: TraceHop[] = [];
  for (const [index, hop] of hops.entries()) {
    const answer = await peer.request((at) => peer.node.ping(at, parseIpv4Address(hop.ip) ?? 0), "ping-result");
    const rttMs = answer.kind === "ping-result" && answer.rttMs !== null ? Math.round(answer.rttMs * 1000) / 1000 : -1;
    if (rttMs < 0)
      throw new ConsoleError("timeout", `hop ${index + 1} (${hop.name}) did not answer within ${timeoutMs} ms`);
    result.push({ hop: index + 1, name: hop.name, ip: hop.ip, rttMs });
  }
  return result;
}
