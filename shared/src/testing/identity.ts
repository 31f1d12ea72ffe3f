import type { Certificate } from "../identity/certificate.js";
import { generateKeyPair } from "../identity/keys.js";
import { parseCertificate } from "../identity/parse.js";
import { selfSignCa, signCertificate } from "../identity/sign.js";
import type { Ipv4Interface } from "../ipv4.js";

const DAY = 86_400;

/** A CA for tests: its certificate, text and key. */
export interface TestCa {
  readonly ca: Certificate;
  readonly caText: string;
  readonly caSeed: Uint8Array;
}

/** A node's credentials for tests, in the shape the agent's `loadCredentials` returns. */
export interface TestNodeCredentials {
  readonly ca: Certificate;
  readonly cert: Certificate;
  readonly certText: string;
  readonly keySeed: Uint8Array;
  readonly nodeId: string;
  readonly network: string;
  readonly address: Ipv4Interface;
}

/** Distinct 32-byte seeds from a small number (tests only: these keys are public knowledge). */
function testSeed(n: number, salt: number): Uint8Array {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, n);
  new DataView(seed.buffer).setUint32(4, salt);
  seed[31] = 0x5a;
  return seed;
}

function parsed(text: string): Certificate {
  const result = parseCertificate(text);
  if (!result.ok) throw new Error(`test certificate does not parse: ${result.message}`);
  return result.value;
}

/** A CA for `network`, valid from a day before `nowSeconds` for a year. `n` picks its key. */
export function makeTestCa(network: string, nowSeconds: number, n = 1): TestCa {
  const caSeed = testSeed(n, 0xca);
  const caText = selfSignCa({ network, notBefore: nowSeconds - DAY, notAfter: nowSeconds + 365 * DAY }, caSeed);
  return { ca: parsed(caText), caText, caSeed };
}

/**
 * A node certificate from `ca` for `name` at `ip` (`A.B.C.D/N`) in `groups`, valid for a day around
 * `nowSeconds`.
 */
export function makeTestNode(
  testCa: TestCa,
  name: string,
  ip: string,
  nowSeconds: number,
  n: number,
  groups: readonly string[] = [],
): TestNodeCredentials {
  const keys = generateKeyPair(testSeed(n, testCa.ca.notBefore));
  const certText = signCertificate(
    { name, ip, notBefore: nowSeconds - DAY, notAfter: nowSeconds + DAY, publicKey: keys.publicKey, groups },
    testCa.ca,
    testCa.caSeed,
  );
  const cert = parsed(certText);
  return {
    ca: testCa.ca,
    cert,
    certText,
    keySeed: keys.seed,
    nodeId: cert.nodeId,
    network: cert.network,
    address: cert.address!,
  };
}
