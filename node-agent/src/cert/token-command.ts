import { formatDuration } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { checkGroups, durationFlag, listFlag, parseFlags, stringFlag } from "./args.js";
import { caFiles, readCa, readCaKey } from "./ca-files.js";
import {
  certificateSecondsOf,
  createToken,
  formatCertificateTime,
  parseIpv4Prefix,
  parseToken,
  prefixContainsPrefix,
  unwrapIdentity,
} from "./identity.js";
import type { CertIo } from "./io.js";

/** Default lifetime of a token. */
export const DEFAULT_TOKEN_TTL = "1h";
/** The overlay prefix length used when neither --prefix-length nor the CA's pools say. */
export const DEFAULT_PREFIX_LENGTH = 16;

export async function tokenCreateCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(
    args,
    {
      ttl: { type: "string" },
      pool: { type: "string" },
      "prefix-length": { type: "string" },
      groups: { type: "string" },
      lease: { type: "string" },
      "ca-crt": { type: "string" },
      "ca-key": { type: "string" },
    },
    0,
  );
  const poolText = stringFlag(parsed, "pool");
  if (poolText === undefined) throw new UsageError("missing --pool CIDR, the block addresses are handed out from");
  const pool = parseIpv4Prefix(poolText);
  if (typeof pool === "string") throw new UsageError(`--pool: ${pool}`);
  const prefixText = stringFlag(parsed, "prefix-length");
  if (prefixText !== undefined && !/^\d{1,2}$/.test(prefixText)) {
    throw new UsageError(`--prefix-length must be a number like 16, got "${prefixText}"`);
  }
  const ttl = durationFlag(stringFlag(parsed, "ttl") ?? DEFAULT_TOKEN_TTL, "--ttl");
  const leaseText = stringFlag(parsed, "lease");
  const lease = leaseText === undefined ? undefined : durationFlag(leaseText, "--lease");
  const groups = checkGroups(listFlag(parsed, "groups"));
  const files = caFiles(parsed, io);

  const now = certificateSecondsOf(io.now());
  const ca = await readCa(files, now);
  const caSeed = await readCaKey(files, ca);
  // The overlay's prefix: what the user says, else the CA block the pool lies in, else the usual /16.
  const container = ca.poolPrefixes
    .filter((p) => prefixContainsPrefix(p, pool))
    .sort((a, b) => a.prefixLength - b.prefixLength)[0];
  const prefixLength =
    prefixText !== undefined ? Number(prefixText) : (container?.prefixLength ?? DEFAULT_PREFIX_LENGTH);
  let notAfter = now + ttl;
  if (notAfter > ca.notAfter) {
    io.stderr.write(
      `ipop token: note: --ttl ${formatDuration(ttl)} would outlive the CA; the token expires with it at ` +
        `${formatCertificateTime(ca.notAfter)}\n`,
    );
    notAfter = ca.notAfter;
  }
  const id = Buffer.from(io.randomBytes(16)).toString("hex");
  const token = createToken(
    {
      id,
      pool: poolText,
      prefixLength,
      ...(groups === undefined ? {} : { groups }),
      notAfter,
      ...(lease === undefined ? {} : { leaseSeconds: lease }),
    },
    ca,
    caSeed,
  );
  caSeed.fill(0);
  // Only the token on stdout, so TOKEN=$(ipop token create ...) works; the rest for people on stderr.
  io.stdout.write(`${token}\n`);
  io.stderr.write(
    `token ${id} for network "${ca.network}": addresses from ${poolText} (as /${prefixLength}), ` +
      `certificates valid ${formatDuration(lease ?? 3600)}, usable until ${formatCertificateTime(notAfter)}.\n` +
      "It is a secret: anyone holding it can join the network until then. Exchange it at a server " +
      "started with `ipop-signal --ca ca.crt --ca-key ca.key`.\n",
  );
  return 0;
}

export async function tokenPrintCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(args, { json: { type: "boolean", default: false } }, 1);
  const text = parsed.positionals[0];
  if (text === undefined) throw new UsageError("missing TOKEN: the token text to print");
  const token = unwrapIdentity(parseToken(text), "token");
  const summary = {
    network: token.network,
    id: token.id,
    issuer: token.issuer,
    pool: token.pool,
    prefixLength: token.prefixLength,
    groups: token.groups ?? [],
    notAfter: token.notAfter,
    notAfterTime: formatCertificateTime(token.notAfter),
    leaseSeconds: token.leaseSeconds,
  };
  if (parsed.values.json === true) {
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(
    [
      `network:    ${summary.network}`,
      `id:         ${summary.id}`,
      `issuer:     ${summary.issuer}`,
      `pool:       ${summary.pool} (addresses as /${summary.prefixLength})`,
      `groups:     ${summary.groups.length > 0 ? summary.groups.join(", ") : "-"}`,
      `not after:  ${summary.notAfterTime}`,
      `lease:      ${formatDuration(summary.leaseSeconds)}`,
      "",
    ].join("\n"),
  );
  return 0;
}
