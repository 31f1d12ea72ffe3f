/**
 * Durations as people type them on a command line, the way nebula-cert and Go write them: `720h`, `90d`,
 * `30m`, `1h30m`. One parser for every package, so `ipop cert`, `ipop token` and `ipop-signal` accept
 * and refuse the same texts.
 */

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Longest duration accepted: a typo like `87600d` should not make a certificate for 240 years. */
export const MAX_DURATION_SECONDS = 100 * 365 * 86_400;

/**
 * Parses a duration into whole seconds, or returns why it is not one. The reason is written to follow
 * the flag's name (`--lease ${reason}`). Zero and more than {@link MAX_DURATION_SECONDS} are refused:
 * neither is ever meant.
 */
export function parseDuration(text: string): number | string {
  if (!/^(\d{1,10}[smhd])+$/.test(text)) return `"${text}" is not a duration; write it like 720h, 90d, 30m or 1h30m`;
  let seconds = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(count) * UNIT_SECONDS[unit!]!;
  if (seconds === 0) return `${text} must be longer than zero`;
  if (seconds > MAX_DURATION_SECONDS) return `${text} is more than 100 years`;
  return seconds;
}

/** A duration in the largest unit that divides it, for messages: 2592000 -> "30d". It parses back. */
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
