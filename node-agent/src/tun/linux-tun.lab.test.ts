// Lab test (root): a real TUN device in a throwaway network namespace.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "vitest";

// The probe runs in a child process from the build (`npm test` builds first): Node 20 cannot run .ts.
const probe = fileURLToPath(new URL("../../dist/tun/tun-probe.js", import.meta.url));
const offloadProbe = fileURLToPath(new URL("../../dist/tun/tun-offload-probe.js", import.meta.url));

test("TUN device: reads a kernel packet with headroom, writes a reply the kernel delivers, vanishes on close", () => {
  const out = execFileSync("unshare", ["--net", process.execPath, probe], { encoding: "utf8", timeout: 20_000 });
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), {
    txqueuelen: "5000",
    headroomWritable: true,
    src: true,
    dst: true,
    written: true,
    answer: "hello tun",
    offloads: true,
    checksumValid: true,
    writeAfterClose: false,
    deviceGone: true,
  });
});

interface OffloadCase {
  echoed: boolean;
  offloads: [boolean, boolean];
  a: Record<string, number>;
  b: Record<string, number>;
}

test("TUN offloads: TCP through two devices joined in user space, offloads on both, one or no side", () => {
  const out = execFileSync("unshare", ["--net", process.execPath, offloadProbe], { encoding: "utf8", timeout: 60_000 });
  const [both, one, none] = JSON.parse(out.trim().split("\n").at(-1)!) as OffloadCase[];
  // Every byte of 8 MiB came back in each case, so segments and super-packets had valid checksums.
  assert.deepEqual([both!.echoed, one!.echoed, none!.echoed], [true, true, true]);
  assert.deepEqual(
    [both!.offloads, one!.offloads, none!.offloads],
    [
      [true, true],
      [true, false],
      [false, false],
    ],
  );
  // With offloads the kernel handed over super-packets and took coalesced ones, in both directions.
  for (const side of [both!.a, both!.b]) {
    assert.ok(side.gsoReads! > 0 && side.gsoSegments! > side.gsoReads!, JSON.stringify(side));
    assert.ok(side.coalescedWrites! > 0 && side.coalescedSegments! > side.coalescedWrites!, JSON.stringify(side));
    assert.equal(side.readDrops, 0);
    assert.equal(side.gsoWriteRejected, 0);
  }
  // A plain device next to an offloading one: only the offloading side cuts and merges.
  assert.ok(one!.a.gsoReads! > 0 && one!.a.coalescedWrites! > 0);
  assert.equal(one!.b.gsoReads, 0);
  assert.equal(one!.b.coalescedWrites, 0);
  assert.equal(none!.a.gsoReads, 0);
  assert.equal(none!.a.coalescedWrites, 0);
});
