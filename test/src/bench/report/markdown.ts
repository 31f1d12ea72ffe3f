/**
 * The Markdown report written next to bench.json and chart.svg.
 */
import type { UdpResult } from "../iperf.js";
import type { BenchRun } from "../results.js";
import type { BenchSummary, SystemSummary } from "../summary.js";
import { fixed, mbps, ms, percent, ratio } from "./format.js";
import { HEADERS, tableRows } from "./table.js";

/** A Markdown table. Pipes in cells are escaped so an error message cannot break the layout. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (c: string) => c.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(headers), line(headers.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

/** IPOP's numbers divided by wireguard-go's, one row per IPOP backend. */
function ratioRows(systems: readonly SystemSummary[]): string[][] {
  const wg = systems.find((s) => s.name === "wireguard-go");
  if (!wg) return [];
  return systems
    .filter((s) => s.name.startsWith("ipop-"))
    .map((s) => [
      s.name,
      ratio(s.tcpMbps, wg.tcpMbps),
      ratio(s.tcp4Mbps, wg.tcp4Mbps),
      ratio(s.tcpLossMbps, wg.tcpLossMbps),
      ratio(s.udp64Pps, wg.udp64Pps),
      ratio(s.udp1400Pps, wg.udp1400Pps),
      ratio(s.rttMs, wg.rttMs),
      ratio(s.cpuSecPerGbit, wg.cpuSecPerGbit),
      ratio(s.rssMb, wg.rssMb),
    ]);
}

/** "delivered / sent (loss)" of a UDP test, rates in packets per second. */
function udpCell(u: UdpResult | undefined): string {
  return u ? `${Math.round(u.pps)} / ${Math.round(u.sent / u.seconds)} (${percent(u.loss)})` : "-";
}

/** Every repetition's main numbers, so the spread behind each median is visible. */
function repRows(run: BenchRun): string[][] {
  return run.systems.flatMap((sys) =>
    sys.samples.map((s, i) => [
      `${sys.name} #${i + 1}`,
      mbps(s.tcp1?.mbps ?? null),
      mbps(s.tcp4?.mbps ?? null),
      mbps(s.tcpLoss?.mbps ?? null),
      udpCell(s.udp64),
      udpCell(s.udp1400),
      ms(s.rtt?.meanMs ?? null),
      ms(s.rtt?.p99Ms ?? null),
      s.tcp1?.retransmits === undefined ? "-" : String(s.tcp1.retransmits),
      s.tcpCpu ? fixed(s.tcpCpu.daemonSec, 2) : "-",
    ]),
  );
}

