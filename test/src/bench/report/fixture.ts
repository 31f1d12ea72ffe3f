/**
 * A small made-up run for the report tests: the raw veth, wireguard-go and one IPOP backend, with one
 * failed measurement and one system that never came up.
 */
import type { RepSample } from "../measures.js";
import type { BenchRun } from "../results.js";

/** A sample with round numbers derived from `mbps`. */
export function sample(mbps: number, rttMs: number, daemons: number, errors: string[] = []): RepSample {
  const bytes = (mbps * 1e6 * 5) / 8;
  return {
    rtt: { sent: 200, received: 200, meanMs: rttMs, p99Ms: rttMs * 2 },
    tcp1: { bytes, seconds: 5, mbps, retransmits: 3 },
    tcp4: { bytes: bytes * 1.5, seconds: 5, mbps: mbps * 1.5, retransmits: 9 },
    tcpLoss: { bytes: bytes / 2, seconds: 5, mbps: mbps / 2, retransmits: 90 },
    // 2.5 * bytes moved = 2.5 * mbps * 5e6 / 8 bytes; 1 CPU second per Gbit for the daemons.
    tcpCpu: { daemonSec: (2.5 * mbps * 5e6) / 1e9, hostSec: (5 * mbps * 5e6) / 1e9 },
    udp64: { sent: 1000, received: 900, seconds: 5, pps: 180, loss: 0.1 },
    udp1400: { sent: 1000, received: 1000, seconds: 5, pps: 200, loss: 0 },
    daemons,
    peakRssKb: daemons > 0 ? 51200 : undefined,
    setupTimings: {},
    errors,
  };
}

/** The fixture run. */
export function fixtureRun(): BenchRun {
  return {
    startedAt: "2026-11-25T05:00:00.000Z",
    durationS: 600,
    settings: {
      reps: 3,
      seconds: 5,
      pings: 200,
      pingIntervalMs: 10,
      linkSamples: 2,
      udp64Pps: 200_000,
      udp1400Pps: 100_000,
      lossPermille: 10,
      mtu: 1400,
      quick: false,
    },
    machine: {
      cpus: 2,
      cpuModel: "Test CPU",
      kernel: "6.1",
      node: "20.0.0",
      memTotalMb: 4096,
      loadavg: { start: [0.5, 0.4, 0.3], end: [1.5, 1, 0.5] },
      packages: { iperf3: "3.12", nebula: null },
    },
    systems: [
      {
        name: "veth",
        description: "raw",
        samples: [sample(12000, 0.05, 0)],
        linkSetup: [],
        linkSetupFailures: [],
        errors: [],
      },
      {
        name: "wireguard-go",
        description: "wg",
        samples: [sample(800, 0.4, 2), sample(600, 0.6, 2), sample(700, 0.5, 2)],
        linkSetup: [],
        linkSetupFailures: [],
        errors: [],
      },
      {
        name: "ipop-ndc",
        description: "ipop <ndc> | pipes",
        samples: [
          {
            ...sample(200, 0.8, 2, ["udp 64 B at 200000 pkt/s: BENCH_TOOL_FAILED: iperf3 | broke"]),
            udp64: undefined,
            setupTimings: { upToFirstPingMs: 1500, coreSetupMs: 1000 },
          },
          { ...sample(100, 1.0, 2), setupTimings: { upToFirstPingMs: 1700, coreSetupMs: 1010 } },
        ],
        linkSetup: [
          {
            restartToFirstPingMs: 22000,
            restartToLinkUpMs: 21990,
            restartToFirstLinkUpMs: 1500,
            linksUp: 2,
            coreSetupMs: 15,
          },
          {
            restartToFirstPingMs: 1600,
            restartToLinkUpMs: 1590,
            restartToFirstLinkUpMs: 1590,
            linksUp: 1,
            coreSetupMs: 1005,
          },
        ],
        linkSetupFailures: ["restart 3/3: BENCH_TIMEOUT: no ping reply"],
        errors: [],
      },
      {
        name: "nebula",
        description: "nebula",
        samples: [],
        linkSetup: [],
        linkSetupFailures: [],
        errors: ["rep 1: BENCH_SETUP_FAILED: no"],
      },
    ],
    profiles: [],
  };
}
