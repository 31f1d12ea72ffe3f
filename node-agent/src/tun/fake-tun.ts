import { PACKET_HEADROOM } from "@ipop/shared";
import type { TunDevice } from "./tun-device.js";

/**
 * An in-memory TUN device for tests: `inject` plays the kernel sending a packet into the device,
 * `written` collects what the agent delivered. Follows the TunDevice contract, headroom included.
 */
export class FakeTun implements TunDevice {
  readonly headroom = PACKET_HEADROOM;
  readonly written: Uint8Array[] = [];
  /** The fake's kernel never refuses a packet. */
  readonly writeDrops = 0;
  private onPacket: ((packet: Uint8Array) => void) | undefined;
  private onBatchEnd: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly name = "fake0",
    readonly mtu = 1400,
  ) {}

  start(onPacket: (packet: Uint8Array) => void, _onError: (error: Error) => void, onBatchEnd: () => void): void {
    this.onPacket = onPacket;
    this.onBatchEnd = onBatchEnd;
  }

  /**
   * Hands `packets` to the reader as one batch, as the kernel would: in a reused buffer, with
   * headroom in front of each.
   */
  inject(...packets: Uint8Array[]): void {
    if (this.closed || this.onPacket === undefined) return;
    const slots = packets.map((packet) => {
      const slot = new Uint8Array(this.headroom + packet.length);
      slot.set(packet, this.headroom);
      this.onPacket?.(slot.subarray(this.headroom));
      return slot;
    });
    this.onBatchEnd?.();
    // The views were only borrowed: scribble over them to catch anyone who kept one.
    for (const slot of slots) slot.fill(0xee);
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    this.written.push(packet.slice());
    return true;
  }

  close(): void {
    this.closed = true;
    this.onPacket = undefined;
  }
}
