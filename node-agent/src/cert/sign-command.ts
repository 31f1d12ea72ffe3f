/** `ipop cert sign`: makes a node key and a certificate for it, signed by the CA. */
import { resolve } from "node:path";
import { formatDuration, isMemberName, parseIpv4Interface } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { checkGroups, durationFlag, listFlag, parseFlags, poolsFlag, requiredFlag, stringFlag } from "./args.js";
import { CLOCK_SKEW_SECONDS } from "./ca-command.js";
import { caFiles, readCa, readCaKey } from "./ca-files.js";
import { writeKeyAndCertificate } from "./files.js";
import {
  certificateSecondsOf,
  formatCertificateTime,
  generateKeyPair,
  nodeIdOf,
  SEED_BYTES,
  signCertificate,
} from "./identity.js";
import type { CertIo } from "./io.js";

export async function signCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(
    args,
    {
      name: { type: "string" },
      ip: { type: "string" },
      pools: { type: "string" },
      groups: { type: "string" },
      duration: { type: "string" },
      "ca-crt": { type: "string" },
      "ca-key": { type: "string" },
      "out-crt": { type: "string" },
      "out-key": { type: "string" },
      force: { type: "boolean", default: false },
    },
    0,
  );
  const name = requiredFlag(parsed, "name", "NAME");
  if (!isMemberName(name)) {
    throw new UsageError(`--name "${name}" must be 1-63 characters of [A-Za-z0-9._-], starting alphanumeric`);
  }
  const ip = stringFlag(parsed, "ip");
  if (ip !== undefined) {
    const address = parseIpv4Interface(ip);
    if (typeof address === "string") throw new UsageError(`--ip: ${address}`);
  }
  const pools = poolsFlag(parsed);
  if (ip === undefined && (pools === undefined || pools.length === 0)) {
    throw new UsageError("missing --ip A.B.C.D/N (the node's address), or --pools CIDR,... to claim one from");
  }
  const groups = checkGroups(listFlag(parsed, "groups"));
  const durationText = stringFlag(parsed, "duration");
  const duration = durationText === undefined ? undefined : durationFlag(durationText, "--duration");
  const files = caFiles(parsed, io);
  const crtPath = resolve(io.cwd, stringFlag(parsed, "out-crt") ?? `${name}.crt`);
  const keyPath = resolve(io.cwd, stringFlag(parsed, "out-key") ?? `${name}.key`);

  const now = certificateSecondsOf(io.now());
  const ca = await readCa(files, now);
  const caSeed = await readCaKey(files, ca);

  // A node certificate never outlives its CA: without --duration it lives as long as the CA
  // (as nebula-cert does); a longer --duration is cut to the CA's end, with a note.
  let notAfter = duration === undefined ? ca.notAfter : now + duration;
  if (notAfter > ca.notAfter) {
    io.stderr.write(
      `ipop cert: note: --duration ${formatDuration(duration ?? 0)} would outlive the CA; ` +
        `the certificate expires with the CA at ${formatCertificateTime(ca.notAfter)}\n`,
    );
    notAfter = ca.notAfter;
  }
  const keys = generateKeyPair(io.randomBytes(SEED_BYTES));
  const text = signCertificate(
    {
      name,
      ...(ip === undefined ? {} : { ip }),
      ...(pools === undefined || pools.length === 0 ? {} : { pools }),
      ...(groups === undefined ? {} : { groups }),
      notBefore: now - CLOCK_SKEW_SECONDS,
      notAfter,
      publicKey: keys.publicKey,
    },
    ca,
    caSeed,
  );
  caSeed.fill(0);
  await writeKeyAndCertificate({ keyPath, crtPath }, keys.seed, text, {
    force: parsed.values.force === true,
    randomBytes: io.randomBytes,
  });
  io.stdout.write(
    `wrote ${crtPath} and ${keyPath}\n` +
      `node "${name}" (${ip ?? `pools ${pools?.join(",")}`}) in network "${ca.network}", ` +
      `node id ${nodeIdOf(keys.publicKey)}, valid until ${formatCertificateTime(notAfter)}\n` +
      `Copy both to the node, with ca.crt; ${keyPath} is its secret.\n`,
  );
  return 0;
}
