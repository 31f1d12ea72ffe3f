// One runner for every test, straight from the TypeScript sources (see README "Tests"):
//   unit     *.test.ts beside the code and in test/, in parallel, no root
//   lab      *.lab.test.ts: network namespaces and TUN devices, one file at a time, root
//   browser  *.browser.test.ts: the shared core in Debian's headless Chromium
import { playwright } from "@vitest/browser-playwright";
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Our workspace packages export their src/*.ts under this condition, so `@ipop/shared` and friends
// are tested from source rather than from a dist/ that may be stale or missing.
const SOURCE = "ipop-source";
const PACKAGES = "{shared,signaling,node-agent,web-console,test}";
const LAB = `${PACKAGES}/src/**/*.lab.test.ts`;
const BROWSER = `${PACKAGES}/src/**/*.browser.test.ts`;

// Lab tests need root. In CI they always run (and fail loudly without root, see lab-setup.ts);
// elsewhere a non-root run leaves them out and says so.
const isRoot = process.getuid?.() === 0;
const runLab = isRoot || Boolean(process.env.CI);
const unitOnly = process.argv.join(" ").match(/--project[= ]unit(\s|$)/) !== null;
if (!runLab && !unitOnly) {
  console.warn("vitest: not root, skipping the lab project (*.lab.test.ts); run as root to include it");
}

const nodeSource = { ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions] } } };

export default defineConfig({
  test: {
    // The last line of a run is `N passed, N failed, N skipped`, which CI reads.
    reporters: ["default", "./scripts/vitest-summary.ts"],
    projects: [
      {
        ...nodeSource,
        test: {
          name: "unit",
          include: [`${PACKAGES}/src/**/*.test.ts`],
          exclude: [LAB, BROWSER],
          // node:test, which these tests were written for, had no default timeout; some unit tests set
          // up real WebRTC links or run the simulator, which takes seconds on a loaded 2-core machine.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      ...(runLab
        ? [
            {
              ...nodeSource,
              test: {
                name: "lab",
                include: [LAB],
                setupFiles: ["test/src/lab/lab-setup.ts"],
                // Lab files share the host's namespaces, addresses and CPU: one file at a time, one process.
                fileParallelism: false,
                pool: "forks" as const,
                maxWorkers: 1,
                testTimeout: 180_000,
                hookTimeout: 180_000,
              },
            },
          ]
        : []),
      {
        resolve: { conditions: [SOURCE, ...defaultClientConditions] },
        test: {
          name: "browser",
          include: [BROWSER],
          browser: {
            enabled: true,
            headless: true,
            // Debian's chromium (the `chromium` package, same major as pinned playwright 1.64.1's). No browser
            // is ever downloaded: playwright has no install script and `playwright install` is never run.
            provider: playwright({
              launchOptions: {
                executablePath: "/usr/bin/chromium",
                // Root in a container has no user namespaces for the sandbox; /dev/shm may be tiny.
                args: ["--no-sandbox", "--disable-dev-shm-usage"],
              },
            }),
            instances: [{ browser: "chromium" }],
            // These tests draw nothing: a screenshot of a blank page on failure would only litter src/.
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});
