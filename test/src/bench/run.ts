/**
 * The run itself: repetitions in the outer loop and systems in the inner one, so slow drifts of a shared
 * machine (someone's build starting) spread over every system instead of hitting one. Each system is set
 * up and torn down in each repetition; IPOP's cold start is therefore sampled once per repetition.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codedMessage } from "../errors.js";
import type { Lab } from "../lab/netns.js";
import { type MeasureOptions, measureOnce } from "./measures.js";
import type { SystemRun } from "./results.js";
import type { BenchSystem, RunningSystem } from "./systems/system.js";

/** What {@link runSystems} needs besides the lab. */
export interface RunOptions extends MeasureOptions {
  reps: number;
  linkSamples: number;
  cpuProfDir: string | undefined;
}

/** Runs every system `reps` times and returns their raw results, in the order of `systems`. */
export async function runSystems(lab: Lab, systems: readonly BenchSystem[], o: RunOptions): Promise<SystemRun[]> {
  const runs = systems.map(
    (s): SystemRun => ({
      name: s.name,
      description: s.description,
      samples: [],
      linkSetup: [],
      linkSetupFailures: [],
      errors: [],
    }),
  );
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const [i, system] of systems.entries()) {
      const run = runs[i]!;
      o.log(`[rep ${rep}/${o.reps}] ${system.name}: setting up`);
      // Keys and certificates live only as long as the system: a fresh 0700 directory each time.
      const workDir = mkdtempSync(join(tmpdir(), "ipop-bench-"));
      let running: RunningSystem | undefined;
      try {
        running = await system.setup(lab, { workDir, cpuProfDir: o.cpuProfDir, log: o.log });
        run.samples.push(await measureOnce(lab, running, o));
        // Restarting agents is IPOP's own measurement; once (in the last repetition) is enough for a median.
        if (rep === o.reps && running.linkSetup && o.linkSamples > 0) {
          o.log(`  link setup x${o.linkSamples}`);
          const link = await running.linkSetup(o.linkSamples);
          run.linkSetup = link.samples;
          run.linkSetupFailures = link.failures;
        }
      } catch (e) {
        run.errors.push(`rep ${rep}: ${codedMessage(e)}`);
        o.log(`  failed: ${codedMessage(e).split("\n")[0]}`);
      } finally {
        try {
          await running?.teardown();
        } catch (e) {
          run.errors.push(`rep ${rep} teardown: ${codedMessage(e)}`);
        }
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  return runs;
}
