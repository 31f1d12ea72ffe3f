/**
 * The few STUN messages `ipop netcheck` needs (RFC 5389 Binding, RFC 5780 CHANGE-REQUEST and
 * OTHER-ADDRESS, an unauthenticated TURN Allocate to see a TURN server answer), encoded and decoded
 * over `Uint8Array`s. Decoding never throws: input comes off the network, and anything malformed
 * is a verdict the caller counts.
 */

/** STUN magic cookie (RFC 5389 section 6). */
export const MAGIC_COOKIE = 0x2112a442;
const HEADER_BYTES = 20;
/** Largest message decoded; a Binding response is ~100 bytes. */
const MAX_MESSAGE_BYTES = 1500;

/** Message types used here (method | class bits). */
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const BINDING_ERROR = 0x0111;
export const ALLOCATE_REQUEST = 0x0003;
export const ALLOCATE_SUCCESS = 0x0103;
export const ALLOCATE_ERROR = 0x0113;

const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_CHANGE_REQUEST = 0x0003;
const ATTR_ERROR_CODE = 0x0009;
const ATTR_REQUESTED_TRANSPORT = 0x0019;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_RESPONSE_ORIGIN = 0x802b;
const ATTR_OTHER_ADDRESS = 0x802c;

/** An IPv4 transport address. */
export interface StunAddress {
  readonly ip: string;
  readonly port: number;
}

/** What a response says, as far as netcheck cares. */
export interface StunResponse {
  readonly type: number;
  readonly transactionId: Uint8Array;
  readonly mapped?: StunAddress;
  readonly otherAddress?: StunAddress;
  readonly responseOrigin?: StunAddress;
  readonly errorCode?: number;
}

/** Why a datagram is not a STUN response we can use. */
export type StunDecodeFailure = "too-short" | "too-long" | "not-stun" | "bad-length" | "bad-attribute";

/**
 * A request of `type` (Binding or Allocate) with the given 12-byte transaction id; `change` adds a
 * CHANGE-REQUEST asking the server to answer from its other IP and/or port (RFC 5780 section 7.2).
 */
export function encodeRequest(
  type: number,
  transactionId: Uint8Array,
  change: { ip: boolean; port: boolean } | undefined = undefined,
): Uint8Array {
  if (transactionId.length !== 12) throw new RangeError("a STUN transaction id is 12 bytes");
  const attrs: Uint8Array[] = [];
  if (change !== undefined)
    attrs.push(attribute(ATTR_CHANGE_REQUEST, u32((change.ip ? 4 : 0) | (change.port ? 2 : 0))));
  // UDP (17) in the protocol byte: what an Allocate must ask for (RFC 5766 section 14.7).
  if (type === ALLOCATE_REQUEST) attrs.push(attribute(ATTR_REQUESTED_TRANSPORT, new Uint8Array([17, 0, 0, 0])));
  const body = concat(attrs);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, body.length);
  view.setUint32(4, MAGIC_COOKIE);
  out.set(transactionId, 8);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Decodes a response; a failure names what was wrong. Attributes we do not know are skipped. */
export function decodeResponse(
  bytes: Uint8Array,
): { ok: true; value: StunResponse } | { ok: false; reason: StunDecodeFailure } {
  if (bytes.length < HEADER_BYTES) return { ok: false, reason: "too-short" };
  if (bytes.length > MAX_MESSAGE_BYTES) return { ok: false, reason: "too-long" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(0);
  const length = view.getUint16(2);
  // The two top bits of a STUN message are zero, and the cookie is fixed (RFC 5389 section 6).
  if ((type & 0xc000) !== 0 || view.getUint32(4) !== MAGIC_COOKIE) return { ok: false, reason: "not-stun" };
  if (length % 4 !== 0 || HEADER_BYTES + length > bytes.length) return { ok: false, reason: "bad-length" };
  const transactionId = bytes.slice(8, 20);
  let mapped: StunAddress | undefined;
  let xorMapped: StunAddress | undefined;
  let otherAddress: StunAddress | undefined;
  let responseOrigin: StunAddress | undefined;
  let errorCode: number | undefined;
  let at = HEADER_BYTES;
  const end = HEADER_BYTES + length;
  while (at < end) {
    if (at + 4 > end) return { ok: false, reason: "bad-attribute" };
    const attrType = view.getUint16(at);
    const attrLength = view.getUint16(at + 2);
    const valueAt = at + 4;
    if (valueAt + attrLength > end) return { ok: false, reason: "bad-attribute" };
    const value = bytes.subarray(valueAt, valueAt + attrLength);
    switch (attrType) {
      case ATTR_XOR_MAPPED_ADDRESS:
        xorMapped = readAddress(value, true);
        if (xorMapped === undefined && !isIpv6Address(value)) return { ok: false, reason: "bad-attribute" };
        break;
      case ATTR_MAPPED_ADDRESS:
        mapped = readAddress(value, false);
        break;
      case ATTR_OTHER_ADDRESS:
        otherAddress = readAddress(value, false);
        break;
      case ATTR_RESPONSE_ORIGIN:
        responseOrigin = readAddress(value, false);
        break;
      case ATTR_ERROR_CODE:
        if (value.length < 4) return { ok: false, reason: "bad-attribute" };
        errorCode = (value[2]! & 0x07) * 100 + value[3]!;
        break;
    }
    at = valueAt + Math.ceil(attrLength / 4) * 4;
  }
  const address = xorMapped ?? mapped;
  return {
    ok: true,
    value: {
      type,
      transactionId,
      ...(address === undefined ? {} : { mapped: address }),
      ...(otherAddress === undefined ? {} : { otherAddress }),
      ...(responseOrigin === undefined ? {} : { responseOrigin }),
      ...(errorCode === undefined ? {} : { errorCode }),
    },
  };
}

/** An IPv4 (MAPPED-ADDRESS family 1) address; IPv6 ones are not used by netcheck and read as undefined. */
function readAddress(value: Uint8Array, xor: boolean): StunAddress | undefined {
  if (value.length !== 8 || value[1] !== 0x01) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const port = view.getUint16(2) ^ (xor ? MAGIC_COOKIE >>> 16 : 0);
  const raw = view.getUint32(4) ^ (xor ? MAGIC_COOKIE : 0);
  const ip = [raw >>> 24, (raw >>> 16) & 0xff, (raw >>> 8) & 0xff, raw & 0xff].join(".");
  return { ip, port };
}

function isIpv6Address(value: Uint8Array): boolean {
  return value.length === 20 && value[1] === 0x02;
}

function attribute(type: number, value: Uint8Array): Uint8Array {
  const padded = Math.ceil(value.length / 4) * 4;
  const out = new Uint8Array(4 + padded);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, value.length);
  out.set(value, 4);
  return out;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
