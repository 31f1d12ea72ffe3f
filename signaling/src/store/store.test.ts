import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { StoreError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { FileStateStore, STATE_FILE } from "./file-store.js";
import { MemoryStateStore } from "./memory-store.js";
import { stateStoreCompliance } from "./store-compliance.js";

stateStoreCompliance("memory", {
  async fresh() {
    const store = new MemoryStateStore();
    return { store, reopen: () => undefined, cleanup: () => store.close() };
  },
});

stateStoreCompliance("file", {
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), "ipop-state-"));
    const opened: FileStateStore[] = [];
    const openOne = async () => {
      const store = await FileStateStore.open(dir, silentLogger());
      opened.push(store);
      return store;
    };
    return {
      store: await openOne(),
      reopen: openOne,
      async cleanup() {
        for (const store of opened) await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});

test("file: a state file that is not one is refused with a StoreError naming it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ipop-state-"));
  try {
    await writeFile(join(dir, STATE_FILE), "{ not json");
    await assert.rejects(FileStateStore.open(dir, silentLogger()), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, "ERR_SIGNAL_STORE");
      assert.match(e.message, /signal-state\.json: not JSON/);
      return true;
    });
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ v: 2, networks: {} }));
    await assert.rejects(FileStateStore.open(dir, silentLogger()), /not a state file of this server/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("file: damaged leases are skipped, the rest is read; writes replace the file whole", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ipop-state-"));
  try {
    const good = { address: 5, holder: "h", name: "n5", certExpiresAt: 9, heldUntil: 8 };
    await writeFile(
      join(dir, STATE_FILE),
      JSON.stringify({ v: 1, networks: { n: { leases: [good, { address: "x" }] } } }),
    );
    const store = await FileStateStore.open(dir, silentLogger());
    assert.deepEqual((await store.load("n")).leases, [good]);
    store.deleteLease("n", 5);
    await store.close();
    const text = await readFile(join(dir, STATE_FILE), "utf8");
    assert.deepEqual(JSON.parse(text), { v: 1, networks: { n: { leases: [] } } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
