/**
 * Talking to the CA service of a signaling server (`ipop-signal --ca --ca-key`): exchanging a join
 * token for a certificate (`enroll`), renewing one (`renew`) and publishing a revocation list. One
 * short WebSocket connection per request, with a timeout.
 *
 * Nothing the server answers is taken on trust: the CA it hands back must be the one the token
 * names, and the certificate must verify against it and carry our key. A rogue or mistaken server
 * can refuse service, but cannot make a node trust another CA.
 */
import {
  bytesEqual,
  type Certificate,
  certificateSecondsOf,
  errorMessage,
  parseCertificate,
  parseServerMessage,
  parseToken,
  publicKeyOf,
  type ServerMessage,
  signEnrollRequest,
  signRenewRequest,
  verifyCertificate,
} from "@ipop/shared";
import { WebSocket } from "ws";
import { CaServiceError } from "./errors.js";
import { describeConnectFailure } from "./signal-tls.js";

/** Default time to wait for an answer. */
export const DEFAULT_CA_TIMEOUT_MS = 10_000;

/** A certificate the server issued, checked. */
export interface IssuedCertificate {
  readonly cert: Certificate;
  /** Armored, as written to `NAME.crt`. */
  readonly certText: string;
  readonly ca: Certificate;
  readonly caText: string;
}

type Answer<T extends ServerMessage["t"]> = Extract<ServerMessage, { t: T }>;

/**
 * Sends one message on a fresh connection to `url` and resolves with the first answer of type
 * `expected`; an `error` answer rejects with IPOP_CA_REFUSED. For a `wss://` URL, `ca` (PEM) is the
 * CA the server's certificate must come from; without it, Node's default store.
 */
export function requestOnce<T extends ServerMessage["t"]>(
  url: string,
  message: unknown,
  expected: T,
  timeoutMs = DEFAULT_CA_TIMEOUT_MS,
  ca?: string,
): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let ws: WebSocket;
    const finish = (error: CaServiceError | undefined, value?: Answer<T>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        ws.close(1000);
      } catch {
        // Closing a socket that never opened; nothing to release.
      }
      if (error !== undefined) reject(error);
      else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new CaServiceError("IPOP_CA_TIMEOUT", `no answer from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      ws = new WebSocket(url, { handshakeTimeout: timeoutMs, ...(ca === undefined ? {} : { ca }) });
    } catch (error) {
      finish(new CaServiceError("IPOP_CA_UNREACHABLE", `cannot connect to ${url}: ${errorMessage(error)}`));
      return;
    }
    ws.on("open", () => ws.send(JSON.stringify(message)));
    ws.on("message", (data) => {
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) {
        finish(
          new CaServiceError("IPOP_CA_BAD_ANSWER", `${url} sent something that is not protocol: ${parsed.message}`),
        );
      } else if (parsed.value.t === "error") {
        const { code, message: text, reason } = parsed.value;
        finish(new CaServiceError("IPOP_CA_REFUSED", `${url} refused: ${text} (${reason ?? code})`, code, reason));
      } else if (parsed.value.t === expected) {
        finish(undefined, parsed.value as Answer<T>);
      }
    });
    ws.on("error", (error) =>
      finish(
        new CaServiceError(
          "IPOP_CA_UNREACHABLE",
          `cannot reach ${url}: ${describeConnectFailure(error, ca !== undefined)}`,
        ),
      ),
    );
    ws.on("close", (code) =>
      finish(new CaServiceError("IPOP_CA_UNREACHABLE", `${url} closed the connection (${code}) before answering`)),
    );
  });
}

function parsedCertificate(text: string, what: string): Certificate {
  const parsed = parseCertificate(text);
  if (!parsed.ok) throw new CaServiceError("IPOP_CA_BAD_ANSWER", `the server's ${what}: ${parsed.message}`);
  return parsed.value;
}

