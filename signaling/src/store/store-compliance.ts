import assert from "node:assert/strict";
import { test } from "vitest";
import type { SignalStateStore, StoredLease } from "./state-store.js";

/** How the compliance suite gets stores of one kind. */
export interface StoreUnderTest {
  /** A store over a fresh, empty place (directory, Redis prefix). */
  fresh(): Promise<StoreHandle>;
}

/** One place with its stores. */
export interface StoreHandle {
  readonly store: SignalStateStore;
  /**
   * Another store over the same place, as a restarted server (file) or another instance (Redis) opens
   * it; undefined for a store that keeps nothing (memory).
   */
  reopen(): Promise<SignalStateStore> | undefined;
  /** Closes everything and removes the place. */
  cleanup(): Promise<void>;
}

const lease = (address: number, holder = `h${address}`, heldUntil = 2_000_000): StoredLease => ({
  address,
  holder,
  name: `name-${address}`,
  certExpiresAt: 3_000_000,
  heldUntil,
});

/**
 * The contract of {@link SignalStateStore}, run against every implementation (memory, file, Redis):
 * one suite, so the server behaves the same on each.
 */
export function stateStoreCompliance(kind: string, make: StoreUnderTest): void {
  const withStore = (name: string, body: (handle: StoreHandle) => Promise<void>) =>
    test(`${kind}: ${name}`, async () => {
      const handle = await make.fresh();
      try {
        await body(handle);
      } finally {
        await handle.cleanup();
      }
    });

  withStore("an empty store has nothing for any network", async ({ store }) => {
    assert.deepEqual(await store.load("n"), { leases: [], revocationList: undefined });
  });

  withStore("leases are put, replaced and deleted per network, in call order", async ({ store }) => {
    store.putLease("n", lease(1));
    store.putLease("n", lease(2));
    store.putLease("n", lease(1, "other"));
    store.putLease("m", lease(9));
    store.deleteLease("n", 2);
    store.deleteLease("n", 77);
    await store.flush();
    assert.deepEqual((await store.load("n")).leases, [lease(1, "other")]);
    assert.deepEqual((await store.load("m")).leases, [lease(9)]);
  });

  withStore("a member's lease (held until Infinity) keeps Infinity", async ({ store }) => {
    store.putLease("n", lease(5, "h", Number.POSITIVE_INFINITY));
    await store.flush();
    assert.equal((await store.load("n")).leases[0]?.heldUntil, Number.POSITIVE_INFINITY);
  });

  withStore("the revocation list held is the last one put", async ({ store }) => {
    store.putRevocationList("n", "list 1");
    store.putRevocationList("n", "list 2");
    await store.flush();
    assert.equal((await store.load("n")).revocationList, "list 2");
    assert.equal((await store.load("m")).revocationList, undefined);
  });

  withStore("what was flushed is there for the next server over the same place", async (handle) => {
    const { store } = handle;
    for (let address = 1; address <= 50; address++) store.putLease("n", lease(address));
    store.deleteLease("n", 7);
    store.putRevocationList("n", "the list");
    await store.close();
    const again = await handle.reopen();
    if (again === undefined) return; // a memory store keeps nothing past its process: nothing to check
    try {
      const state = await again.load("n");
      assert.equal(state.leases.length, 49);
      assert.deepEqual([...state.leases].sort((a, b) => a.address - b.address)[0], lease(1));
      assert.equal(state.revocationList, "the list");
    } finally {
      await again.close();
    }
  });

  withStore("after close, writes are ignored and do not throw", async ({ store }) => {
    await store.close();
    store.putLease("n", lease(1));
    store.deleteLease("n", 1);
    store.putRevocationList("n", "late");
  });
}
