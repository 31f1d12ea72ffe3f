/**
 * TURN servers for members, with coturn's time-limited REST credentials (coturn `use-auth-secret`):
 * username `EXPIRY:NAME` (Unix seconds, the member's name), password base64(HMAC-SHA1(secret,
 * username)). The server holds only the shared secret; each member gets credentials that stop working
 * on their own, and fresh ones before they do (docs/nat.md).
 */
import { createHmac } from "node:crypto";
import type { SignalIceServer } from "@ipop/shared";
import { TurnError } from "./errors.js";
import { checkPrivate, readLimited } from "./key-files.js";

/** What `--turn-secret-file`, `--turn-url` and `--turn-ttl` asked for. */
export interface TurnPaths {
  readonly secretFile: string;
  /** `turn:HOST:PORT[?transport=...]` or `turns:...`, without credentials. */
  readonly urls: readonly string[];
  readonly ttlSeconds: number;
}

/** One member's servers and when to send fresh ones. */
export interface TurnGrant {
  readonly servers: readonly SignalIceServer[];
  /** When the credentials stop working, Unix seconds. */
  readonly expires: number;
  /** When to send the next grant: halfway through the lifetime, so a late one still arrives in time. */
  readonly renewInMs: number;
}

/** Default credential lifetime (coturn's documentation suggests a day). */
export const DEFAULT_TURN_TTL_SECONDS = 86_400;
/** Shortest lifetime accepted: renewals every half of it must stay rare. */
export const MIN_TURN_TTL_SECONDS = 60;
const MAX_SECRET_BYTES = 1024;

/** Issues REST credentials from one shared secret. */
export class TurnCredentialIssuer {
  readonly #secret: string;
  readonly #urls: readonly string[];
  readonly #ttlSeconds: number;

  constructor(secret: string, urls: readonly string[], ttlSeconds: number = DEFAULT_TURN_TTL_SECONDS) {
    if (secret.length === 0) throw new TurnError("the TURN shared secret is empty");
    if (!(ttlSeconds >= MIN_TURN_TTL_SECONDS))
      throw new TurnError(`TURN credentials must live ${MIN_TURN_TTL_SECONDS} s or more`);
    this.#secret = secret;
    this.#urls = [...urls];
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * The servers for member `name` at wall time `wallMs`: each TURN URL with credentials, and a STUN
   * URL on the same host and port (coturn answers STUN there too).
   */
  grant(name: string, wallMs: number): TurnGrant {
    const expires = Math.floor(wallMs / 1000) + this.#ttlSeconds;
    const username = `${expires}:${name}`;
    const credential = createHmac("sha1", this.#secret).update(username).digest("base64");
    const servers: SignalIceServer[] = [];
    for (const url of this.#urls) {
      const stun = url.replace(/^turns?:/, "stun:").replace(/\?.*$/, "");
      if (!url.startsWith("turns:") && !servers.some((s) => s.urls === stun)) servers.push({ urls: stun });
      servers.push({ urls: url, username, credential });
    }
    return { servers, expires, renewInMs: (this.#ttlSeconds * 1000) / 2 };
  }
}

/**
 * Reads the shared secret (one line, the same as coturn's `static-auth-secret`) from a file only its
 * owner can read, and makes the issuer.
 * @throws {@link TurnError} naming the file, never its content
 */
export async function loadTurnIssuer(paths: TurnPaths): Promise<TurnCredentialIssuer> {
  const refuse = (message: string) => new TurnError(message);
  await checkPrivate(paths.secretFile, "--turn-secret-file", "the TURN shared secret", refuse);
  const bytes = await readLimited(paths.secretFile, MAX_SECRET_BYTES, "--turn-secret-file", refuse);
  const secret = bytes.toString("utf8").trim();
  if (secret.length === 0 || /\s/.test(secret)) {
    throw new TurnError(`--turn-secret-file ${paths.secretFile}: expected the secret on one line, with no spaces`);
  }
  return new TurnCredentialIssuer(secret, paths.urls, paths.ttlSeconds);
}
