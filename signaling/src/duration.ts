import { OptionError } from "./errors.js";

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a duration as `ipop cert` writes them (`1h`, `90m`, `1h30m`, `7d`) into whole seconds.
 * @throws {@link OptionError} naming `flag` when it is not one.
 */
export function parseDurationSeconds(text: string, flag: string): number {
  if (!/^(\d{1,10}[smhd])+$/.test(text)) {
    throw new OptionError(`${flag} "${text}" is not a duration; write it like 1h, 90m, 1h30m or 7d`);
  }
  let seconds = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(count) * UNIT_SECONDS[unit!]!;
  return seconds;
}
