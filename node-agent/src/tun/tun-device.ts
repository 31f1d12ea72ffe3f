/**
 * The host's end of the virtual network: a layer-3 device that hands us the IP packets the kernel
 * routes into it and takes the packets we deliver.
 *
 * Contract:
 * - `start(onPacket, onError, onBatchEnd)` begins reading. Packets come in batches (all the device
 *   had queued, up to a limit): `onPacket` for each, then `onBatchEnd` once. Each packet is a view
 *   that is borrowed until that `onBatchEnd` returns, so a caller may gather a batch's packets and
 *   send them together. The `headroom` bytes in front of the view belong to the caller too, for
 *   writing a frame header in place: `new Uint8Array(p.buffer, p.byteOffset - headroom, ...)`.
 *   Every packet is an ordinary IP packet within the device MTU's reach: a device with offloads cuts
 *   the kernel's super-packets into segments first.
 * - `write(packet)` takes one whole IP packet and never blocks; the device copies it (the caller's
 *   buffer is free on return) and may hold it until the end of the event-loop turn, to write a
 *   turn's packets together. False means the device is closed or the packet is unusable; packets
 *   the kernel refuses later (queue full) are counted in `writeDrops`.
 * - After `close()` no callback fires and `write` returns false. Closing removes the device.
 */
export interface TunDevice {
  /** Kernel interface name, e.g. `ipop0`. */
  readonly name: string;
  readonly mtu: number;
  /** Writable bytes reserved in front of every packet passed to `onPacket`. */
  readonly headroom: number;
  /** Packets the kernel refused after `write` had taken them. */
  readonly writeDrops: number;
  start(onPacket: (packet: Uint8Array) => void, onError: (error: Error) => void, onBatchEnd: () => void): void;
  write(packet: Uint8Array): boolean;
  close(): void;
  /** What the device offloads and its counters, for status; absent on a device without offloads. */
  offloadReport?(): {
    readonly offloads: Readonly<Record<string, boolean>>;
    readonly counters: Readonly<Record<string, number>>;
  };
}
