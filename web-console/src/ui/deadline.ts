import { ConsoleError } from "../api.js";

/**
 * Settles like `promise`, or rejects with a ConsoleError "timeout" after `ms`: the UI never waits on
 * the network without an end (a lost status answer must not stall the graph or a panel). The
 * underlying call is not stopped; its late result is ignored.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConsoleError("timeout", `${what}: no answer in ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
