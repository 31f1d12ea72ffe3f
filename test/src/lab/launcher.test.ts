import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { launcherCommand, parseShebang, shebangNodeFlags } from "./launcher.js";

test("node flags come from an env -S shebang, and only from a node one", () => {
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S node --max-semi-space-size=1"), ["--max-semi-space-size=1"]);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S node --a  --b=2 "), ["--a", "--b=2"]);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env node"), []);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S python3 -u"), []);
  assert.deepEqual(shebangNodeFlags("import x from 'y';"), []);
  assert.deepEqual(shebangNodeFlags(""), []);
});

test("environment assignments before node are the launch's environment", () => {
  assert.deepEqual(parseShebang("#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1"), {
    env: { MALLOC_ARENA_MAX: "2" },
    nodeFlags: ["--max-semi-space-size=1"],
  });
  assert.deepEqual(parseShebang("#!/usr/bin/env -S A=1 B_2=x=y node"), { env: { A: "1", B_2: "x=y" }, nodeFlags: [] });
  assert.deepEqual(parseShebang("#!/usr/bin/env -S A=1 python3 -u"), { env: {}, nodeFlags: [] });
  assert.deepEqual(parseShebang("#!/usr/bin/env -S 1A=1 node"), { env: {}, nodeFlags: [] });
});

test("the launch command runs this node through env only when the shebang sets variables", () => {
  const dir = mkdtempSync(join(tmpdir(), "ipop-launcher-"));
  try {
    const withEnv = join(dir, "a.js");
    writeFileSync(withEnv, "#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1\nexport {};\n");
    assert.deepEqual(launcherCommand(withEnv), [
      "/usr/bin/env",
      "MALLOC_ARENA_MAX=2",
      process.execPath,
      "--max-semi-space-size=1",
    ]);
    const plain = join(dir, "b.js");
    writeFileSync(plain, "#!/usr/bin/env -S node --x\n");
    assert.deepEqual(launcherCommand(plain), [process.execPath, "--x"]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
