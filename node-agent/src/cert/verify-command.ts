/** `ipop cert verify`: checks a certificate against a CA as a node would; exit 0 valid, 1 not. */
import { resolve } from "node:path";
import { isNetworkName } from "@ipop/shared";
import { UsageError } from "../errors.js";
import { parseFlags, stringFlag } from "./args.js";
import {
  certificateSecondsOf,
  checkCa,
  describeCertificate,
  formatCertificateTime,
  unwrapIdentity,
  verifyCertificate,
} from "./identity.js";
import type { CertIo } from "./io.js";
import { readCertificateFile } from "./read.js";

export async function verifyCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(args, { ca: { type: "string" }, network: { type: "string" } }, 1);
  const file = parsed.positionals[0];
  if (file === undefined) throw new UsageError("missing FILE: the certificate to verify");
  const network = stringFlag(parsed, "network");
  if (network !== undefined && !isNetworkName(network))
    throw new UsageError(`--network "${network}" is not a network name`);
  const caPath = resolve(io.cwd, stringFlag(parsed, "ca") ?? "ca.crt");
  const path = resolve(io.cwd, file);
  const ca = await readCertificateFile(caPath, `no CA certificate at ${caPath}: pass the network's CA with --ca PATH`);
  const cert = await readCertificateFile(path, `no file at ${path}`);
  const nowSeconds = certificateSecondsOf(io.now());
  const scope = network === undefined ? {} : { network };
  unwrapIdentity(checkCa(ca, { nowSeconds, ...scope }), caPath);
  unwrapIdentity(verifyCertificate(cert, { ca, nowSeconds, ...scope }), path);
  io.stdout.write(
    `${path}: valid: ${describeCertificate(cert)} of network "${cert.network}", node id ${cert.nodeId}, ` +
      `until ${formatCertificateTime(cert.notAfter)}\n`,
  );
  return 0;
}
