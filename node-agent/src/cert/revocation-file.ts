/** Reading a revocation list file (`ca.crl`) and showing a list to people. */
import { CertFileError } from "../errors.js";
import { readBounded } from "./files.js";
import {
  formatCertificateTime,
  MAX_REVOCATION_LIST_BYTES,
  parseRevocationList,
  type RevocationList,
  unwrapIdentity,
} from "./identity.js";

/** Reads and parses a list (structure only); undefined when the file does not exist and `optional`. */
export async function readRevocationListFile(path: string, optional: boolean): Promise<RevocationList | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(path, MAX_REVOCATION_LIST_BYTES, `no revocation list at ${path}`);
  } catch (error) {
    if (optional && error instanceof CertFileError && error.code === "IPOP_CERT_FILE_MISSING") return undefined;
    throw error;
  }
  return unwrapIdentity(parseRevocationList(bytes), path);
}

/** A list as `ipop cert print` shows it. */
export function formatRevocationListText(list: RevocationList): string {
  const lines = [
    "kind:       revocation list",
    `network:    ${list.network}`,
    `serial:     ${list.serial}`,
    `issued at:  ${formatCertificateTime(list.issuedAt)}`,
    `issuer:     ${list.issuer}`,
    `entries:    ${list.entries.length}`,
  ];
  for (const entry of list.entries) {
    const who = [
      entry.name === undefined ? "" : `name ${entry.name}`,
      entry.nodeId === undefined ? "" : `node id ${entry.nodeId}`,
    ]
      .filter((part) => part !== "")
      .join(", ");
    lines.push(`  ${formatCertificateTime(entry.at)}  ${who}`);
  }
  return lines.join("\n");
}
