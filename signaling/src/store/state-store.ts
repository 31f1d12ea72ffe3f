/**
 * What a signaling server keeps beyond its connections: address leases and revocation lists, per
 * network. A restart (and, on Redis, another instance) must find them again.
 */

/** One address lease as stored; the same fields as the lease table's (leases.ts), times in wall-clock ms. */
export interface StoredLease {
  readonly address: number;
  readonly holder: string;
  readonly name: string;
  readonly certExpiresAt: number;
  /** `Infinity` while the holder is a member; every store keeps Infinity as it is. */
  readonly heldUntil: number;
}

/** Everything a store holds for one network. */
export interface NetworkState {
  readonly leases: readonly StoredLease[];
  /** The newest revocation list's armored text, if one was ever saved. */
  readonly revocationList: string | undefined;
}

/**
 * The contract every store meets (one compliance suite, store-compliance.ts, checks them all):
 *  - Writes (`putLease`, `deleteLease`, `putRevocationList`) return at once and never throw: the
 *    server's event loop must not wait on a disk or a network for every join. They are applied in
 *    call order. A failure is the store's to log and retry; it never reaches a client.
 *  - `flush()` resolves once every write made before it is durable (on disk, or in Redis).
 *  - `load()` sees every write flushed before it, by this store or, for a shared store, any other.
 *  - A revocation list replaces the one held; the caller (the authority) only ever saves a newer one.
 *  - After `close()` (which flushes) the store takes no more writes.
 */
export interface SignalStateStore {
  /** What the store holds for `network`. */
  load(network: string): Promise<NetworkState>;
  putLease(network: string, lease: StoredLease): void;
  deleteLease(network: string, address: number): void;
  putRevocationList(network: string, text: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * For a store shared by several instances (Redis): reports the changes the others make, so this
   * instance's lease table and revocation list follow. Absent for a store of one server.
   */
  watch?(listener: (change: RemoteStateChange) => void): Promise<void>;
}

/** A change another instance made to a shared store. */
export type RemoteStateChange =
  | { readonly kind: "lease"; readonly network: string; readonly lease: StoredLease }
  | { readonly kind: "drop"; readonly network: string; readonly address: number }
  | { readonly kind: "revocations"; readonly network: string; readonly text: string };

/** Encodes a lease for a text store: JSON has no Infinity, so a member's lease says `member: true`. */
export function encodeLease(lease: StoredLease): string {
  const { address, holder, name, certExpiresAt, heldUntil } = lease;
  return JSON.stringify(
    heldUntil === Number.POSITIVE_INFINITY
      ? { address, holder, name, certExpiresAt, member: true }
      : { address, holder, name, certExpiresAt, heldUntil },
  );
}

/** Decodes {@link encodeLease}'s text; undefined for anything else (a damaged entry is skipped, not fatal). */
export function decodeLease(text: string): StoredLease | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const heldUntil = v.member === true ? Number.POSITIVE_INFINITY : v.heldUntil;
  if (
    !Number.isInteger(v.address) ||
    typeof v.holder !== "string" ||
    typeof v.name !== "string" ||
    typeof v.certExpiresAt !== "number" ||
    typeof heldUntil !== "number"
  ) {
    return undefined;
  }
  return {
    address: v.address as number,
    holder: v.holder,
    name: v.name,
    certExpiresAt: v.certExpiresAt,
    heldUntil,
  };
}
