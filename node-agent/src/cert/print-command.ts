/** `ipop cert print`: shows what a certificate says, without judging it. */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { parseFlags } from "./args.js";
import { formatCertificateText, summarizeCertificate } from "./identity.js";
import type { CertIo } from "./io.js";
import { readCertificateFile } from "./read.js";

export async function printCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(args, { json: { type: "boolean", default: false } }, 1);
  const file = parsed.positionals[0];
  if (file === undefined) throw new UsageError("missing FILE: the certificate to print");
  const path = resolve(io.cwd, file);
  const cert = await readCertificateFile(path, `no file at ${path}`);
  io.stdout.write(
    parsed.values.json === true
      ? `${JSON.stringify(summarizeCertificate(cert), null, 2)}\n`
      : `${formatCertificateText(cert)}\n`,
  );
  return 0;
}
