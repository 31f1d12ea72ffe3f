/** `ipop cert ca`: makes a network's CA key and self-signed certificate. */
import { resolve } from "node:path";
import { formatDuration, isNetworkName } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { checkGroups, durationFlag, listFlag, parseFlags, poolsFlag, requiredFlag, stringFlag } from "./args.js";
import { writeKeyAndCertificate } from "./files.js";
import {
  certificateSecondsOf,
  formatCertificateTime,
  generateKeyPair,
  nodeIdOf,
  SEED_BYTES,
  selfSignCa,
} from "./identity.js";
import type { CertIo } from "./io.js";

/** Default lifetime of a CA: a year, as nebula-cert. */
export const DEFAULT_CA_DURATION = "8760h";
/**
 * How far back `notBefore` is set: certificates are checked on other machines, whose clocks may be a
 * little behind the one that signed.
 */
export const CLOCK_SKEW_SECONDS = 60;

export async function caCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(
    args,
    {
      network: { type: "string" },
      name: { type: "string" },
      duration: { type: "string" },
      pools: { type: "string" },
      groups: { type: "string" },
      "out-crt": { type: "string" },
      "out-key": { type: "string" },
      force: { type: "boolean", default: false },
    },
    0,
  );
  const network = requiredFlag(parsed, "network", "NAME");
  if (!isNetworkName(network)) {
    throw new UsageError(`--network "${network}" must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric`);
  }
  const name = stringFlag(parsed, "name") ?? network;
  if (!isNetworkName(name)) {
    throw new UsageError(`--name "${name}" must be 1-64 characters of [A-Za-z0-9._-], starting alphanumeric`);
  }
  const duration = durationFlag(stringFlag(parsed, "duration") ?? DEFAULT_CA_DURATION, "--duration");
  const pools = poolsFlag(parsed);
  const groups = checkGroups(listFlag(parsed, "groups"));
  const crtPath = resolve(io.cwd, stringFlag(parsed, "out-crt") ?? "ca.crt");
  const keyPath = resolve(io.cwd, stringFlag(parsed, "out-key") ?? "ca.key");

  const now = certificateSecondsOf(io.now());
  const keys = generateKeyPair(io.randomBytes(SEED_BYTES));
  const notAfter = now + duration;
  const text = selfSignCa(
    {
      network,
      name,
      ...(pools === undefined ? {} : { pools }),
      ...(groups === undefined ? {} : { groups }),
      notBefore: now - CLOCK_SKEW_SECONDS,
      notAfter,
    },
    keys.seed,
  );
  await writeKeyAndCertificate({ keyPath, crtPath }, keys.seed, text, {
    force: parsed.values.force === true,
    randomBytes: io.randomBytes,
  });
  io.stdout.write(
    `wrote ${crtPath} and ${keyPath}\n` +
      `CA "${name}" for network "${network}", id ${nodeIdOf(keys.publicKey)}, ` +
      `valid ${formatDuration(duration)} until ${formatCertificateTime(notAfter)}\n` +
      `Keep ${keyPath} secret, ideally offline: whoever has it can add members to the network.\n`,
  );
  return 0;
}
