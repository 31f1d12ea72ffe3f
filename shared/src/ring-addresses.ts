import { ringAddress } from "./ring.js";

/** Virtual address -> ring address in one network, cached so the packet path hashes each destination once. */
export class RingAddresses {
  private readonly cache = new Map<number, number>();

  constructor(
    private readonly network: string,
    private readonly capacity = 8192,
  ) {}

  of(address: number): number {
    let ring = this.cache.get(address);
    if (ring === undefined) {
      if (this.cache.size >= this.capacity) this.cache.clear();
      ring = ringAddress(this.network, address);
      this.cache.set(address, ring);
    }
    return ring;
  }
}
