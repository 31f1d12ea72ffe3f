/**
 * Identity and trust: Ed25519 keys, node ids, certificates (make, parse, verify) and signatures for
 * signed envelopes. Pure: no I/O, no clock, no randomness of its own. See docs/certificates.md.
 */
export { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "./base64.js";
export {
  CERTIFICATE_VERSION,
  type Certificate,
  type CertificateFields,
  type CertificateKind,
  MAX_CERTIFICATE_BYTES,
  MAX_CERTIFICATE_TIME,
  MAX_GROUPS,
  MAX_POOLS,
} from "./certificate.js";
export {
  formatIpv4Interface,
  formatIpv4Prefix,
  type Ipv4Prefix,
  parseIpv4Prefix,
  prefixContainsAddress,
  prefixContainsPrefix,
} from "./cidr.js";
export { type CertificateSummary, formatCertificateText, summarizeCertificate } from "./describe.js";
export {
  IdentityError,
  type IdentityErrorCode,
  type IdentityFailure,
  type IdentityResult,
  identityFailure,
  unwrapIdentity,
} from "./errors.js";
export {
  bytesEqual,
  generateKeyPair,
  isNodeIdHex,
  type KeyPair,
  NODE_ID_BYTES,
  nodeIdOf,
  PUBLIC_KEY_BYTES,
  publicKeyOf,
  SEED_BYTES,
  SIGNATURE_BYTES,
  signMessage,
  verifyMessage,
} from "./keys.js";
export { formatCertificate, parseCertificate } from "./parse.js";
export { formatPrivateKey, keyMatches, MAX_PRIVATE_KEY_BYTES, parsePrivateKey } from "./private-key.js";
export { type CaRequest, type NodeRequest, selfSignCa, signCertificate } from "./sign.js";
export { certificateSecondsOf, formatCertificateTime } from "./time.js";
export {
  type CaCheckOptions,
  CERTIFICATE_SIGNATURE_CONTEXT,
  checkCa,
  checkConstraints,
  describeCertificate,
  type VerifyOptions,
  verifyCertificate,
} from "./verify.js";
