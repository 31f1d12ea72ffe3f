import { createRequire } from "node:module";
import { errorMessage, MAX_DATA_PAYLOAD_BYTES, PACKET_HEADROOM } from "@ipop/shared";
import { TunError } from "../errors.js";
import type { TunDevice } from "./tun-device.js";

interface TunAddon {
  open(name: string): [handle: unknown, actualName: string];
  start(handle: unknown, slab: Uint8Array, slotSize: number, lens: Int32Array, onBatch: (count: number) => void): void;
  write(handle: unknown, packet: Uint8Array): number;
  close(handle: unknown): void;
}

const addon = createRequire(import.meta.url)("../../build/Release/ipop_tun.node") as TunAddon;

/** Packets the addon reads per wakeup; more only adds latency to the first packet of a burst. */
const BATCH = 64;

/**
 * A Linux TUN device through the project's N-API addon. Reads land in one preallocated slab, one slot
 * per packet, each slot starting with `headroom` spare bytes, so the read path allocates nothing
 * beyond the views it hands out.
 */
export class LinuxTun implements TunDevice {
  readonly headroom = PACKET_HEADROOM;
  private readonly handle: unknown;
  private closed = false;
  /** Packets the kernel refused on write. */
  writeErrors = 0;

  private constructor(
    readonly name: string,
    readonly mtu: number,
    handle: unknown,
  ) {
    this.handle = handle;
  }

  /** Creates (or attaches to) the TUN device `name`. Needs CAP_NET_ADMIN. */
  static open(name: string, mtu: number): LinuxTun {
    try {
      const [handle, actual] = addon.open(name);
      return new LinuxTun(actual, mtu, handle);
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      const hint =
        errno === 1 ? " (run as root, or with CAP_NET_ADMIN)" : errno === 16 ? " (the device is in use)" : "";
      throw new TunError(`cannot create TUN device ${name}: ${errorMessage(error)}${hint}`);
    }
  }

  start(onPacket: (packet: Uint8Array) => void, onError: (error: Error) => void, onBatchEnd: () => void): void {
    // The kernel hands us packets up to the device's MTU, but root can raise that MTU (or set a
    // larger one on a route) under the agent. A packet longer than its slot would be cut short and
    // dropped as malformed, a silent black hole; read up to the largest packet a data frame carries,
    // so the core can fragment it or answer with ICMP fragmentation-needed. The slot also leaves
    // room for the frame header in front.
    const slotSize = this.headroom + Math.max(this.mtu, MAX_DATA_PAYLOAD_BYTES);
    const slab = new Uint8Array(this.headroom + slotSize * BATCH);
    const lens = new Int32Array(BATCH);
    addon.start(this.handle, slab.subarray(this.headroom), slotSize, lens, (count) => {
      if (this.closed) return;
      if (count < 0) {
        onError(new TunError(`reading ${this.name} failed (errno ${-count})`));
        return;
      }
      for (let i = 0; i < count; i++) {
        const start = i * slotSize + this.headroom;
        onPacket(slab.subarray(start, start + lens[i]!));
      }
      onBatchEnd();
    });
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const n = addon.write(this.handle, packet);
    if (n < 0) {
      // EAGAIN: the device queue is full. A full queue drops, exactly as a congested NIC would.
      this.writeErrors++;
      return false;
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    addon.close(this.handle);
  }
}
