/**
 * libdatachannel's own log (ICE checks, nominations, TURN, DTLS), off unless `IPOP_NDC_LOG` names a
 * level. It is the only way to see why libjuice chose a candidate pair; the agent's log says only
 * which one it chose. Lines go to stderr as `ndc <level>: <message>`.
 */
import type { LogLevel } from "node-datachannel";
import { LinkError } from "../errors.js";

const LEVELS: readonly LogLevel[] = ["Verbose", "Debug", "Info", "Warning", "Error", "Fatal"];

/**
 * The level `IPOP_NDC_LOG` asks for (case-insensitive), or undefined when it is unset or empty.
 * @throws LinkError `IPOP_LINK_BAD_LOG_LEVEL` for a value that names no level.
 */
export function ndcLogLevel(env: Readonly<Record<string, string | undefined>>): LogLevel | undefined {
  const text = env.IPOP_NDC_LOG?.trim();
  if (text === undefined || text === "") return undefined;
  const level = LEVELS.find((l) => l.toLowerCase() === text.toLowerCase());
  if (level === undefined) {
    throw new LinkError(
      "IPOP_LINK_BAD_LOG_LEVEL",
      `IPOP_NDC_LOG=${JSON.stringify(text.slice(0, 40))} names no log level; use one of ${LEVELS.join(", ")}`,
    );
  }
  return level;
}
