/** `ipop cert print`: shows what a certificate or a revocation list says, without judging it. */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import { parseFlags } from "./args.js";
import { readBounded } from "./files.js";
import { formatCertificateText, MAX_REVOCATION_LIST_BYTES, summarizeCertificate } from "./identity.js";
import type { CertIo } from "./io.js";
import { readCertificateFile } from "./read.js";
import { formatRevocationListText, readRevocationListFile } from "./revocation-file.js";

const LIST_MARKER = "-----BEGIN IPOP REVOCATION LIST-----";

export async function printCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(args, { json: { type: "boolean", default: false } }, 1);
  const file = parsed.positionals[0];
  if (file === undefined) throw new UsageError("missing FILE: the certificate to print");
  const path = resolve(io.cwd, file);
  const head = await readBounded(path, MAX_REVOCATION_LIST_BYTES, `no file at ${path}`);
  if (Buffer.from(head).toString("latin1").trimStart().startsWith(LIST_MARKER)) {
    const list = (await readRevocationListFile(path, false))!;
    const { text: _text, body: _body, signature: _signature, ...fields } = list;
    io.stdout.write(
      parsed.values.json === true ? `${JSON.stringify(fields, null, 2)}\n` : `${formatRevocationListText(list)}\n`,
    );
    return 0;
  }
  const cert = await readCertificateFile(path, `no file at ${path}`);
  io.stdout.write(
    parsed.values.json === true
      ? `${JSON.stringify(summarizeCertificate(cert), null, 2)}\n`
      : `${formatCertificateText(cert)}\n`,
  );
  return 0;
}
