/**
 * `ipop cert revoke`: adds names or node ids to the CA's revocation list (`ca.crl` beside `ca.crt`),
 * signs it with a higher serial, and with --signal hands it to the signaling server, which passes it
 * to every member and disconnects the revoked ones.
 */
import { dirname, join, resolve } from "node:path";
import { publishRevocations } from "../enroll-client.js";
import { UsageError } from "../errors.js";
import { loadSignalCa } from "../signal-tls.js";
import { parseFlags, stringFlag } from "./args.js";
import { caFiles, readCa, readCaKey } from "./ca-files.js";
import { CERT_FILE_MODE, writeFiles } from "./files.js";
import {
  certificateSecondsOf,
  createRevocationList,
  isMemberName,
  isNodeIdHex,
  type RevocationEntry,
  unwrapIdentity,
  verifyRevocationList,
} from "./identity.js";
import type { CertIo } from "./io.js";
import { readRevocationListFile } from "./revocation-file.js";

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A node id as given: a certificate's (32 hex) or the agent's `<32 hex>-<8 hex>`, whose key part is kept. */
function keyIdOf(text: string): string {
  const id = text.toLowerCase().replace(/-[0-9a-f]{8}$/, "");
  if (!isNodeIdHex(id)) {
    throw new UsageError(`--node-id "${text}" is not a node id (32 hex digits, as \`ipop cert print\` shows)`);
  }
  return id;
}

export async function revokeCommand(args: readonly string[], io: CertIo): Promise<number> {
  const parsed = parseFlags(
    args,
    {
      name: { type: "string", multiple: true },
      "node-id": { type: "string", multiple: true },
      crl: { type: "string" },
      signal: { type: "string" },
      "signal-ca": { type: "string" },
      "ca-crt": { type: "string" },
      "ca-key": { type: "string" },
    },
    0,
  );
  const names = stringList(parsed.values.name);
  const nodeIds = stringList(parsed.values["node-id"]).map(keyIdOf);
  for (const name of names) {
    if (!isMemberName(name)) throw new UsageError(`--name "${name}" is not a member name`);
  }
  const signal = stringFlag(parsed, "signal");
  if (signal !== undefined && !/^wss?:\/\/./.test(signal)) {
    throw new UsageError(`--signal must be a ws:// or wss:// URL, got "${signal}"`);
  }
  const signalCaPath = stringFlag(parsed, "signal-ca");
  if (signalCaPath !== undefined && !signal?.startsWith("wss://")) {
    throw new UsageError("--signal-ca is for a wss:// signaling server: give --signal wss://HOST:PORT");
  }
  if (names.length === 0 && nodeIds.length === 0 && signal === undefined) {
    throw new UsageError(
      "missing --name NAME or --node-id ID: what to revoke (or --signal URL to publish the list as it is)",
    );
  }
  const files = caFiles(parsed, io);
  const crlPath = resolve(io.cwd, stringFlag(parsed, "crl") ?? join(dirname(files.crtPath), "ca.crl"));

  const now = certificateSecondsOf(io.now());
  const ca = await readCa(files, now);
  const existing = await readRevocationListFile(crlPath, true);
  if (existing !== undefined) unwrapIdentity(verifyRevocationList(existing, { ca }), crlPath);

  let listText = existing?.text;
  const added: RevocationEntry[] = [];
  if (names.length > 0 || nodeIds.length > 0) {
    const entries = [...(existing?.entries ?? [])];
    const revoked = new Set(entries.flatMap((e) => [e.name, e.nodeId]).filter((v) => v !== undefined));
    for (const nodeId of new Set(nodeIds)) if (!revoked.has(nodeId)) added.push({ nodeId, at: now });
    for (const name of new Set(names)) if (!revoked.has(name)) added.push({ name, at: now });
    if (added.length > 0) {
      const caSeed = await readCaKey(files, ca);
      const serial = (existing?.serial ?? 0) + 1;
      listText = createRevocationList({ serial, issuedAt: now, entries: [...entries, ...added] }, ca, caSeed);
      caSeed.fill(0);
      await writeFiles([{ path: crlPath, content: listText, mode: CERT_FILE_MODE }], {
        force: true,
        tempSuffix: () => Buffer.from(io.randomBytes(6)).toString("hex"),
      });
      io.stdout.write(
        `wrote ${crlPath}: revocation list ${serial} of network "${ca.network}", ` +
          `${entries.length + added.length} entries (${added.length} new)\n`,
      );
    } else {
      io.stdout.write(`${crlPath} already revokes all of these; unchanged\n`);
    }
  }
  if (signal !== undefined) {
    if (listText === undefined)
      throw new UsageError(`there is no list at ${crlPath} to publish; revoke something first`);
    const signalCa = signalCaPath === undefined ? undefined : await loadSignalCa(resolve(io.cwd, signalCaPath));
    const answer = await publishRevocations({
      url: signal,
      network: ca.network,
      list: listText,
      ...(signalCa === undefined ? {} : { signalCa }),
    });
    io.stdout.write(
      `${signal} took revocation list ${answer.serial}: sent to ${answer.notified} members, ` +
        `disconnected ${answer.disconnected}\n`,
    );
  } else if (added.length > 0) {
    io.stdout.write(
      "Publish it with `ipop cert revoke --signal ws://HOST:PORT`, or the nodes' signaling server learns it " +
        "when restarted with --crl.\n",
    );
  }
  return 0;
}
