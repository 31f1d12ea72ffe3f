/**
 * Durations on the command line, as nebula-cert and Go write them: `720h`, `90d`, `30m`, `1h30m`.
 */
import { UsageError } from "../errors.js";

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
/** Longest duration accepted: a typo like `87600d` should not make a certificate for 240 years. */
export const MAX_DURATION_SECONDS = 100 * 365 * 86_400;

/** Parses a duration into whole seconds; throws {@link UsageError} naming `flag` when it is not one. */
export function parseDuration(text: string, flag = "--duration"): number {
  if (!/^(\d{1,10}[smhd])+$/.test(text)) {
    throw new UsageError(`${flag} "${text}" is not a duration; write it like 720h, 90d, 30m or 1h30m`);
  }
  let seconds = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(count) * UNIT_SECONDS[unit!]!;
  if (seconds === 0) throw new UsageError(`${flag} must be longer than zero`);
  if (seconds > MAX_DURATION_SECONDS) throw new UsageError(`${flag} ${text} is more than 100 years`);
  return seconds;
}

/** A duration in the largest unit that divides it, for messages: 2592000 -> "30d". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
