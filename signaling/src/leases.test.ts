import assert from "node:assert/strict";
import { formatIpv4Address, parseIpv4Prefix } from "@ipop/shared";
import { test } from "vitest";
import { type AddressUser, LeaseTable } from "./leases.js";

const POOL = parseIpv4Prefix("10.88.200.0/29") as { address: number; prefixLength: number };
const HOUR = 3_600_000;
const T0 = 1_780_000_000_000;
const nobody: AddressUser = () => undefined;
const key = (n: number) => n.toString(16).padStart(32, "0");

function table(graceMs = 30_000, maxLeases = 1000) {
  return new LeaseTable({ releaseGraceMs: graceMs, maxLeases });
}

function ip(outcome: ReturnType<LeaseTable["allocate"]>): string {
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return formatIpv4Address(outcome.address);
}

test("hands out the lowest free host addresses, never the network or broadcast address", () => {
  const leases = table();
  const got = [1, 2, 3, 4, 5, 6].map((n) => ip(leases.allocate(POOL, key(n), `n${n}`, T0, T0 + HOUR, nobody)));
  assert.deepEqual(got, ["10.88.200.1", "10.88.200.2", "10.88.200.3", "10.88.200.4", "10.88.200.5", "10.88.200.6"]);
  assert.deepEqual(leases.allocate(POOL, key(7), "n7", T0, T0 + HOUR, nobody), { ok: false, reason: "pool-exhausted" });
});

test("skips addresses members use; the same key asking again keeps its address", () => {
  const leases = table();
  const used = new Map([[POOL.address + 1, `${key(99)}-00000001`]]);
  const userOf: AddressUser = (a) => used.get(a);
  assert.equal(ip(leases.allocate(POOL, key(1), "a", T0, T0 + HOUR, userOf)), "10.88.200.2");
  assert.equal(ip(leases.allocate(POOL, key(1), "a", T0 + 1000, T0 + 2 * HOUR, userOf)), "10.88.200.2");
  assert.equal(leases.lookup(POOL.address + 2)?.certExpiresAt, T0 + 2 * HOUR);
  assert.equal(ip(leases.allocate(POOL, key(2), "b", T0, T0 + HOUR, userOf)), "10.88.200.3");
});

test("expired leases free their address; released ones are the last resort", () => {
  const leases = table(30_000);
  for (let n = 1; n <= 6; n++) leases.allocate(POOL, key(n), `n${n}`, T0, T0 + HOUR, nobody);
  // Holder 3 joins and leaves: reserved for the grace period, then only reusable as a last resort.
  leases.claim(POOL.address + 3, key(3), "n3", T0 + HOUR);
  leases.release(POOL.address + 3, key(3), T0 + 1000);
  assert.equal(leases.reservedFor(POOL.address + 3, T0 + 30_999), key(3));
  assert.equal(leases.allocate(POOL, key(7), "n7", T0 + 30_999, T0 + HOUR, nobody).ok, false);
  assert.equal(ip(leases.allocate(POOL, key(7), "n7", T0 + 31_000, T0 + HOUR, nobody)), "10.88.200.3");
  // Once certificates expire, their addresses are free again, lowest first.
  assert.equal(ip(leases.allocate(POOL, key(8), "n8", T0 + HOUR, T0 + 2 * HOUR, nobody)), "10.88.200.1");
  leases.sweep(T0 + HOUR);
  assert.equal(leases.size, 1, "only n8's certificate is still valid");
});

test("renew keeps the address; another key holding it is a conflict", () => {
  const leases = table();
  const a = leases.allocate(POOL, key(1), "a", T0, T0 + HOUR, nobody);
  assert.ok(a.ok);
  assert.deepEqual(leases.renew(a.address, key(1), "a", T0 + HOUR / 2, T0 + 2 * HOUR, nobody), {
    ok: true,
    address: a.address,
  });
  assert.equal(leases.lookup(a.address)?.certExpiresAt, T0 + 2 * HOUR);
  const conflict = leases.renew(a.address, key(2), "b", T0, T0 + HOUR, nobody);
  assert.deepEqual(conflict, { ok: false, reason: "address-in-use", holder: key(1) });
  const byMember = leases.renew(POOL.address + 5, key(2), "b", T0, T0 + HOUR, () => `${key(3)}-00000001`);
  assert.equal(byMember.ok, false);
  // After a restart (no lease on record) a renewal takes its address up again.
  const fresh = table();
  assert.ok(fresh.renew(POOL.address + 4, key(4), "d", T0, T0 + HOUR, () => `${key(4)}-0000000a`).ok);
  assert.equal(fresh.reservedFor(POOL.address + 4, T0), key(4));
});

test("names, revocation and the table's size limit", () => {
  const leases = table(30_000, 2);
  leases.allocate(POOL, key(1), "a", T0, T0 + HOUR, nobody);
  leases.allocate(POOL, key(2), "b", T0, T0 + HOUR, nobody);
  assert.equal(leases.nameHolder("a", T0), key(1));
  assert.equal(leases.nameHolder("zz", T0), undefined);
  assert.deepEqual(leases.allocate(POOL, key(3), "c", T0, T0 + HOUR, nobody), { ok: false, reason: "pool-exhausted" });
  leases.dropRevoked(new Set(["a"]));
  assert.equal(leases.size, 1);
  assert.equal(ip(leases.allocate(POOL, key(3), "c", T0, T0 + HOUR, nobody)), "10.88.200.1");
});
