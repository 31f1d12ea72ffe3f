import type { Ipv4Prefix } from "@ipop/shared";

/**
 * One address handed out with a certificate. Times are wall-clock milliseconds (certificates
 * carry wall-clock expiries).
 */
export interface Lease {
  readonly address: number;
  /** Node id (key id, 32 hex) of the certificate's key. */
  readonly holder: string;
  /** The certificate's member name. */
  name: string;
  /** When the certificate for this address expires; after that nobody can use it with that certificate. */
  certExpiresAt: number;
  /**
   * Until when the address is reserved for the holder: Infinity while it is a member, the end of the
   * grace period once it left, the certificate's expiry between enrollment and its first join.
   */
  heldUntil: number;
}

/** Callback: who uses `address` as a member right now (its node id), if anyone. */
export type AddressUser = (address: number) => string | undefined;

/** What {@link LeaseTable.allocate} and {@link LeaseTable.renew} decided. */
export type LeaseOutcome =
  | { readonly ok: true; readonly address: number }
  | { readonly ok: false; readonly reason: "pool-exhausted" }
  | { readonly ok: false; readonly reason: "address-in-use"; readonly holder: string };

/** Told of every change to the table, so a store can keep it (store/state-store.ts). */
export interface LeaseObserver {
  saved(lease: Readonly<Lease>): void;
  dropped(address: number): void;
}

/** Settings of a {@link LeaseTable}. */
export interface LeaseTableOptions {
  /** Told of every lease recorded, changed or dropped. */
  readonly observer?: LeaseObserver;
  /** How long an address stays reserved after its holder left, so a reconnecting node keeps it. */
  readonly releaseGraceMs: number;
  /** Most leases kept; beyond it, allocation answers pool-exhausted (expired leases are dropped first). */
  readonly maxLeases: number;
}

function hostRange(pool: Ipv4Prefix): { first: number; last: number } {
  const size = 2 ** (32 - pool.prefixLength);
  // The pool's own network and broadcast addresses are never handed out.
  return { first: pool.address + 1, last: pool.address + size - 2 };
}

/**
 * The addresses a CA service has handed out in one network. Pure bookkeeping, no I/O, no clock of
 * its own: callers pass the time, and who currently uses an address as a member.
 *
 * Allocation is deterministic and, because the server is single-threaded and this code is
 * synchronous, collision-free however many enrollments arrive at once. Out of a pool it picks:
 *  1. the address the same key already holds there (an enrollment retried keeps its address);
 *  2. else the lowest address no member uses and no unexpired certificate names;
 *  3. else the lowest address whose holder left more than the grace period ago (its certificate
 *     may still be valid, so this is the last resort: the pool is full of live certificates).
 * The pool's network and broadcast addresses are never handed out.
 */
export class LeaseTable {
  private readonly byAddress = new Map<number, Lease>();
  private readonly byHolder = new Map<string, Lease>();

  constructor(private readonly options: LeaseTableOptions) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** The lease on `address`, if any (expired ones too, until they are swept). */
  lookup(address: number): Readonly<Lease> | undefined {
    return this.byAddress.get(address);
  }

  /**
   * Hands `holder` an address from `pool` for a certificate valid until `certExpiresAt`, or says the
   * pool is exhausted.
   */
  allocate(
    pool: Ipv4Prefix,
    holder: string,
    name: string,
    nowMs: number,
    certExpiresAt: number,
    userOf: AddressUser,
  ): LeaseOutcome {
    const { first, last } = hostRange(pool);
    const own = this.byHolder.get(holder);
    if (own !== undefined && own.address >= first && own.address <= last && own.certExpiresAt > nowMs) {
      const user = userOf(own.address);
      if (user === undefined || user.startsWith(holder)) {
        this.record(own.address, holder, name, certExpiresAt, Math.max(own.heldUntil, certExpiresAt));
        return { ok: true, address: own.address };
      }
    }
    if (this.byAddress.size >= this.options.maxLeases) this.sweep(nowMs);
    if (this.byAddress.size >= this.options.maxLeases) return { ok: false, reason: "pool-exhausted" };
    let released: number | undefined;
    for (let address = first; address <= last; address++) {
      if (userOf(address) !== undefined) continue;
      const lease = this.byAddress.get(address);
      if (lease === undefined || lease.certExpiresAt <= nowMs) {
        this.record(address, holder, name, certExpiresAt, certExpiresAt);
        return { ok: true, address };
      }
      if (released === undefined && lease.heldUntil <= nowMs) released = address;
    }
    if (released === undefined) return { ok: false, reason: "pool-exhausted" };
    this.record(released, holder, name, certExpiresAt, certExpiresAt);
    return { ok: true, address: released };
  }

  /**
   * Extends `holder`'s lease on `address` to a new certificate's expiry (a renewal keeps the
   * address). Without a lease on record (the server restarted) it is taken up again, unless another
   * key holds the address.
   */
  renew(
    address: number,
    holder: string,
    name: string,
    nowMs: number,
    certExpiresAt: number,
    userOf: AddressUser,
  ): LeaseOutcome {
    const user = userOf(address);
    if (user !== undefined && !user.startsWith(holder)) return { ok: false, reason: "address-in-use", holder: user };
    const lease = this.byAddress.get(address);
    if (lease !== undefined && lease.holder !== holder && lease.heldUntil > nowMs && lease.certExpiresAt > nowMs) {
      return { ok: false, reason: "address-in-use", holder: lease.holder };
    }
    const heldUntil = lease?.holder === holder ? Math.max(lease.heldUntil, certExpiresAt) : certExpiresAt;
    this.record(address, holder, name, certExpiresAt, user === undefined ? heldUntil : Number.POSITIVE_INFINITY);
    return { ok: true, address };
  }

