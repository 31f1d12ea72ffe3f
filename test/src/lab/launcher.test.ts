import assert from "node:assert/strict";
import { test } from "vitest";
import { shebangNodeFlags } from "./launcher.js";

test("node flags come from an env -S shebang, and only from a node one", () => {
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S node --max-semi-space-size=1"), ["--max-semi-space-size=1"]);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S node --a  --b=2 "), ["--a", "--b=2"]);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env node"), []);
  assert.deepEqual(shebangNodeFlags("#!/usr/bin/env -S python3 -u"), []);
  assert.deepEqual(shebangNodeFlags("import x from 'y';"), []);
  assert.deepEqual(shebangNodeFlags(""), []);
});
