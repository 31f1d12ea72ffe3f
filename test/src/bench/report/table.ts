/**
 * The results as rows and columns, rendered as a plain text table for the terminal and reused by the
 * Markdown report.
 */
import type { BenchSummary } from "../summary.js";
import { fixed, kpps, mbps, ms, percent } from "./format.js";

/** Column headers of the results table. */
export const HEADERS = [
  "system",
  "TCP Mbit/s",
  "TCP x4 Mbit/s",
  "TCP lossy Mbit/s",
  "UDP64 pkt/s",
  "UDP64 loss",
  "UDP1400 pkt/s",
  "UDP1400 loss",
  "RTT ms",
  "RTT p99 ms",
  "CPU s/Gbit",
  "host CPU s/Gbit",
  "RSS MiB",
] as const;

/** One row of formatted cells per system, in {@link HEADERS} order. */
export function tableRows(summary: BenchSummary): string[][] {
  return summary.systems.map((s) => [
    s.name,
    mbps(s.tcpMbps),
    mbps(s.tcp4Mbps),
    mbps(s.tcpLossMbps),
    kpps(s.udp64Pps),
    percent(s.udp64Loss),
    kpps(s.udp1400Pps),
    percent(s.udp1400Loss),
    ms(s.rttMs),
    ms(s.rttP99Ms),
    fixed(s.cpuSecPerGbit, 2),
    fixed(s.hostCpuSecPerGbit, 2),
    fixed(s.rssMb, 1),
  ]);
}

/** A text table: first column left-aligned, numbers right-aligned, columns two spaces apart. */
export function renderTextTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The terminal report: results table, IPOP timings, load average. */
export function renderSummaryText(summary: BenchSummary): string {
  const out = [renderTextTable(HEADERS, tableRows(summary))];
  const ipop = summary.ipop;
  if (ipop) {
    out.push("");
    for (const [backend, t] of Object.entries(ipop.backends)) {
      out.push(
        `ipop-${backend}: up -> first ping ${ms(t.upToFirstPingMs)} ms (link setup in the core ${ms(t.upCoreSetupMs)} ms); ` +
          `agent restart -> first ping ${ms(t.linkSetupMs)} ms (first link up ${ms(t.linkFirstLinkUpMs)} ms, ` +
          `carrying link up ${ms(t.linkSetupLinkUpMs)} ms, core ${ms(t.linkCoreSetupMs)} ms; ` +
          `median of ${t.linkSamples}, up to ${t.linkUpsMax ?? "-"} links per restart` +
          `${t.linkFailures > 0 ? `; ${t.linkFailures} restart(s) never carried a ping` : ""})`,
      );
    }
  }
  const la = summary.machine.loadavg;
  out.push(
    "",
    `load average: start ${la.start.map((v) => v.toFixed(2)).join(" ")}, end ${la.end.map((v) => v.toFixed(2)).join(" ")}` +
      `; ${summary.machine.cpus} CPUs; ${summary.settings.reps} rep(s), medians; run took ${Math.round(summary.durationS)} s`,
  );
  const failed = summary.systems.filter((s) => s.errors.length > 0);
  for (const s of failed) out.push(`${s.name}: ${s.errors.length} error(s), first: ${s.errors[0]!.split("\n")[0]}`);
  return out.join("\n");
}
