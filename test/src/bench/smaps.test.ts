import assert from "node:assert/strict";
import { test } from "vitest";
import { memoryBreakdown, nativeAddons, parseSmaps, processMemory } from "./smaps.js";

const NODE = "/usr/bin/node";

/** One smaps entry: the header line plus the three fields the parser reads (and one it skips). */
function vma(start: bigint, end: bigint, perms: string, name: string, rssKb: number, anonKb = 0): string {
  const hex = (n: bigint) => n.toString(16).padStart(12, "0");
  return [
    `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0          ${name}`,
    `Size:           ${Number(end - start) / 1024} kB`,
    `Rss:            ${rssKb} kB`,
    `Pss:            ${Math.floor(rssKb / 2)} kB`,
    `Anonymous:      ${anonKb} kB`,
  ].join("\n");
}

const MIB = 1n << 20n;
const ARENA = 64n * MIB;
const SMAPS = [
  vma(0x400000n, 0x400000n + 8n * MIB, "r-xp", NODE, 6000),
  vma(0x5000000n, 0x5000000n + MIB, "rw-p", "[heap]", 900, 900),
  // A malloc arena heap: 2 MiB used, the rest of its 64 MiB reserved right after it.
  vma(100n * ARENA, 100n * ARENA + 2n * MIB, "rw-p", "", 1500, 1500),
  vma(100n * ARENA + 2n * MIB, 101n * ARENA, "---p", "", 0),
  // A thread stack: one guard page, then the stack.
  vma(101n * ARENA + 4n * MIB, 101n * ARENA + 4n * MIB + 4096n, "---p", "", 0),
  vma(101n * ARENA + 4n * MIB + 4096n, 101n * ARENA + 12n * MIB, "rw-p", "", 40, 40),
  // V8 pages: 256 KiB anonymous mappings, one of them 64 MiB-aligned but not followed by a reservation.
  vma(102n * ARENA, 102n * ARENA + 256n * 1024n, "rw-p", "", 256, 256),
  vma(103n * ARENA + MIB, 103n * ARENA + MIB + 256n * 1024n, "rwxp", "", 100, 100),
  vma(104n * ARENA, 104n * ARENA + MIB, "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", 700),
  vma(105n * ARENA, 105n * ARENA + MIB, "rw-p", "[stack]", 120, 120),
].join("\n");

test("parses every mapping with its address range, permissions, name and sizes", () => {
  const vmas = parseSmaps(SMAPS);
  assert.equal(vmas.length, 10);
  assert.deepEqual(vmas[0], {
    start: 0x400000n,
    end: 0x400000n + 8n * MIB,
    perms: "r-xp",
    name: NODE,
    rssKb: 6000,
    pssKb: 3000,
    anonKb: 0,
  });
  assert.equal(vmas[2]?.name, "");
});

test("splits resident memory into the node binary, other files, malloc, stacks and the rest", () => {
  const b = memoryBreakdown(parseSmaps(SMAPS), NODE);
  assert.deepEqual(b, {
    rssKb: 6000 + 900 + 1500 + 40 + 256 + 100 + 700 + 120,
    pssKb: 3000 + 450 + 750 + 20 + 128 + 50 + 350 + 60,
    nodeBinaryKb: 6000,
    otherFilesKb: 700,
    mallocKb: 900 + 1500,
    mallocArenas: 1,
    stacksKb: 40 + 120,
    otherAnonKb: 256 + 100,
  });
});

test("empty or foreign text gives an empty breakdown, not an error", () => {
  assert.deepEqual(parseSmaps(""), []);
  assert.equal(memoryBreakdown(parseSmaps("no mappings here\nRss: 5 kB"), NODE).rssKb, 0);
});

test("this process's parts add up to its resident set", () => {
  const b = processMemory(process.pid);
  assert.ok(b.rssKb > 0 && b.nodeBinaryKb > 0, JSON.stringify(b));
  const parts = b.nodeBinaryKb + b.otherFilesKb + b.mallocKb + b.stacksKb + b.otherAnonKb;
  assert.equal(parts, b.rssKb);
});

test("native addons are the mapped .node files, each once", () => {
  const text = [
    vma(0x1000n, 0x2000n, "r--p", "/m/node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node", 4),
    vma(0x2000n, 0x3000n, "r-xp", "/m/node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node", 4),
    vma(0x3000n, 0x4000n, "r-xp", "/m/node-agent/build/Release/ipop_tun.node", 4),
    vma(0x4000n, 0x5000n, "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", 4),
  ].join("\n");
  assert.deepEqual(nativeAddons(parseSmaps(text)), [
    "/m/node-agent/build/Release/ipop_tun.node",
    "/m/node_modules/@node-datachannel/linux-x64-gnu/node_datachannel.node",
  ]);
});
