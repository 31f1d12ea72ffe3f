import { MAX_MEMBER_LIST, MAX_OVERLAY_MESSAGE_BYTES } from "./overlay-message.js";
import { type MemberInfo, parseMemberInfo } from "./signaling-protocol.js";
import { decodeUtf8, encodeUtf8 } from "./utf8.js";

/**
 * The payload of a trace (a routed frame of kind `RoutedKind.trace`), which records the nodes it
 * passes for `ipop route`:
 *
 *   [id u32]([length u16][member record as UTF-8 JSON])+
 *
 * The origin writes the id and itself; each transit hop appends its own record, pre-encoded once, to
 * the bytes as they are, so forwarding a trace decodes nothing. The node where it ends decodes the
 * path and answers with a `trace-reply` overlay message.
 */

const ID_BYTES = 4;
const LENGTH_BYTES = 2;

/** A member record as a trace hop entry: length prefix and JSON. */
export function encodeTraceHop(member: MemberInfo): Uint8Array {
  const json = encodeUtf8(JSON.stringify(member));
  const entry = new Uint8Array(LENGTH_BYTES + json.length);
  entry[0] = json.length >>> 8;
  entry[1] = json.length & 0xff;
  entry.set(json, LENGTH_BYTES);
  return entry;
}

/** A trace payload with `id` and the origin's hop entry. */
export function encodeTrace(id: number, originHop: Uint8Array): Uint8Array {
  const payload = new Uint8Array(ID_BYTES + originHop.length);
  new DataView(payload.buffer).setUint32(0, id >>> 0);
  payload.set(originHop, ID_BYTES);
  return payload;
}

/**
 * `frame` with `hop` appended, as a new buffer; null when the trace would outgrow what an overlay
 * message may hold (it is dropped, as a message that size would be).
 */
export function appendTraceHop(frame: Uint8Array, hop: Uint8Array): Uint8Array | null {
  if (frame.length + hop.length > MAX_OVERLAY_MESSAGE_BYTES) return null;
  const longer = new Uint8Array(frame.length + hop.length);
  longer.set(frame);
  longer.set(hop, frame.length);
  return longer;
}

export interface DecodedTrace {
  readonly id: number;
  readonly path: MemberInfo[];
}

/** Decodes a trace payload from the network; returns it or why it was refused. Never throws. */
export function decodeTrace(payload: Uint8Array): DecodedTrace | "bad-trace" {
  if (payload.length < ID_BYTES + LENGTH_BYTES || payload.length > MAX_OVERLAY_MESSAGE_BYTES) return "bad-trace";
  const id = new DataView(payload.buffer, payload.byteOffset, ID_BYTES).getUint32(0);
  const path: MemberInfo[] = [];
  for (let offset = ID_BYTES; offset < payload.length; ) {
    if (offset + LENGTH_BYTES > payload.length || path.length >= MAX_MEMBER_LIST) return "bad-trace";
    const end = offset + LENGTH_BYTES + ((payload[offset]! << 8) | payload[offset + 1]!);
    if (end > payload.length) return "bad-trace";
    let member: MemberInfo | string;
    try {
      member = parseMemberInfo(JSON.parse(decodeUtf8(payload.subarray(offset + LENGTH_BYTES, end))));
    } catch {
      return "bad-trace";
    }
    if (typeof member === "string") return "bad-trace";
    path.push(member);
    offset = end;
  }
  return { id, path };
}
