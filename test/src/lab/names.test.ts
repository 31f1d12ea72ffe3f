import assert from "node:assert/strict";
import { test } from "vitest";
import { labNames, MAX_IFNAME, parseLabNamespace } from "./names.js";

test("veth names fit IFNAMSIZ for the largest pid, serial and host count", () => {
  const names = labNames("ipoplab", 4_194_304, 1295);
  assert.ok(names.veth(201).length <= MAX_IFNAME, names.veth(201));
  assert.throws(() => labNames("ipoplab", 4_194_304, 46655).veth(1000), RangeError);
});

test("namespace names round-trip through parseLabNamespace", () => {
  const names = labNames("ipoplab", 4711, 3);
  assert.deepEqual(parseLabNamespace(names.ns("h12")), { pid: 4711, serial: 3, host: "h12" });
  assert.equal(parseLabNamespace("ipoplab-x-1-h1"), undefined);
  assert.equal(parseLabNamespace("other-4711-1-h1"), undefined);
  assert.deepEqual(parseLabNamespace("mylab-9-1-br", "mylab"), { pid: 9, serial: 1, host: "br" });
});
