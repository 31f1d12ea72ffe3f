import assert from "node:assert/strict";
import { test } from "vitest";
import { summarize } from "../summary.js";
import { fixtureRun } from "./fixture.js";
import { markdownTable, renderMarkdown } from "./markdown.js";
import { escapeXml, logDomain, renderChart } from "./svg.js";
import { renderSummaryText } from "./table.js";

test("summary: medians per system, the documented JSON keys, nulls where nothing was measured", () => {
  const s = summarize(fixtureRun());
  const keys = [
    "name",
    "tcpMbps",
    "tcp4Mbps",
    "tcpLossMbps",
    "udp64Pps",
    "udp64Loss",
    "udp1400Pps",
    "udp1400Loss",
    "rttMs",
    "rttP99Ms",
    "cpuSecPerGbit",
    "rssMb",
  ];
  for (const sys of s.systems) for (const k of keys) assert.ok(k in sys, `${sys.name} lacks ${k}`);
  const [veth, wg, ipop, nebula] = s.systems;
  assert.equal(wg!.tcpMbps, 700);
  assert.equal(wg!.tcpLossMbps, 350);
  assert.equal(wg!.rttP99Ms, 1);
  assert.equal(wg!.cpuSecPerGbit, 1);
  assert.equal(wg!.rssMb, 50);
  assert.equal(veth!.cpuSecPerGbit, null, "no daemons, no daemon CPU");
  assert.equal(veth!.hostCpuSecPerGbit, 2);
  assert.equal(ipop!.udp64Pps, 180, "the failed repetition is skipped, not counted as 0");
  assert.equal(ipop!.errors.length, 2);
  assert.match(ipop!.errors[1]!, /^link setup restart 3\/3: BENCH_TIMEOUT/);
  assert.equal(nebula!.reps, 0);
  assert.equal(nebula!.tcpMbps, null);
  assert.deepEqual(s.machine.loadavg, { start: [0.5, 0.4, 0.3], end: [1.5, 1, 0.5] });
  assert.equal(s.machine.cpus, 2);
  assert.equal(s.ipop?.backend, "ndc");
  assert.equal(s.ipop?.upToFirstPingMs, 1600);
  assert.equal(s.ipop?.linkSetupMs, 11800);
  assert.equal(s.ipop?.linkFirstLinkUpMs, 1545);
  assert.equal(s.ipop?.linkUpsMax, 2);
  assert.equal(s.ipop?.linkFailures, 1);
  assert.deepEqual(Object.keys(s.ipop?.backends ?? {}), ["ndc"]);
  // The --json line must survive a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test("text table: one row per system, aligned, missing values as -", () => {
  const text = renderSummaryText(summarize(fixtureRun()));
  const lines = text.split("\n");
  assert.match(lines[0]!, /^system\s+TCP Mbit\/s/);
  assert.match(lines.find((l) => l.startsWith("nebula"))!, /^nebula(\s+-)+$/);
  assert.match(text, /load average: start 0\.50 0\.40 0\.30, end 1\.50 1\.00 0\.50/);
  assert.match(text, /ipop-ndc: up -> first ping 1600 ms/);
  // Right-aligned numbers: every line of the table (header, rule, 4 systems) ends in the same column.
  assert.equal(
    new Set(
      lines
        .slice(0, 6)
        .filter((l) => !l.startsWith("nebula"))
        .map((l) => l.length),
    ).size,
    1,
  );
});

test("markdown: ratios against wireguard-go, escaped cells, the chart linked", () => {
  const md = renderMarkdown(summarize(fixtureRun()), fixtureRun());
  assert.match(md, /## IPOP relative to wireguard-go/);
  assert.match(md, /\| ipop-ndc \| 0\.214x \|/);
  assert.match(md, /!\[[^\]]*\]\(chart\.svg\)/);
  assert.match(md, /^- ipop-ndc: udp 64 B at 200000 pkt\/s: BENCH_TOOL_FAILED: iperf3 \| broke$/m);
  assert.match(md, /^- nebula: rep 1: BENCH_SETUP_FAILED: no$/m);
  assert.equal(markdownTable(["a", "b"], [["x|y", "1"]]), "| a | b |\n| --- | ---: |\n| x\\|y | 1 |");
});

test("chart: log axis in decades, every bar labelled, text escaped", () => {
  assert.deepEqual(logDomain([0.05, 1.2, null]), [0.01, 10]);
  assert.deepEqual(logDomain([100]), [100, 1000]);
  assert.deepEqual(logDomain([null]), [1, 10]);
  assert.equal(escapeXml(`<a & "b">`), "&#60;a &#38; &#34;b&#34;&#62;");
  const run = fixtureRun();
  run.systems[2]!.name = "ipop<&>";
  const svg = renderChart(summarize(run));
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.ok(svg.includes("ipop&#60;&#38;&#62;"));
  assert.ok(!/ipop<&>/.test(svg));
  // Well-formed enough for strict XML parsers: no attribute twice in one element.
  for (const tag of svg.match(/<[a-z]+ [^>]*>/g) ?? []) {
    const names = [...tag.matchAll(/ ([a-z-]+)="/g)].map((m) => m[1]);
    assert.equal(new Set(names).size, names.length, tag);
  }
  // 3 systems with data x 2 series x 2 panels, plus legend squares and the background.
  assert.equal((svg.match(/<rect /g) ?? []).length, 3 * 2 * 2 + 4 + 1);
  assert.equal((svg.match(/>n\/a</g) ?? []).length, 4, "nebula has no bars");
});
