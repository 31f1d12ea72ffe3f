/** CAs, node certificates, tokens and join messages for tests of a signaling server with a CA. */
import { createHash } from "node:crypto";
import {
  type Certificate,
  createRevocationList,
  createToken,
  generateKeyPair,
  type JoinCredential,
  type KeyPair,
  type MemberInfo,
  nodeIdOf,
  parseCertificate,
  type RevocationEntry,
  selfSignCa,
  signCertificate,
  signJoinProof,
  type TokenRequest,
} from "@ipop/shared";

const HOUR = 3600;

/** A key pair derived from a label, so tests are repeatable. */
export function keysFor(label: string): KeyPair {
  return generateKeyPair(new Uint8Array(createHash("sha256").update(label).digest()));
}

function parsed(text: string): Certificate {
  const result = parseCertificate(text);
  if (!result.ok) throw new Error(result.message);
  return result.value;
}

/** A network's CA, valid from an hour before `nowMs` for a year. */
export interface TestCa {
  readonly ca: Certificate;
  readonly text: string;
  readonly keys: KeyPair;
  /** Signs a node certificate for `node`. */
  certify(node: TestNode, options?: { ip?: string; pools?: string[]; notAfter?: number; name?: string }): string;
  /** Makes a token for `pool`. */
  token(overrides?: Partial<TokenRequest>): string;
  /** Makes a revocation list. */
  revocations(serial: number, entries: readonly RevocationEntry[]): string;
}

export function makeCa(nowMs: number, options: { network?: string; label?: string; pools?: string[] } = {}): TestCa {
  const keys = keysFor(options.label ?? "ca");
  const now = Math.floor(nowMs / 1000);
  const text = selfSignCa(
    {
      network: options.network ?? "lab",
      ...(options.pools === undefined ? {} : { pools: options.pools }),
      notBefore: now - HOUR,
      notAfter: now + 365 * 24 * HOUR,
    },
    keys.seed,
  );
  const ca = parsed(text);
  return {
    ca,
    text,
    keys,
    certify(node, o = {}) {
      return signCertificate(
        {
          name: o.name ?? node.name,
          ...(o.ip === undefined && o.pools !== undefined ? {} : { ip: o.ip ?? `${node.ip}/16` }),
          ...(o.pools === undefined ? {} : { pools: o.pools }),
          notBefore: now - 60,
          notAfter: o.notAfter ?? now + 24 * HOUR,
          publicKey: node.keys.publicKey,
        },
        ca,
        keys.seed,
      );
    },
    token(overrides = {}) {
      return createToken(
        {
          id: createHash("md5").update(JSON.stringify(overrides)).digest("hex"),
          pool: "10.88.200.0/24",
          prefixLength: 16,
          notAfter: now + HOUR,
          ...overrides,
        },
        ca,
        keys.seed,
      );
    },
    revocations(serial, entries) {
      return createRevocationList({ serial, issuedAt: now, entries }, ca, keys.seed);
    },
  };
}

/** A node: its keys, name, address and the node id the agent would use. */
export interface TestNode {
  readonly keys: KeyPair;
  readonly name: string;
  readonly ip: string;
  /** Key id (32 hex). */
  readonly keyId: string;
  /** `<key id>-<incarnation>`. */
  readonly nodeId: string;
}

export function makeNode(name: string, ip: string, label = name): TestNode {
  const keys = keysFor(`node:${label}`);
  const keyId = nodeIdOf(keys.publicKey);
  return { keys, name, ip, keyId, nodeId: `${keyId}-0000002a` };
}

/** The member record of `node`. */
export function memberOf(node: Pick<TestNode, "nodeId" | "name" | "ip">): MemberInfo {
  return { nodeId: node.nodeId, name: node.name, ip: node.ip };
}

/** A `join` with a proof signed at `timeMs` (override any part of it). */
export function joinMessage(
  node: TestNode,
  certText: string,
  timeMs: number,
  overrides: { network?: string; member?: Partial<MemberInfo>; credential?: Partial<JoinCredential> } = {},
): Record<string, unknown> {
  const network = overrides.network ?? "lab";
  const member = { ...memberOf(node), ...overrides.member };
  const proof = signJoinProof({ network, nodeId: member.nodeId, ip: member.ip, timeMs }, certText, node.keys.seed);
  return { v: 1, t: "join", network, member, credential: { ...proof, ...overrides.credential } };
}
