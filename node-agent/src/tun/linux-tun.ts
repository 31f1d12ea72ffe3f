import { createRequire } from "node:module";
import { errorMessage, MAX_DATA_PAYLOAD_BYTES, PACKET_HEADROOM } from "@ipop/shared";
import { TunError } from "../errors.js";
import type { TunDevice } from "./tun-device.js";

/** The addon's offload counters (native/vnet.h). */
export interface TunOffloadStats {
  /** TCP/UDP super-packets the kernel handed us, and the segments cut from them. */
  readonly gsoReads: number;
  readonly gsoSegments: number;
  /** Packets whose TCP/UDP checksum the agent finished (the kernel left it partial). */
  readonly checksumsCompleted: number;
  /** Packets read that could not be handled (malformed, or a GSO kind the overlay does not carry). */
  readonly readDrops: number;
  /** Super-packets written, and the segments merged into them. */
  readonly coalescedWrites: number;
  readonly coalescedSegments: number;
  /** Packets the kernel refused on write (a full device queue). */
  readonly writeErrors: number;
  /** Super-packets the kernel refused as such; coalescing is then off for good. */
  readonly gsoWriteRejected: number;
}

/** What the device does for us: see {@link LinuxTun.open}. */
export interface TunOffloads {
  /** Packets carry a virtio-net header: writes may be coalesced super-packets. */
  readonly vnetHeader: boolean;
  /** The kernel hands us TCP super-packets (TSO) with partial checksums. */
  readonly tso: boolean;
  /** The kernel hands us UDP super-packets (USO, Linux 6.2 and later). */
  readonly uso: boolean;
}

interface TunAddon {
  open(name: string, offload: boolean): [handle: unknown, actualName: string, offloadBits: number];
  start(handle: unknown, slab: Uint8Array, slotSize: number, lens: Int32Array, onBatch: (count: number) => void): void;
  writeBatch(handle: unknown, staging: Uint8Array, lens: Int32Array, count: number): number;
  stats(handle: unknown): TunOffloadStats;
  close(handle: unknown): void;
}

const addon = createRequire(import.meta.url)("../../build/Release/ipop_tun.node") as TunAddon;

/** Packets the addon reads per wakeup; more only adds latency to the first packet of a burst. */
const BATCH = 64;
/** The addon's offload bits (native/tun.c). */
const OFFLOAD_VNET = 1;
const OFFLOAD_TSO = 2;
const OFFLOAD_USO = 4;
/** Bytes in front of each staged packet for its virtio-net header (`struct virtio_net_hdr`). */
const VNET_HDR_LEN = 10;
/** Most packets per native write call (the addon's VNET_MAX_BATCH). */
const WRITE_BATCH = 256;
/** Staging room for writes: a turn's packets, copied; a full buffer is written at once. */
const STAGING_BYTES = 512 * 1024;
const MAX_PACKET = 65535;

/** Calls `visit` with each packet of a write batch laid out as {@link LinuxTun} stages it. */
export function forEachStagedPacket(
  staging: Uint8Array,
  lens: Int32Array,
  count: number,
  visit: (packet: Uint8Array) => void,
): void {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = lens[i]!;
    visit(staging.subarray(at + VNET_HDR_LEN, at + VNET_HDR_LEN + len));
    at += VNET_HDR_LEN + len;
  }
}

/**
 * A Linux TUN device through the project's N-API addon. Reads land in one preallocated slab, one slot
 * per packet, each slot starting with `headroom` spare bytes, so the read path allocates nothing
 * beyond the views it hands out.
 *
 * With offloads (the default) the kernel hands the agent TCP super-packets, which the addon cuts into
 * MTU-sized packets before JS sees them, and writes are gathered over one event-loop turn and written
 * in one native call, consecutive TCP segments of a flow merged into super-packets (native/vnet.h).
 */
export class LinuxTun implements TunDevice {
  readonly headroom = PACKET_HEADROOM;
  private readonly handle: unknown;
  private closed = false;
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private readonly stagedLens = new Int32Array(WRITE_BATCH);
  private staged = 0;
  private stagedBytes = 0;
  private flushQueued = false;
  private readonly flushNow = () => {
    this.flushQueued = false;
    this.flush();
  };
  /** Packets the kernel refused on write. */
  writeDrops = 0;
  /**
   * Called just before (`written` false) and after (true) each batch write, for the RTT trace
   * (trace/rtt-trace.ts); {@link forEachStagedPacket} walks the batch. Unset, it costs one check per batch.
   */
  writeTrace: ((written: boolean, staging: Uint8Array, lens: Int32Array, count: number) => void) | undefined;

  private constructor(
    readonly name: string,
    readonly mtu: number,
    handle: unknown,
    readonly offloads: TunOffloads,
  ) {
    this.handle = handle;
  }

  /**
   * Creates (or attaches to) the TUN device `name`. Needs CAP_NET_ADMIN. With `offload`, asks for
   * the virtio-net header, TSO and USO; what the kernel grants is in `offloads` (it falls back to a
   * plain device when the kernel or an existing device refuses the header).
   */
  static open(name: string, mtu: number, offload = true): LinuxTun {
    try {
      const [handle, actual, bits] = addon.open(name, offload);
      return new LinuxTun(actual, mtu, handle, {
        vnetHeader: (bits & OFFLOAD_VNET) !== 0,
        tso: (bits & OFFLOAD_TSO) !== 0,
        uso: (bits & OFFLOAD_USO) !== 0,
      });
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
    // room for the frame header in front. (Super-packets are cut into segments that fit.)
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

  /**
   * Copies `packet` into the write batch, which goes to the kernel at the end of this event-loop
   * turn (or at once when full). False when the device is closed or the packet is too large.
   */
  write(packet: Uint8Array): boolean {
    if (this.closed || packet.length === 0 || packet.length > MAX_PACKET) return false;
    if (this.staged === WRITE_BATCH || this.stagedBytes + VNET_HDR_LEN + packet.length > STAGING_BYTES) this.flush();
    this.staging.set(packet, this.stagedBytes + VNET_HDR_LEN);
    this.stagedLens[this.staged++] = packet.length;
    this.stagedBytes += VNET_HDR_LEN + packet.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
    return true;
  }

  /** Writes the batch now. */
  flush(): void {
    if (this.staged === 0 || this.closed) return;
    const trace = this.writeTrace;
    trace?.(false, this.staging, this.stagedLens, this.staged);
    const refused = addon.writeBatch(this.handle, this.staging, this.stagedLens, this.staged);
    trace?.(true, this.staging, this.stagedLens, this.staged);
    this.writeDrops += refused < 0 ? this.staged : refused;
    this.staged = 0;
    this.stagedBytes = 0;
  }

  /** The addon's offload counters. */
  offloadStats(): TunOffloadStats {
    return addon.stats(this.handle);
  }

  offloadReport(): ReturnType<NonNullable<TunDevice["offloadReport"]>> {
    return { offloads: { ...this.offloads }, counters: { ...this.offloadStats() } };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    addon.close(this.handle);
  }
}
