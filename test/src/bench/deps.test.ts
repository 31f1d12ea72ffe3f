import assert from "node:assert/strict";
import { test } from "vitest";
import { missingPackages } from "./deps.js";

test("one package per missing command, no repeats", () => {
  const has = (cmd: string) => cmd === "ip";
  assert.deepEqual(
    missingPackages({ ip: "iproute2", nebula: "nebula", "nebula-cert": "nebula", wg: "wireguard-tools" }, has),
    ["nebula", "wireguard-tools"],
  );
  assert.deepEqual(missingPackages({ ip: "iproute2" }, has), []);
});
