/**
 * Identity and trust: Ed25519 keys, node ids, certificates (make, parse, verify) and signatures for
 * signed envelopes. Pure: no I/O, no clock, no randomness of its own. See docs/certificates.md.
 */

export {
  IdentityError,
  type IdentityErrorCode,
  type IdentityFailure,
  type IdentityResult,
  identityFailure,
  unwrapIdentity,
} from "../errors.js";
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
  ENROLL_SIGNATURE_CONTEXT,
  type EnrollRequest,
  RENEW_SIGNATURE_CONTEXT,
  type RenewRequest,
  type RenewVerifyOptions,
  signEnrollRequest,
  signRenewRequest,
  verifyEnrollRequest,
  verifyRenewRequest,
} from "./enrollment.js";
export {
  certificateOwns,
  certKeyIdOf,
  DEFAULT_MAX_SKEW_MS,
  DEFAULT_REPLAY_CAPACITY,
  EnvelopeGuard,
  type EnvelopeGuardConfig,
  nodeIdFor,
  type OpenMode,
  type TrustedEnvelope,
} from "./envelope-guard.js";
export {
  checkCertificateAddress,
  DEFAULT_JOIN_MAX_SKEW_MS,
  JOIN_PROOF_SIGNATURE_CONTEXT,
  type JoinProofFields,
  type JoinProofVerifyOptions,
  nodeIdBelongsTo,
  signJoinProof,
  verifyJoinProof,
} from "./join-proof.js";
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
export { NetworkTrust } from "./network-trust.js";
export { formatCertificate, parseCertificate } from "./parse.js";
export { formatPrivateKey, keyMatches, MAX_PRIVATE_KEY_BYTES, parsePrivateKey } from "./private-key.js";
export {
  createRevocationList,
  formatRevocationList,
  MAX_REVOCATION_ENTRIES,
  MAX_REVOCATION_LIST_BYTES,
  parseRevocationList,
  REVOCATION_SIGNATURE_CONTEXT,
  type RevocationEntry,
  type RevocationList,
  type RevocationListFields,
  type RevocationListRequest,
  type RevocationVerifyOptions,
  revokedSet,
  verifyRevocationList,
} from "./revocation.js";
export {
  ENVELOPE_SIGNATURE_CONTEXT,
  type EnvelopeFields,
  type SealedEnvelope,
  sealEnvelope,
  type UnsealedEnvelope,
  unsealEnvelope,
} from "./sealed-envelope.js";
export { type CaRequest, type NodeRequest, selfSignCa, signCertificate } from "./sign.js";
export { certificateSecondsOf, formatCertificateTime } from "./time.js";
export {
  checkTokenFields,
  createToken,
  DEFAULT_LEASE_SECONDS,
  formatToken,
  type JoinToken,
  MAX_LEASE_SECONDS,
  MAX_TOKEN_CHARS,
  MIN_LEASE_SECONDS,
  parseToken,
  TOKEN_PREFIX,
  TOKEN_SIGNATURE_CONTEXT,
  type TokenFields,
  type TokenRequest,
  type TokenVerifyOptions,
  verifyToken,
} from "./token.js";
export {
  type CaCheckOptions,
  CERTIFICATE_SIGNATURE_CONTEXT,
  checkCa,
  checkConstraints,
  describeCertificate,
  type VerifyOptions,
  verifyCertificate,
} from "./verify.js";
