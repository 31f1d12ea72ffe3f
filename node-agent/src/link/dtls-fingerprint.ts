/** A DTLS certificate fingerprint as SDP carries it: `a=fingerprint:sha-256 AB:CD:...`. */
export interface DtlsFingerprint {
  /** Hash name, lower case: "sha-256". */
  readonly algorithm: string;
  /** Colon-separated hex bytes; compared without regard to case. */
  readonly value: string;
}

const FINGERPRINT_LINE = /^a=fingerprint:(\S+) ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)\s*$/;

/** Every fingerprint a session description names (session or media level). */
export function sdpFingerprints(sdp: string): DtlsFingerprint[] {
  const out: DtlsFingerprint[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    const match = FINGERPRINT_LINE.exec(line);
    if (match !== null) out.push({ algorithm: match[1]!.toLowerCase(), value: match[2]!.toUpperCase() });
  }
  return out;
}

export function sameFingerprint(a: DtlsFingerprint, b: DtlsFingerprint): boolean {
  return a.algorithm.toLowerCase() === b.algorithm.toLowerCase() && a.value.toUpperCase() === b.value.toUpperCase();
}
