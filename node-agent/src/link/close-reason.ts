/**
 * Why a link closed: the first word of every `onClose` reason, stable for code to match on
 * (`reason.startsWith("connection-failed")`); a human-readable detail may follow after ": ".
 * - `local-close`: the caller called `close()`.
 * - `connection-failed`: ICE/DTLS failed (no path, consent lost, remote vanished).
 * - `connection-closed`: the peer connection reached state "closed" without our `close()`.
 * - `channel-closed`: a data channel closed, usually because the remote closed the link.
 * - `bad-signal`: the remote sent a description we could not apply.
 * - `setup-failed`: the local stack failed to create the connection, channels, or a description.
 */
export type LinkCloseCode =
  | "local-close"
  | "connection-failed"
  | "connection-closed"
  | "channel-closed"
  | "bad-signal"
  | "setup-failed"
  /** The DTLS certificate the peer presented is not the one its signed description named. */
  | "dtls-fingerprint-mismatch";

/** Formats an `onClose` reason: the code, then the detail if there is one. */
export function closeReason(code: LinkCloseCode, detail?: string): string {
  return detail === undefined || detail === "" ? code : `${code}: ${detail}`;
}
