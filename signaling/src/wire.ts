import type { ServerMessage } from "@ipop/shared";
import type { RawData } from "ws";

/**
 * Serializes a server message, or returns `undefined` when it cannot be serialized. That happens for a
 * forwarded `body` nested thousands of levels deep: `JSON.parse` accepts it, but `JSON.stringify` recurses
 * and throws a RangeError, which must not escape into the socket's event handler.
 */
export function encodeServerMessage(message: ServerMessage): string | undefined {
  try {
    return JSON.stringify(message);
  } catch {
    return undefined;
  }
}

/** The bytes of a received frame as one Buffer, whatever `binaryType` the socket delivers. */
export function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
