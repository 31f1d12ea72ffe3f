/**
 * coturn (Debian's `turnserver`) as the NAT lab's STUN and TURN server, run by the test inside the
 * lab's internet namespace with every file it writes (config, user database, pid file) in a private
 * temporary directory, so nothing it does touches /etc or /var.
 *
 * Authentication is coturn's REST scheme (`use-auth-secret`): a TURN username is `EXPIRY:NAME` and its
 * password is base64(HMAC-SHA1(secret, username)), the credentials `ipop-signal --turn-secret-file`
 * hands out. The secret goes to coturn in its config file, never in argv.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lab } from "../netns.js";
import type { LabProcess } from "../process.js";

/** The STUN/TURN port coturn listens on. */
export const TURN_PORT = 3478;

/** Options of {@link startCoturn}. */
export interface CoturnOptions {
  /** Namespace host to run in. */
  readonly host: string;
  /** Addresses to listen on; the first also relays. Two let a client tell its NAT's mapping kind. */
  readonly listenIps: readonly string[];
  /** Relayed peers must be in this range (`first-last`), so coturn never relays out of the lab. */
  readonly allowedPeers: string;
}

/** A running coturn. */
export interface Coturn {
  readonly proc: LabProcess;
  /** `stun:IP:3478` for each listening address. */
  readonly stunUrls: readonly string[];
  /** `turn:IP:3478?transport=udp` on the first address. */
  readonly turnUrl: string;
  /** File holding the REST shared secret (mode 0600), for `ipop-signal --turn-secret-file`. */
  readonly secretFile: string;
  /** Time-limited REST credentials for `name`, valid for `ttlS` seconds from now. */
  credentials(name: string, ttlS?: number): { username: string; credential: string };
  /** Stops coturn and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts coturn and waits until it listens. The lab stops it on destroy if the test did not.
 */
export async function startCoturn(lab: Lab, options: CoturnOptions): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), "ipop-coturn-"));
  const secret = randomBytes(24).toString("base64url");
  const secretFile = join(dir, "turn-secret");
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const relayIp = options.listenIps[0];
  if (relayIp === undefined) throw new RangeError("coturn needs at least one listening address");
  const config = [
    ...options.listenIps.map((ip) => `listening-ip=${ip}`),
    `listening-port=${TURN_PORT}`,
    `relay-ip=${relayIp}`,
    "min-port=49152",
    "max-port=65535",
    "realm=ipop.lab",
    "use-auth-secret",
    `static-auth-secret=${secret}`,
    "fingerprint",
    // Relay only inside the lab. This also keeps coturn alive: a relay send to a home network's private
    // host candidate fails with ENETUNREACH in the lab (the internet has no route there), and coturn
    // closes the whole allocation on that error, so TURN between two NATed agents never worked.
    "denied-peer-ip=0.0.0.0-255.255.255.255",
    `allowed-peer-ip=${options.allowedPeers}`,
    `userdb=${join(dir, "turndb")}`,
    `pidfile=${join(dir, "turnserver.pid")}`,
    "no-tls",
    "no-dtls",
    "no-cli",
    "log-file=stdout",
    "simple-log",
    "verbose",
  ].join("\n");
  const configFile = join(dir, "turnserver.conf");
  writeFileSync(configFile, `${config}\n`, { mode: 0o600 });
  const proc = lab.spawn(options.host, ["turnserver", "-c", configFile], { label: "coturn" });
  try {
    // Logged once its relay and listener threads exist (its `-n` means "no config file": not wanted).
    await proc.waitForLine(/Total General servers/, { timeoutMs: 15_000 });
  } catch (error) {
    await proc.stop("SIGKILL", 1_000);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    proc,
    stunUrls: options.listenIps.map((ip) => `stun:${ip}:${TURN_PORT}`),
    turnUrl: `turn:${relayIp}:${TURN_PORT}?transport=udp`,
    secretFile,
    credentials(name, ttlS = 3600) {
      const username = `${Math.floor(Date.now() / 1000) + ttlS}:${name}`;
      return { username, credential: createHmac("sha1", secret).update(username).digest("base64") };
    },
    async stop() {
      await proc.stop("SIGTERM", 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
