// Lab test (root): a real TUN device in a throwaway network namespace.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "vitest";

// The probe runs in a child process from the build (`npm test` builds first): Node 20 cannot run .ts.
const probe = fileURLToPath(new URL("../../dist/tun/tun-probe.js", import.meta.url));

test("TUN device: reads a kernel packet with headroom, writes a reply the kernel delivers, vanishes on close", () => {
  const out = execFileSync("unshare", ["--net", process.execPath, probe], { encoding: "utf8", timeout: 20_000 });
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), {
    txqueuelen: "5000",
    headroomWritable: true,
    src: true,
    dst: true,
    written: true,
    answer: "hello tun",
    writeAfterClose: false,
    deviceGone: true,
  });
});
