/**
 * UTF-8 for the core's JSON messages. Every JavaScript host the core runs on (Node, browsers) has the
 * WHATWG encoding API, but the core compiles against the ES library alone (no DOM, no Node types, so a
 * slip into host APIs does not compile): these two globals are declared here, once, for that reason.
 */
declare const TextEncoder: { new (): { encode(text: string): Uint8Array } };
declare const TextDecoder: { new (label: string, options: { fatal: boolean }): { decode(bytes: Uint8Array): string } };

const encoder = new TextEncoder();
// Fatal: malformed UTF-8 from a peer is refused, not silently repaired into different text.
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8; throws a TypeError on malformed input (callers turn that into a drop). */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
