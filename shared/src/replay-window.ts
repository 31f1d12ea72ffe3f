/**
 * Anti-replay for counters a sender numbers 0, 1, 2, ... (RFC 6479's sliding window, as WireGuard
 * keeps one): a counter is accepted once, and only if it is newer than `WINDOW_BITS` below the
 * highest seen. Packets over an unordered channel arrive slightly out of order; a window this wide
 * takes that while a replay of anything older is refused.
 */
export const REPLAY_WINDOW_BITS = 1024;
const WORDS = REPLAY_WINDOW_BITS / 32;

export class ReplayWindow {
  /** Highest counter accepted so far; -1 before the first. */
  private highest = -1;
  /** Bit i%WINDOW of word i/32 is set when counter i (within the window) was seen. */
  private readonly bits = new Uint32Array(WORDS);

  /**
   * Accepts `counter` (a non-negative safe integer) if it is new and not too old; records it.
   * Call only after the packet's tag verified, or a forger could advance the window.
   */
  accept(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0) return false;
    if (counter > this.highest) {
      this.clearAbove(counter);
      this.highest = counter;
      this.set(counter);
      return true;
    }
    if (this.highest - counter >= REPLAY_WINDOW_BITS) return false;
    if (this.isSet(counter)) return false;
    this.set(counter);
    return true;
  }

  /** Clears the bits of counters between the old highest (exclusive) and `counter`, which reuse slots. */
  private clearAbove(counter: number): void {
    if (counter - this.highest >= REPLAY_WINDOW_BITS) {
      this.bits.fill(0);
      return;
    }
    for (let c = this.highest + 1; c < counter; c++) this.clear(c);
  }

  private set(counter: number): void {
    const slot = counter % REPLAY_WINDOW_BITS;
    this.bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  private clear(counter: number): void {
    const slot = counter % REPLAY_WINDOW_BITS;
    this.bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }

  private isSet(counter: number): boolean {
    const slot = counter % REPLAY_WINDOW_BITS;
    return (this.bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }
}
