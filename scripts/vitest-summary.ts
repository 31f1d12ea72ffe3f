/**
 * A vitest reporter that ends the run with the one line CI reads: `N passed, N failed, N skipped`,
 * after a line per project. vitest's own summary is for people; its shape is not ours to promise.
 *
 * A file that fails outside its tests (an import error, a failing beforeAll/afterAll) counts as one
 * failure even when none of its tests failed, and so does each unhandled error: the line must never
 * say "0 failed" for a run that failed.
 */
import type { SerializedError } from "vitest";
import type { Reporter, TestModule } from "vitest/node";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const line = (c: Counts) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const total: Counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    const byProject = new Map<string, Counts>();
    for (const module of modules) {
      const name = module.project.name || "default";
      const counts = byProject.get(name) ?? { passed: 0, failed: 0, skipped: 0 };
      byProject.set(name, counts);
      let failedTests = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        // "pending" after the run means it never finished (interrupted): not a pass.
        if (state === "passed") counts.passed++;
        else if (state === "skipped") counts.skipped++;
        else failedTests++;
      }
      counts.failed += failedTests;
      if (failedTests === 0 && module.state() === "failed") counts.failed++;
    }
    for (const [name, counts] of [...byProject].sort()) {
      console.log(`${name}: ${line(counts)}`);
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
    console.log(line(total));
  }
}
