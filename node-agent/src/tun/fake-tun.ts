import { PACKET_HEADROOM } from "@ipop/shared";
import type { TunDevice } from "./tun-device.js";

/**
 * An in-memory TUN device for tests: `inject` plays the kernel sending a packet into the device,
 * `written` collects what the agent delivered. Follows the TunDevice contract, headroom included.
 */
export class FakeTun implements TunDevice {
  readonly headroom = PACKET_HEADROOM;
  readonly written: Uint8Array[] = [];
  private onPacket: ((packet: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(
    readonly name = "fake0",
    readonly mtu = 1400,
  ) {}

  start(onPacket: (packet: Uint8Array) => void): void {
    this.onPacket = onPacket;
  }

  /** Hands `packet` to the reader as the kernel would: in a reused buffer, with headroom in front. */
  inject(packet: Uint8Array): void {
    if (this.closed || this.onPacket === undefined) return;
    const slot = new Uint8Array(this.headroom + packet.length);
    slot.set(packet, this.headroom);
    this.onPacket(slot.subarray(this.headroom));
    slot.fill(0xee); // the view was only borrowed: scribble over it to catch anyone who kept it
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