/** Checks an `enrolled` answer: the CA is `expectedCaId`, the certificate verifies against it and is for `seed`. */
function checkIssued(
  answer: Answer<"enrolled">,
  expectedCaId: string,
  seed: Uint8Array,
  nowMs: number,
): IssuedCertificate {
  const ca = parsedCertificate(answer.ca, "CA certificate");
  if (ca.nodeId !== expectedCaId) {
    throw new CaServiceError(
      "IPOP_CA_BAD_ANSWER",
      `the server handed back CA ${ca.nodeId}, but the CA expected (named by the token, or the network's) is ` +
        `${expectedCaId}: not trusting it`,
    );
  }
  const cert = parsedCertificate(answer.cert, "certificate");
  const verified = verifyCertificate(cert, { ca, nowSeconds: certificateSecondsOf(nowMs) });
  if (!verified.ok) throw new CaServiceError("IPOP_CA_BAD_ANSWER", `the issued certificate: ${verified.message}`);
  if (!bytesEqual(cert.publicKey, publicKeyOf(seed))) {
    throw new CaServiceError("IPOP_CA_BAD_ANSWER", "the issued certificate is for another key");
  }
  return { cert, certText: answer.cert, ca, caText: answer.ca };
}

/** What {@link enroll} needs. */
export interface EnrollOptions {
  /** The signaling server, `ws://HOST:PORT` or `wss://HOST:PORT`. */
  readonly url: string;
  /** For `wss://`: the CA (PEM) the server's certificate must come from; default, Node's store. */
  readonly signalCa?: string;
  readonly token: string;
  /** The new node's key (32-byte seed); it never leaves this machine. */
  readonly seed: Uint8Array;
  /** The member name to ask for. */
  readonly name: string;
  /** Default: the token's network. */
  readonly network?: string;
  readonly timeoutMs?: number;
  /** Wall-clock milliseconds, to check the certificate; `Date.now()` by default. */
  readonly nowMs?: number;
}

/**
 * Exchanges a join token for a certificate with an address from the token's pool.
 * @throws {@link CaServiceError}
 */
export async function enroll(options: EnrollOptions): Promise<IssuedCertificate> {
  const token = parseToken(options.token);
  if (!token.ok) throw new CaServiceError("IPOP_CA_BAD_REQUEST", `token: ${token.message}`);
  const network = options.network ?? token.value.network;
  const request = signEnrollRequest({ network, token: token.value.text, name: options.name }, options.seed);
  const answer = await requestOnce(options.url, request, "enrolled", options.timeoutMs, options.signalCa);
  return checkIssued(answer, token.value.issuer, options.seed, options.nowMs ?? Date.now());
}

/** What {@link renew} needs. */
export interface RenewOptions {
  readonly url: string;
  /** As for {@link EnrollOptions.signalCa}. */
  readonly signalCa?: string;
  /** The certificate to renew, armored. */
  readonly certText: string;
  /** Its key. */
  readonly seed: Uint8Array;
  /** The network's CA: the renewed certificate must come from it. */
  readonly ca: Certificate;
  readonly timeoutMs?: number;
  readonly nowMs?: number;
}

/**
 * Gets a fresh certificate for the same key, name and address (renew well before it expires: an
 * expired certificate cannot be renewed).
 * @throws {@link CaServiceError}
 */
export async function renew(options: RenewOptions): Promise<IssuedCertificate> {
  const nowMs = options.nowMs ?? Date.now();
  const request = signRenewRequest(
    { network: options.ca.network, certText: options.certText, timeMs: nowMs },
    options.seed,
  );
  const answer = await requestOnce(options.url, request, "enrolled", options.timeoutMs, options.signalCa);
  return checkIssued(answer, options.ca.nodeId, options.seed, nowMs);
}

/**
 * Hands a signed revocation list to the server, which forwards it to the network's members.
 * @throws {@link CaServiceError}
 */
export async function publishRevocations(options: {
  readonly url: string;
  readonly network: string;
  readonly list: string;
  readonly timeoutMs?: number;
  readonly signalCa?: string;
}): Promise<Answer<"published">> {
  const message = { v: 1, t: "publish-revocations", network: options.network, list: options.list };
  return requestOnce(options.url, message, "published", options.timeoutMs, options.signalCa);
}
