// Runs every test of the workspace with node's test runner, from the compiled output.
//   node scripts/run-tests.mjs          unit tests and lab tests
//   node scripts/run-tests.mjs --unit   unit tests only (no root needed)
// Lab tests (`*.lab.test.js`) need root for network namespaces and TUN devices. In CI (CI=true) they
// always run, and fail loudly without root; elsewhere they are skipped with a notice when not root.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const packages = ["shared", "signaling", "node-agent", "test"];
const unitOnly = process.argv.includes("--unit");

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return findTests(path);
    return e.name.endsWith(".test.js") ? [path] : [];
  });
}

const all = packages.flatMap((p) => findTests(join(p, "dist"))).sort();
const unit = all.filter((f) => !f.endsWith(".lab.test.js"));
const lab = all.filter((f) => f.endsWith(".lab.test.js"));
let files = unit;
if (!unitOnly) {
  if (process.getuid?.() === 0 || process.env.CI) files = [...unit, ...lab];
  else console.warn(`run-tests: not root, skipping ${lab.length} lab test files (run as root to include them)`);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", ...files], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
