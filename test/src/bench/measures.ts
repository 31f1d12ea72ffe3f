/**
 * One repetition of every measurement on one running system, from h1 to h2. Order matters: ping first,
 * on the idle path; then TCP; UDP overload last, so the queues it fills cannot disturb the rest.
 * Each step that fails is recorded and skipped, so one broken measurement costs one number.
 */

import { codedMessage } from "../errors.js";
import type { Lab } from "../lab/netns.js";
import { type IperfTest, parseIperfTcp, parseIperfUdp, runIperf, type TcpResult, type UdpResult } from "./iperf.js";
import { cpuSeconds, hostBusySeconds, peakRssKb } from "./procfs.js";
import { measureRtt, type RttResult } from "./rtt.js";
import type { RunningSystem } from "./systems/system.js";
import { addUnderlayLoss } from "./underlay-loss.js";

/** How hard and how long to measure. */
export interface MeasureOptions {
  seconds: number;
  pings: number;
  udp64Pps: number;
  udp1400Pps: number;
  /** Underlay loss for the lossy TCP test, per mille of UDP packets; 0 skips that test. */
  lossPermille: number;
  log: (message: string) => void;
}

/** CPU time spent while a TCP test ran. */
export interface CpuUse {
  /** User + system seconds of the system's daemons (both hosts). */
  daemonSec: number;
  /** Busy seconds of the whole machine (both cores), including iperf3 and softirq work. */
  hostSec: number;
}

/** Everything one repetition measured on one system. */
export interface RepSample {
  rtt: RttResult | undefined;
  tcp1: TcpResult | undefined;
  tcp4: TcpResult | undefined;
  /** One TCP stream while the underlay drops `lossPermille` of its UDP packets. */
  tcpLoss: TcpResult | undefined;
  /** CPU used during tcp1 and tcp4 together. */
  tcpCpu: CpuUse | undefined;
  udp64: UdpResult | undefined;
  udp1400: UdpResult | undefined;
  /** How many daemon processes carried the traffic (0: the kernel alone). */
  daemons: number;
  /** Largest VmHWM among the daemons, kB; undefined without daemons. */
  peakRssKb: number | undefined;
  /** Timings the system measured while starting (IPOP). */
  setupTimings: Record<string, number>;
  errors: string[];
}

/** CPU seconds used by the daemons (read now). */
function daemonCpu(system: RunningSystem): number {
  return system.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Measures `system` once. */
export async function measureOnce(lab: Lab, system: RunningSystem, o: MeasureOptions): Promise<RepSample> {
  const [h1, h2] = lab.hosts as [string, string];
  const dst = system.addressOf(h2);
  const errors: string[] = [];
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    o.log(`  ${what}`);
    try {
      return await fn();
    } catch (e) {
      const msg = `${what}: ${codedMessage(e)}`;
      errors.push(msg);
      o.log(`  failed: ${msg.split("\n")[0]}`);
      return undefined;
    }
  };
  const iperf = (test: IperfTest) => runIperf(lab, h1, h2, dst, test, o.seconds);

  const rtt = await step(`ping x${o.pings}`, () => measureRtt(lab, h1, dst, o.pings, 0.01));
  // CPU is read right around each TCP run (not across both), so iperf3's start-up between them is not
  // charged to the system, and a failed run charges nothing.
  let tcpCpu: CpuUse | undefined;
  const tcp = (streams: number) =>
    step(`tcp ${streams} stream${streams > 1 ? "s" : ""}`, async () => {
      const before = { daemon: daemonCpu(system), host: hostBusySeconds() };
      const result = parseIperfTcp(await iperf({ kind: "tcp", streams }));
      tcpCpu = {
        daemonSec: (tcpCpu?.daemonSec ?? 0) + daemonCpu(system) - before.daemon,
        hostSec: (tcpCpu?.hostSec ?? 0) + hostBusySeconds() - before.host,
      };
      return result;
    });
  const tcp1 = await tcp(1);
  const tcp4 = await tcp(4);
  // Not part of the CPU figures: loss makes every system do different work per Gbit.
  const tcpLoss =
    o.lossPermille > 0
      ? await step(`tcp 1 stream, ${o.lossPermille / 10}% underlay loss`, async () => {
          const removeLoss = await addUnderlayLoss(lab, o.lossPermille);
          try {
            return parseIperfTcp(await iperf({ kind: "tcp", streams: 1 }));
          } finally {
            await removeLoss();
          }
        })
      : undefined;
  const udp = (packetBytes: number, pps: number) =>
    step(`udp ${packetBytes} B at ${pps} pkt/s`, async () =>
      parseIperfUdp(await iperf({ kind: "udp", packetBytes, pps })),
    );
  const udp64 = await udp(64, o.udp64Pps);
  const udp1400 = await udp(1400, o.udp1400Pps);
  const pids = system.pids();
  const rss = pids.map(peakRssKb).filter((k): k is number => k !== undefined);
  return {
    rtt,
    tcp1,
    tcp4,
    tcpLoss,
    tcpCpu,
    udp64,
    udp1400,
    daemons: pids.length,
    peakRssKb: rss.length > 0 ? Math.max(...rss) : undefined,
    setupTimings: { ...system.setupTimings },
    errors,
  };
}
