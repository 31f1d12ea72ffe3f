/**
 * The private key file: the 32-byte Ed25519 seed, base64 inside `IPOP PRIVATE KEY` armor. Hosts
 * write it readable by its owner only (mode 0600); nothing here does I/O.
 */

import { type IdentityResult, identityFailure } from "../errors.js";
import { armor, unarmor } from "./armor.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { bytesEqual, publicKeyOf, SEED_BYTES } from "./keys.js";

const LABEL = "IPOP PRIVATE KEY";
/** Largest key file read; a real one is about 110 bytes. */
export const MAX_PRIVATE_KEY_BYTES = 1024;

/** The text of a key file for `seed`. */
export function formatPrivateKey(seed: Uint8Array): string {
  if (seed.length !== SEED_BYTES) throw new RangeError(`a private key seed has ${SEED_BYTES} bytes`);
  return armor(LABEL, encodeBase64(seed));
}

/** Reads a key file's seed. Never throws; every failure is IPOP_KEY_MALFORMED. */
export function parsePrivateKey(input: string | Uint8Array): IdentityResult<Uint8Array> {
  if (input.length > MAX_PRIVATE_KEY_BYTES) {
    return identityFailure("IPOP_KEY_MALFORMED", `it is ${input.length} bytes, too large for a private key`);
  }
  let text = "";
  if (typeof input === "string") text = input;
  else {
    for (let i = 0; i < input.length; i++) {
      const c = input[i]!;
      if (c > 0x7e) return identityFailure("IPOP_KEY_MALFORMED", "it is not a text key file (binary data)");
      text += String.fromCharCode(c);
    }
  }
  const unwrapped = unarmor(LABEL, text);
  if (!unwrapped.ok) {
    const hint = text.includes("-----BEGIN IPOP CERTIFICATE-----") ? " (this is a certificate, not a key)" : "";
    return identityFailure("IPOP_KEY_MALFORMED", `it is not a private key: ${unwrapped.message}${hint}`);
  }
  const seed = decodeBase64(unwrapped.payload);
  if (seed === null || seed.length !== SEED_BYTES) {
    return identityFailure(
      "IPOP_KEY_MALFORMED",
      `it is not a private key: its content is not ${SEED_BYTES} bytes of base64`,
    );
  }
  return { ok: true, value: seed };
}

/** True when `seed` is the private half of `publicKey`. */
export function keyMatches(seed: Uint8Array, publicKey: Uint8Array): boolean {
  return seed.length === SEED_BYTES && bytesEqual(publicKeyOf(seed), publicKey);
}