/** The report. */
export function renderMarkdown(summary: BenchSummary, run: BenchRun): string {
  const m = summary.machine;
  const st = summary.settings;
  const out: string[] = [
    `# IPOP benchmark, ${summary.startedAt}`,
    "",
    `Two network namespaces on one Linux bridge; every system carries traffic from h1 to h2. ` +
      `Medians of ${st.reps} repetition(s); methodology in docs/bench.md.`,
    "",
    `Machine: ${m.cpus} x ${m.cpuModel}, ${m.memTotalMb} MiB, Linux ${m.kernel}, Node ${m.node}. ` +
      `Load average (1/5/15 min) at start ${m.loadavg.start.map((v) => v.toFixed(2)).join(" / ")}, ` +
      `at end ${m.loadavg.end.map((v) => v.toFixed(2)).join(" / ")}. Run took ${Math.round(summary.durationS)} s.`,
    "",
    `Packages: ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v ?? "not installed"}`)
      .join(", ")}.`,
    "",
    `Settings: iperf3 tests of ${st.seconds} s; UDP offered at ${st.udp64Pps} pkt/s (64-byte packets) and ` +
      `${st.udp1400Pps} pkt/s (1400-byte packets); ${st.pings} pings ${st.pingIntervalMs} ms apart; ` +
      `tunnel MTU ${st.mtu}; ${st.linkSamples} agent restarts for IPOP link setup; the lossy TCP test drops ` +
      `${st.lossPermille / 10}% of the underlay's UDP packets at each host (nftables).`,
    "",
    "## Results",
    "",
    markdownTable(HEADERS, tableRows(summary)),
    "",
    "UDP sizes are IP packet sizes; loss is against packets sent. CPU s/Gbit counts the overlay daemons of both " +
      "hosts during the TCP tests; host CPU s/Gbit counts the whole machine (iperf3 and the kernel too).",
    "",
    "![TCP throughput and RTT per system](chart.svg)",
    "",
  ];
  const ratios = ratioRows(summary.systems);
  if (ratios.length > 0) {
    out.push(
      "## IPOP relative to wireguard-go",
      "",
      markdownTable(
        ["system", "TCP", "TCP x4", "TCP lossy", "UDP64 pkt/s", "UDP1400 pkt/s", "RTT", "CPU/Gbit", "RSS"],
        ratios,
      ),
      "",
      "Above 1x is higher: better for throughput and packet rates, worse for RTT, CPU and memory.",
      "",
    );
  }
  if (summary.ipop) {
    const rows = Object.entries(summary.ipop.backends).map(([b, t]) => [
      `ipop-${b}`,
      ms(t.upToFirstPingMs),
      ms(t.upToLinkUpMs),
      ms(t.upCoreSetupMs),
      ms(t.linkSetupMs),
      ms(t.linkFirstLinkUpMs),
      ms(t.linkSetupLinkUpMs),
      ms(t.linkCoreSetupMs),
      t.linkUpsMax === null ? "-" : String(t.linkUpsMax),
      `${t.linkSamples}${t.linkFailures > 0 ? ` (+${t.linkFailures} failed)` : ""}`,
    ]);
    out.push(
      "## IPOP start-up",
      "",
      markdownTable(
        [
          "system",
          "up -> first ping",
          "up -> link up",
          "core setup",
          "restart -> first ping",
          "restart -> first link up",
          "restart -> carrying link up",
          "core setup",
          "links per restart (max)",
          "restarts",
        ],
        rows,
      ),
      "",
      'All in ms, medians. "up": both agents started at once (signaling server already listening). "restart": ' +
        'h2\'s agent stopped with SIGTERM and started again. "link up" is when h1 logs a link to h2 up (its status ' +
        'shows it up); the "carrying" link is the one up when the first ping reply came back, which is not always ' +
        'the first one. "core setup" is the core\'s own figure for that link, from opening it to up (ICE, DTLS, ' +
        "data channels); the rest of a start is process start-up and joining the signaling server.",
      "",
    );
  }
  out.push(
    "## Every repetition",
    "",
    markdownTable(
      [
        "run",
        "TCP Mbit/s",
        "TCP x4 Mbit/s",
        "TCP lossy Mbit/s",
        "UDP64 delivered / sent pkt/s (loss)",
        "UDP1400 delivered / sent pkt/s (loss)",
        "RTT ms",
        "p99 ms",
        "TCP retransmits",
        "daemon CPU s",
      ],
      repRows(run),
    ),
    "",
  );
  for (const p of run.profiles) {
    out.push(
      `## CPU profile ${p.file}`,
      "",
      `${Math.round(p.totalMs)} ms profiled, ${Math.round(p.idleMs)} ms idle. Self time of the main thread:`,
      "",
      markdownTable(
        ["package", "self ms", "share"],
        p.packages.map((e) => [e.name, e.selfMs.toFixed(0), percent(e.share)]),
      ),
      "",
      markdownTable(
        ["function", "self ms", "share"],
        p.functions.map((e) => [e.name, e.selfMs.toFixed(0), percent(e.share)]),
      ),
      "",
    );
  }
  const errors = summary.systems.flatMap((s) => s.errors.map((e) => `- ${s.name}: ${e.split("\n")[0]}`));
  if (errors.length > 0) out.push("## Errors", "", ...errors, "");
  return out.join("\n");
}
