/**
 * Ed25519 keys, node ids and domain-separated signatures.
 *
 * Uses @noble/curves, which is synchronous, pure JavaScript and audited, so the same code signs and
 * verifies in Node and the browser. Randomness is never drawn here: whoever makes a key passes the
 * 32 random bytes in (the core reads no entropy source of its own).
 */
import { ed25519 } from "@noble/curves/ed25519";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";

/** Bytes of an Ed25519 private key seed. */
export const SEED_BYTES = 32;
/** Bytes of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
/** Bytes of the public-key hash that form a node id (128 bits, shown as 32 hex digits). */
export const NODE_ID_BYTES = 16;

/** An Ed25519 key pair. `seed` is the secret; keep it out of logs. */
export interface KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Makes a key pair from 32 bytes the caller drew from a cryptographically secure source (Node's
 * `crypto.randomBytes`, the browser's `crypto.getRandomValues`). The bytes become the seed, so they
 * are copied: the caller may wipe its buffer.
 */
export function generateKeyPair(random32: Uint8Array): KeyPair {
  if (random32.length !== SEED_BYTES) throw new RangeError(`a key needs ${SEED_BYTES} random bytes`);
  const seed = random32.slice();
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

/** The public key of a seed. */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_BYTES) throw new RangeError(`a private key seed has ${SEED_BYTES} bytes`);
  return ed25519.getPublicKey(seed);
}

/**
 * The node id of a public key: hex of the first 16 bytes of its SHA-256. It names a node in the
 * overlay and in revocation lists. 128 bits make a second key with a chosen id infeasible to find
 * (2^128 work); ids are names, never a substitute for checking a signature with the full key.
 */
export function nodeIdOf(publicKey: Uint8Array): string {
  return bytesToHex(sha256(publicKey).subarray(0, NODE_ID_BYTES));
}

/** True for 32 lowercase hex digits, the form {@link nodeIdOf} returns. */
export function isNodeIdHex(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{32}$/.test(value);
}

/**
 * What is actually signed: the context, a zero byte, then the message. The context names the kind
 * of message ("ipop-cert-v1", later "ipop-signal-v1" ...), so a signature made for one purpose can
 * never be passed off as one for another, whatever the message bytes look like.
 */
function signedBytes(context: string, message: Uint8Array): Uint8Array {
  if (!/^[a-z0-9][a-z0-9.-]{0,63}$/.test(context)) throw new RangeError(`bad signature context "${context}"`);
  const out = new Uint8Array(context.length + 1 + message.length);
  for (let i = 0; i < context.length; i++) out[i] = context.charCodeAt(i);
  out[context.length] = 0;
  out.set(message, context.length + 1);
  return out;
}

/** Signs `message` for the purpose named by `context` (lowercase, e.g. "ipop-signal-v1"). */
export function signMessage(context: string, message: Uint8Array, seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_BYTES) throw new RangeError(`a private key seed has ${SEED_BYTES} bytes`);
  return ed25519.sign(signedBytes(context, message), seed);
}

/**
 * Checks a signature made by {@link signMessage} with the same context. Never throws on untrusted input:
 * wrong lengths and invalid points are just `false` (a malformed `context` is the caller's bug and
 * throws). Verification is strict (RFC 8032, not ZIP-215):
 * non-canonical encodings and small-order keys are refused, so a valid signature cannot be altered
 * into another valid one.
 */
export function verifyMessage(
  context: string,
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  const signed = signedBytes(context, message);
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return ed25519.verify(signature, signed, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Constant-content comparison of two byte strings (lengths are not secret here). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
