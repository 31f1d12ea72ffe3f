/**
 * Writing a run's files: bench.json (the summary plus every raw sample), report.md and chart.svg.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchRun } from "../results.js";
import type { BenchSummary } from "../summary.js";
import { renderMarkdown } from "./markdown.js";
import { renderChart } from "./svg.js";

/** `results/bench-2026-11-25T04-54-05Z`: the run's start time, made safe for file names. */
export function defaultOutDir(root: string, startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  return join(root, "results", `bench-${stamp}`);
}

/** Writes the three files into `dir` (created if needed) and returns their paths. */
export function writeReport(dir: string, summary: BenchSummary, run: BenchRun): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    "bench.json": `${JSON.stringify({ summary, raw: run }, null, 2)}\n`,
    "report.md": renderMarkdown(summary, run),
    "chart.svg": renderChart(summary),
  };
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
