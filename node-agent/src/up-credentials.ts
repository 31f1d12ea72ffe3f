/**
 * What `ipop up` starts with: the node's checked credentials, from certificate files or from a join
 * token exchanged at the signaling server, and the revocation list given with `--crl`. Everything is
 * checked before a TUN device or a link exists, so a bad credential costs nothing but a message.
 */
import { randomBytes } from "node:crypto";
import type { Ipv4Interface } from "@ipop/shared";
import { formatIpv4Interface, MAX_TOKEN_CHARS } from "@ipop/shared";
import { type Credentials, loadCredentials } from "./cert/credentials.js";
import { readBounded } from "./cert/files.js";
import { hostMemberName, type UpOptions } from "./cli-args.js";
import { enroll, type IssuedCertificate } from "./enroll-client.js";
import { AgentError } from "./errors.js";
import { signalUrls } from "./signaling-client.js";

/** Largest revocation list file `--crl` reads. */
const MAX_CRL_FILE_BYTES = 512 * 1024;

export interface StartingCredentials {
  readonly credentials: Credentials & { readonly address: Ipv4Interface };
  readonly revocations?: string;
  /** For a token-enrolled node: what the server issued, to renew before it expires. */
  readonly issued?: IssuedCertificate;
}

export async function startingCredentials(
  options: UpOptions,
  env: NodeJS.ProcessEnv,
  signalCa?: string,
): Promise<StartingCredentials> {
  const { auth } = options;
  const { credentials, issued } =
    auth.kind === "files"
      ? { credentials: await fromFiles(options, auth), issued: undefined }
      : await fromToken(options, auth, env, signalCa);
  const { cert, address } = credentials;
  if (address === undefined) {
    throw new AgentError(
      "IPOP_USAGE",
      `the certificate lets this node claim an address from ${cert.pools?.join(", ")}: pick one with --ip A.B.C.D/N`,
    );
  }
  if (options.name !== undefined && options.name !== cert.name) {
    throw new AgentError(
      "IPOP_USAGE",
      `--name ${options.name} differs from the certificate's name "${cert.name}": leave --name out, or sign a certificate for ${options.name}`,
    );
  }
  const base = { credentials: { ...credentials, address }, ...(issued === undefined ? {} : { issued }) };
  if (options.crl === undefined) return base;
  const bytes = await readBounded(options.crl, MAX_CRL_FILE_BYTES, `no revocation list at ${options.crl}`);
  return { ...base, revocations: Buffer.from(bytes).toString("utf8") };
}

type Auth = UpOptions["auth"];

function fromFiles(options: UpOptions, auth: Auth & { kind: "files" }): Promise<Credentials> {
  return loadCredentials({
    caPath: auth.ca,
    certPath: auth.cert,
    keyPath: auth.key,
    nowMs: Date.now(),
    ...(options.network === undefined ? {} : { network: options.network }),
    ...(options.address === undefined ? {} : { ip: options.address }),
  });
}

/** Makes a key (kept in memory only), and exchanges the token for a certificate for it. */
async function fromToken(
  options: UpOptions,
  auth: Auth & { kind: "token" },
  env: NodeJS.ProcessEnv,
  signalCa: string | undefined,
): Promise<{ credentials: Credentials; issued: IssuedCertificate }> {
  const token = await readToken(auth.file, env);
  const seed = new Uint8Array(randomBytes(32));
  const issued = await enroll({
    // Enrollment goes to the first server; any of them with the CA key (sharing leases on Redis) would do.
    url: signalUrls(options.signal)[0] ?? options.signal,
    ...(signalCa === undefined ? {} : { signalCa }),
    token,
    seed,
    name: options.name ?? hostMemberName(),
    ...(options.network === undefined ? {} : { network: options.network }),
  });
  const { cert, ca } = issued;
  if (options.address !== undefined && formatIpv4Interface(options.address) !== cert.ip) {
    throw new AgentError(
      "IPOP_USAGE",
      `--ip ${formatIpv4Interface(options.address)} was asked for, but the server leased ${cert.ip}: leave --ip out with a token`,
    );
  }
  const credentials: Credentials = {
    ca,
    cert,
    keySeed: seed,
    nodeId: cert.nodeId,
    network: cert.network,
    ...(cert.address === undefined ? {} : { address: cert.address }),
  };
  return { credentials, issued };
}

async function readToken(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (file === undefined) return (env.IPOP_TOKEN ?? "").trim();
  const bytes = await readBounded(
    file,
    MAX_TOKEN_CHARS + 2,
    `no token file at ${file}: make one with \`ipop token create\``,
  );
  return Buffer.from(bytes).toString("utf8").trim();
}
