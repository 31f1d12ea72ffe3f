/**
 * Last-resort cleanup of live labs when the process is leaving: on exit (including uncaught errors
 * and process.exit from the test runner) and on SIGINT/SIGTERM/SIGHUP. Orderly teardown is
 * `Lab.destroy()`; this only makes sure a crash or Ctrl-C does not leave namespaces behind.
 */

/** Something that can tear itself down synchronously and idempotently. */
export interface SyncDestroyable {
  destroySync(): void;
}

const live = new Set<SyncDestroyable>();
let installed = false;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Registers `lab` for cleanup at exit; installs the process hooks on first use. */
export function registerLive(lab: SyncDestroyable): void {
  live.add(lab);
  if (installed) return;
  installed = true;
  process.on("exit", destroyAllSync);
  for (const sig of SIGNALS) process.on(sig, onSignal);
}

/** Forgets `lab` (it was destroyed in an orderly way). */
export function unregisterLive(lab: SyncDestroyable): void {
  live.delete(lab);
}

/** Tears down every live lab right now. */
export function destroyAllSync(): void {
  for (const lab of [...live]) {
    try {
      lab.destroySync();
    } catch {
      // best effort: keep going so one broken lab does not strand the others
    }
    live.delete(lab);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener (the demo, the test runner) owns this signal and will run its own orderly
  // teardown or exit; our exit hook still catches whatever it leaves behind.
  if (process.listenerCount(signal) > 1) return;
  destroyAllSync();
  // Die from the same signal, as if we had not been listening, so the parent sees the usual status.
  for (const sig of SIGNALS) process.removeListener(sig, onSignal);
  process.kill(process.pid, signal);
}