  /**
   * A member holding a leased certificate joined: its address is reserved while it stays. Also
   * rebuilds the table after a restart from the members that come back. Check {@link reservedFor}
   * before admitting the join: this takes the address over.
   */
  claim(address: number, holder: string, name: string, certExpiresAt: number): void {
    const lease = this.byAddress.get(address);
    const expiry = lease?.holder === holder ? Math.max(lease.certExpiresAt, certExpiresAt) : certExpiresAt;
    this.record(address, holder, name, expiry, Number.POSITIVE_INFINITY);
  }

  /** The key `address` is reserved for right now (a live lease whose holder has not let go), if any. */
  reservedFor(address: number, nowMs: number): string | undefined {
    const lease = this.byAddress.get(address);
    return lease !== undefined && lease.heldUntil > nowMs && lease.certExpiresAt > nowMs ? lease.holder : undefined;
  }

  /** The member holding `address` left: keep the address for it for the grace period. */
  release(address: number, holder: string, nowMs: number): void {
    const lease = this.byAddress.get(address);
    if (lease === undefined || lease.holder !== holder) return;
    lease.heldUntil = Math.min(lease.certExpiresAt, nowMs + this.options.releaseGraceMs);
    this.options.observer?.saved(lease);
  }

  /**
   * Takes up leases kept from before a restart (store/state-store.ts). Their holders are not connected
   * any more, so a member's lease (held until Infinity) is held until its certificate expires, as
   * between an enrollment and the first join: the node gets the same address when it comes back.
   * Expired leases are left out. Tells the observer nothing: these are what it already holds.
   */
  restore(leases: Iterable<Readonly<Lease>>, nowMs: number): void {
    for (const kept of leases) {
      if (kept.certExpiresAt <= nowMs || this.byAddress.size >= this.options.maxLeases) continue;
      const heldUntil = kept.heldUntil === Number.POSITIVE_INFINITY ? kept.certExpiresAt : kept.heldUntil;
      const lease: Lease = { ...kept, heldUntil };
      const previous = this.byHolder.get(lease.holder);
      if (previous !== undefined && previous.certExpiresAt >= lease.certExpiresAt) continue;
      if (previous !== undefined) this.byAddress.delete(previous.address);
      this.byAddress.set(lease.address, lease);
      this.byHolder.set(lease.holder, lease);
    }
  }

  /**
   * Takes a lease exactly as another instance recorded it (`--redis`), replacing what this table had for
   * its address and its holder. Tells the observer nothing: the store already has it.
   */
  mirror(kept: Readonly<Lease>): void {
    const previous = this.byHolder.get(kept.holder);
    if (previous !== undefined) this.byAddress.delete(previous.address);
    const displaced = this.byAddress.get(kept.address);
    if (displaced !== undefined) this.byHolder.delete(displaced.holder);
    const lease: Lease = { ...kept };
    this.byAddress.set(lease.address, lease);
    this.byHolder.set(lease.holder, lease);
  }

  /** Forgets the lease on `address` as another instance dropped it (`--redis`). */
  forget(address: number): void {
    const lease = this.byAddress.get(address);
    if (lease === undefined) return;
    this.byAddress.delete(address);
    if (this.byHolder.get(lease.holder) === lease) this.byHolder.delete(lease.holder);
  }

  /** Every lease held (expired ones too, until they are swept). */
  all(): IterableIterator<Readonly<Lease>> {
    return this.byAddress.values();
  }

  /** The key holding an unexpired, reserved lease under `name`, if any. */
  nameHolder(name: string, nowMs: number): string | undefined {
    for (const lease of this.byAddress.values()) {
      if (lease.name === name && lease.certExpiresAt > nowMs && lease.heldUntil > nowMs) return lease.holder;
    }
    return undefined;
  }

  /** Drops the leases of revoked keys and names: their addresses are free at once. */
  dropRevoked(revoked: ReadonlySet<string>): void {
    for (const lease of this.byAddress.values()) {
      if (revoked.has(lease.holder) || revoked.has(lease.name)) this.drop(lease);
    }
  }

  /** Drops leases whose certificates have expired. */
  sweep(nowMs: number): void {
    for (const lease of this.byAddress.values()) {
      if (lease.certExpiresAt <= nowMs && lease.heldUntil <= nowMs) this.drop(lease);
    }
  }

  private record(address: number, holder: string, name: string, certExpiresAt: number, heldUntil: number): void {
    const previous = this.byHolder.get(holder);
    if (previous !== undefined && previous.address !== address) this.drop(previous);
    const displaced = this.byAddress.get(address);
    if (displaced !== undefined && displaced.holder !== holder) this.drop(displaced);
    const lease: Lease = { address, holder, name, certExpiresAt, heldUntil };
    this.byAddress.set(address, lease);
    this.byHolder.set(holder, lease);
    this.options.observer?.saved(lease);
  }

  private drop(lease: Lease): void {
    if (this.byHolder.get(lease.holder) === lease) this.byHolder.delete(lease.holder);
    if (this.byAddress.get(lease.address) !== lease) return;
    this.byAddress.delete(lease.address);
    this.options.observer?.dropped(lease.address);
  }
}
