import {
  bytesEqual,
  type Certificate,
  certificateSecondsOf,
  parseCertificate,
  parseServerMessage,
  parseToken,
  publicKeyOf,
  signEnrollRequest,
  signRenewRequest,
  verifyCertificate,
} from "@ipop/shared";
import { ConsoleError } from "../api.js";

/** What the signaling server's CA issued this page, checked. */
export interface PageCredentials {
  readonly cert: Certificate;
  readonly certText: string;
  readonly ca: Certificate;
}

const ENROLL_TIMEOUT_MS = 10_000;

/**
 * Exchanges a join token for a short-lived certificate with an address from the token's pool, as
 * `ipop up --token-file` does (the agent's enroll-client.ts): one request on a fresh WebSocket, and
 * nothing in the answer taken on trust (the CA must be the one the token names, the certificate
 * must verify against it and carry our key).
 * @throws {@link ConsoleError} token-refused, unknown-network, signaling-down or timeout.
 */
export async function enrollPage(
  url: string,
  network: string,
  tokenText: string,
  name: string,
  seed: Uint8Array,
): Promise<PageCredentials> {
  const token = parseToken(tokenText);
  if (!token.ok) throw new ConsoleError("token-refused", `the join token is not valid: ${token.message}`);
  if (token.value.network !== network)
    throw new ConsoleError(
      "unknown-network",
      `the token is for network "${token.value.network}", not "${network}": check the network name`,
    );
  const request = signEnrollRequest({ network, token: token.value.text, name }, seed);
  const answer = await requestOnce(url, request);
  if (answer.t === "error") {
    const reason = answer.reason ?? answer.code;
    if (/NETWORK/i.test(reason) || /network/.test(answer.message))
      throw new ConsoleError("unknown-network", `${url} does not serve network "${network}": ${answer.message}`);
    throw new ConsoleError("token-refused", `the join token was refused: ${answer.message} (${reason})`);
  }
  return checkIssued(answer, url, token.value.issuer, seed);
}

/**
 * Renews the page's certificate for the same key, name and address (its lease), as the agent's
 * LeaseKeeper does; the new one must come from the same CA.
 * @throws {@link ConsoleError} token-refused (the server refused), signaling-down or timeout.
 */
export async function renewPage(url: string, current: PageCredentials, seed: Uint8Array): Promise<PageCredentials> {
  const request = signRenewRequest(
    { network: current.ca.network, certText: current.certText, timeMs: Date.now() },
    seed,
  );
  const answer = await requestOnce(url, request);
  if (answer.t === "error") throw new ConsoleError("token-refused", `renewal refused: ${answer.message}`);
  const renewed = checkIssued(answer, url, current.ca.nodeId, seed);
  if (renewed.cert.ip !== current.cert.ip || renewed.cert.name !== current.cert.name)
    throw new ConsoleError("token-refused", "the renewed certificate changed the name or address");
  return renewed;
}

/** Checks an `enrolled` answer: the CA is `caId`, the certificate verifies against it and is for `seed`. */
function checkIssued(answer: Answer["value"], url: string, caId: string, seed: Uint8Array): PageCredentials {
  if (answer.t !== "enrolled")
    throw new ConsoleError("token-refused", `${url} answered ${answer.t}, not a certificate`);
  const ca = parseCertificate(answer.ca);
  const cert = parseCertificate(answer.cert);
  if (!ca.ok || !cert.ok) throw new ConsoleError("token-refused", "the server's certificates do not parse");
  if (ca.value.nodeId !== caId)
    throw new ConsoleError("token-refused", "the server handed back another CA than the token names: not trusting it");
  const verified = verifyCertificate(cert.value, { ca: ca.value, nowSeconds: certificateSecondsOf(Date.now()) });
  if (!verified.ok) throw new ConsoleError("token-refused", `the issued certificate: ${verified.message}`);
  if (!bytesEqual(cert.value.publicKey, publicKeyOf(seed)))
    throw new ConsoleError("token-refused", "the issued certificate is for another key");
  return { cert: cert.value, certText: answer.cert, ca: ca.value };
}

type Answer = ReturnType<typeof parseServerMessage> & { ok: true };

function requestOnce(url: string, message: unknown): Promise<Answer["value"]> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      reject(new ConsoleError("bad-input", `${url} is not a WebSocket URL (ws:// or wss://)`));
      return;
    }
    let settled = false;
    const finish = (error: ConsoleError | undefined, value?: Answer["value"]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close(1000);
      if (error !== undefined) reject(error);
      else resolve(value!);
    };
    const timer = setTimeout(
      () => finish(new ConsoleError("timeout", `no answer from ${url} within ${ENROLL_TIMEOUT_MS / 1000} s`)),
      ENROLL_TIMEOUT_MS,
    );
    socket.onopen = () => socket.send(JSON.stringify(message));
    socket.onmessage = (event) => {
      const parsed = typeof event.data === "string" ? parseServerMessage(event.data) : undefined;
      if (parsed === undefined || !parsed.ok)
        return finish(new ConsoleError("signaling-down", `${url} does not speak the signaling protocol`));
      if (parsed.value.t === "enrolled" || parsed.value.t === "error") finish(undefined, parsed.value);
    };
    socket.onclose = () =>
      finish(
        new ConsoleError("signaling-down", `cannot reach the signaling server at ${url}; is ipop-signal running?`),
      );
  });
}
