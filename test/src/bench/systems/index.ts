/**
 * Every system the bench knows, in the default order: the ceiling first, then the established
 * overlays, then IPOP's backends from fastest to slowest (werift last: it is the one most likely to
 * stall, and then it does not delay the others' numbers).
 */
import { BenchError } from "../../errors.js";
import { ipopSystem } from "./ipop.js";
import { nebulaSystem } from "./nebula.js";
import type { BenchSystem } from "./system.js";
import { vethSystem } from "./veth.js";
import { wireguardSystem } from "./wireguard.js";

/** All systems, by default all of them run. */
export const ALL_SYSTEMS: readonly BenchSystem[] = [
  vethSystem,
  wireguardSystem,
  nebulaSystem,
  ipopSystem("ndc"),
  ipopSystem("wrtc"),
  ipopSystem("werift"),
];

/** Short names accepted by `--systems` besides the full ones. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  ipop: ["ipop-ndc", "ipop-wrtc", "ipop-werift"],
  wg: ["wireguard-go"],
  wireguard: ["wireguard-go"],
};

/** Names of every system, for usage messages. */
export function systemNames(): string[] {
  return ALL_SYSTEMS.map((s) => s.name);
}

/**
 * The systems named in `names` (full names or aliases), in the order given, without repeats.
 * @throws BenchError BENCH_USAGE for an unknown name
 */
export function selectSystems(names: readonly string[]): BenchSystem[] {
  const picked: BenchSystem[] = [];
  for (const name of names.flatMap((n) => ALIASES[n] ?? [n])) {
    const system = ALL_SYSTEMS.find((s) => s.name === name);
    if (!system) {
      throw new BenchError("BENCH_USAGE", `unknown system "${name}"; known: ${systemNames().join(", ")}, ipop`);
    }
    if (!picked.includes(system)) picked.push(system);
  }
  return picked;
}
