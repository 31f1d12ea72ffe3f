/**
 * `ipop cert` and the credentials `ipop up` starts with. The CLI calls
 * `runCertCommand(argv.slice(1), processCertIo())` for `ipop cert ...`.
 */
export { type Credentials, type LoadCredentialsOptions, loadCredentials } from "./credentials.js";
export { type CertIo, processCertIo } from "./io.js";
export { runCertCommand, runTokenCommand } from "./run.js";
export { CERT_USAGE, TOKEN_USAGE } from "./usage.js";
