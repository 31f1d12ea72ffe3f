import { describe, expect, it } from "vitest";
import {
  breakdown,
  formatBreakdown,
  OUTSIDE_STAGE,
  parsePingBySeq,
  parseTrace,
  STAGES,
  type TraceStamp,
} from "./rtt-stages.js";

/** The sender's and the peer's stamps of one ping, each stage `stepNs` long, starting at `t0`. */
function pingStamps(seq: number, t0: number, stepNs: number, id = 77): { sender: TraceStamp[]; peer: TraceStamp[] } {
  const sender: TraceStamp[] = [];
  const peer: TraceStamp[] = [];
  const put = (side: string, packet: string, point: string, ns: number) => {
    const stamp = { point, type: packet === "request" ? 8 : 0, id, seq, ns };
    (side === "sender" ? sender : peer).push(stamp);
  };
  let t = t0;
  put(STAGES[0]!.from[0], STAGES[0]!.from[1], STAGES[0]!.from[2], t);
  for (const stage of STAGES) {
    t += stepNs;
    put(stage.to[0], stage.to[1], stage.to[2], t);
  }
  return { sender, peer };
}

describe("parseTrace and parsePingBySeq", () => {
  it("read the trace lines and ping's replies, skipping what does not parse", () => {
    expect(parseTrace("tun-read 8 77 3 123456789\njunk\nlink-send 0 77 3 5\n")).toEqual([
      { point: "tun-read", type: 8, id: 77, seq: 3, ns: 123456789 },
      { point: "link-send", type: 0, id: 77, seq: 3, ns: 5 },
    ]);
    const ping =
      "64 bytes from 10.88.0.2: icmp_seq=1 ttl=64 time=0.912 ms\n64 bytes from 10.88.0.2: icmp_seq=3 ttl=64 time=1.20 ms\n";
    expect([...parsePingBySeq(ping)]).toEqual([
      [1, 0.912],
      [3, 1.2],
    ]);
  });
});

describe("breakdown", () => {
  it("splits each round trip into the stages, and what ping saw beyond them into the outside stage", () => {
    const a: TraceStamp[] = [];
    const b: TraceStamp[] = [];
    const rtts = new Map<number, number>();
    for (let seq = 1; seq <= 10; seq++) {
      const { sender, peer } = pingStamps(seq, seq * 1e7, 10_000 * seq);
      a.push(...sender);
      b.push(...peer);
      // The stages cover STAGES.length * 10 us * seq; ping saw 0.1 ms more.
      rtts.set(seq, (STAGES.length * 10_000 * seq) / 1e6 + 0.1);
    }
    // The peer's trace comes first: the sender is found by who read the requests from its TUN.
    const result = breakdown(b, a, rtts);
    expect(result.traced).toBe(10);
    expect(result.stages).toHaveLength(STAGES.length + 1);
    for (const stage of result.stages.slice(0, STAGES.length)) expect(stage.meanMs).toBeCloseTo(0.055, 6);
    const outside = result.stages[STAGES.length]!;
    expect(outside.name).toBe(OUTSIDE_STAGE);
    expect(outside.meanMs).toBeCloseTo(0.1, 6);
    const shares = result.stages.reduce((sum, s) => sum + s.share, 0);
    expect(shares).toBeCloseTo(1, 6);
    expect(result.rtt.p99Ms).toBeCloseTo(rtts.get(10)!, 6);
    expect(formatBreakdown(result)).toContain("traced end to end 10");
  });

  it("leaves out a ping with a stamp missing, and stamps of another ping identifier", () => {
    const one = pingStamps(1, 0, 1000);
    const two = pingStamps(2, 1e7, 1000);
    const other = pingStamps(1, 2e7, 999_000, 5);
    const peer = [...one.peer, ...two.peer.filter((s) => s.point !== "deliver"), ...other.peer];
    const result = breakdown(
      [...one.sender, ...two.sender, ...other.sender.slice(0, 1)],
      peer,
      new Map([
        [1, 1],
        [2, 1],
      ]),
    );
    expect(result.replies).toBe(2);
    expect(result.traced).toBe(1);
    expect(result.stages[0]!.meanMs).toBeCloseTo(0.001, 6);
  });
});
