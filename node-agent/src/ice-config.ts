/**
 * The agent's STUN/TURN servers: URLs from `--ice-server` or the config file's `iceServers`, and TURN
 * credentials from a file (`--turn-credentials-file`) or the environment (`IPOP_TURN_USERNAME`,
 * `IPOP_TURN_CREDENTIAL`), never from argv, where `ps` shows them to every user of the host.
 */
import { readBounded } from "./cert/files.js";
import { AgentError } from "./errors.js";
import { type IceServer, isTurnUrl } from "./link/ice-servers.js";

/** Largest TURN credentials file read; real ones are a few dozen bytes. */
const MAX_CREDENTIALS_FILE_BYTES = 4096;
/** Longest username or credential accepted (coturn's own limit is 512). */
const MAX_FIELD_CHARS = 512;

/** TURN credentials: a long-term user, or coturn REST credentials (`EXPIRY:NAME` and its HMAC). */
export interface TurnCredentials {
  readonly username: string;
  readonly credential: string;
}

/**
 * Parses a credentials file: JSON `{"username": "...", "credential": "..."}`.
 * @throws AgentError IPOP_USAGE naming the file (never its content) when it is not that
 */
export function parseTurnCredentials(text: string, source: string): TurnCredentials {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Partial<Record<string, unknown>> | null | undefined;
  const username = v?.username;
  const credential = v?.credential;
  if (
    typeof username !== "string" ||
    typeof credential !== "string" ||
    username.length === 0 ||
    username.length > MAX_FIELD_CHARS ||
    credential.length > MAX_FIELD_CHARS
  ) {
    throw new AgentError(
      "IPOP_USAGE",
      `${source} must hold JSON {"username": "...", "credential": "..."} (each at most ${MAX_FIELD_CHARS} characters)`,
    );
  }
  return { username, credential };
}

/**
 * The TURN credentials from `file` if given, else from `IPOP_TURN_USERNAME`/`IPOP_TURN_CREDENTIAL`;
 * undefined when neither is set.
 */
export async function loadTurnCredentials(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<TurnCredentials | undefined> {
  if (file !== undefined) {
    const bytes = await readBounded(file, MAX_CREDENTIALS_FILE_BYTES, `no TURN credentials file at ${file}`);
    return parseTurnCredentials(Buffer.from(bytes).toString("utf8"), `the TURN credentials file ${file}`);
  }
  const username = env.IPOP_TURN_USERNAME;
  const credential = env.IPOP_TURN_CREDENTIAL;
  if (username === undefined && credential === undefined) return undefined;
  return parseTurnCredentials(JSON.stringify({ username, credential }), "IPOP_TURN_USERNAME and IPOP_TURN_CREDENTIAL");
}

/**
 * Pairs each URL with the credentials it needs: TURN URLs get `credentials`, STUN URLs none.
 * @throws AgentError IPOP_USAGE when a TURN URL is given without credentials
 */
export function iceServersFor(urls: readonly string[], credentials: TurnCredentials | undefined): IceServer[] {
  return urls.map((urls) => {
    if (!isTurnUrl(urls)) return { urls };
    if (credentials === undefined) {
      throw new AgentError(
        "IPOP_USAGE",
        `${urls} needs credentials: put {"username": ..., "credential": ...} in a file given with ` +
          "--turn-credentials-file FILE, or set IPOP_TURN_USERNAME and IPOP_TURN_CREDENTIAL " +
          "(or let ipop-signal --turn-secret-file hand out TURN servers)",
      );
    }
    return { urls, username: credentials.username, credential: credentials.credential };
  });
}
