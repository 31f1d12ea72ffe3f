/**
 * Waiting for a freshly configured tunnel to carry traffic before it is measured.
 */

import { BenchError } from "../../errors.js";
import type { Lab } from "../../lab/netns.js";
import { pingUntilClean } from "../../lab/ping.js";

/**
 * Resolves once a short ping burst from `from` to `dst` comes back complete (handshakes done).
 * @throws BenchError BENCH_SETUP_FAILED with ping's summary otherwise
 */
export async function waitForPath(lab: Lab, system: string, from: string, dst: string): Promise<void> {
  const r = await pingUntilClean(lab, from, dst, 10, { count: 3, intervalS: 0.1, waitS: 1 });
  if (r.transmitted === 0 || r.lost > 0) {
    throw new BenchError("BENCH_SETUP_FAILED", `${system}: ${from} cannot ping ${dst}: ${r.summary}`);
  }
}
