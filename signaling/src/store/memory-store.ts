import type { NetworkState, SignalStateStore, StoredLease } from "./state-store.js";

/** One network's state in memory. */
export interface NetworkRecord {
  readonly leases: Map<number, StoredLease>;
  revocationList: string | undefined;
}

/**
 * The store of a server started without `--state-dir` or `--redis`: it keeps nothing past the process.
 * It is also the in-memory half of the file store.
 */
export class MemoryStateStore implements SignalStateStore {
  protected readonly networks = new Map<string, NetworkRecord>();
  protected closed = false;

  async load(network: string): Promise<NetworkState> {
    const record = this.networks.get(network);
    return { leases: [...(record?.leases.values() ?? [])], revocationList: record?.revocationList };
  }

  putLease(network: string, lease: StoredLease): void {
    if (this.closed) return;
    this.record(network).leases.set(lease.address, { ...lease });
    this.changed();
  }

  deleteLease(network: string, address: number): void {
    if (this.closed) return;
    if (this.networks.get(network)?.leases.delete(address)) this.changed();
  }

  putRevocationList(network: string, text: string): void {
    if (this.closed) return;
    this.record(network).revocationList = text;
    this.changed();
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Called after every write; the file store schedules its write here. */
  protected changed(): void {}

  protected record(network: string): NetworkRecord {
    let record = this.networks.get(network);
    if (record === undefined) {
      record = { leases: new Map(), revocationList: undefined };
      this.networks.set(network, record);
    }
    return record;
  }
}
