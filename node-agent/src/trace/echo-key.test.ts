import {
  buildEchoRequest,
  echoReplyFor,
  encodeBatch,
  encodeDataFrame,
  parseIcmpPacket,
  parseIpv4Address,
  ROUTED_HEADER_BYTES,
  RoutedKind,
  writeRoutedHeader,
} from "@ipop/shared";
import { describe, expect, it } from "vitest";
import { type EchoKey, echoKeyOf, forEachEchoInFrame } from "./echo-key.js";

const A = parseIpv4Address("10.88.0.1")!;
const B = parseIpv4Address("10.88.0.2")!;

function request(sequence: number, identifier = 0x1234): Uint8Array {
  return buildEchoRequest({ source: A, destination: B, identifier, sequence, data: 56 });
}

function reply(sequence: number): Uint8Array {
  const parsed = parseIcmpPacket(request(sequence));
  if (parsed === null) throw new Error("request did not parse");
  const out = echoReplyFor(parsed);
  if (out === null) throw new Error("no reply");
  return out;
}

function routed(packet: Uint8Array, kind: RoutedKind): Uint8Array {
  const frame = new Uint8Array(ROUTED_HEADER_BYTES + packet.length);
  frame.set(packet, ROUTED_HEADER_BYTES);
  return writeRoutedHeader(frame, { ttl: 8, kind, source: 1, destination: 2 });
}

function echoesIn(message: Uint8Array): EchoKey[] {
  const keys: EchoKey[] = [];
  forEachEchoInFrame(message, (key) => keys.push(key));
  return keys;
}

describe("echoKeyOf", () => {
  it("reads the type, identifier and sequence of requests and replies", () => {
    expect(echoKeyOf(request(513, 0xbeef))).toEqual({ type: 8, id: 0xbeef, seq: 513 });
    expect(echoKeyOf(reply(7))).toEqual({ type: 0, id: 0x1234, seq: 7 });
  });

  it("ignores what is not an echo, and short or later-fragment packets", () => {
    const udp = request(1);
    udp[9] = 17;
    expect(echoKeyOf(udp)).toBeUndefined();
    const unreachable = request(1);
    unreachable[20] = 3;
    expect(echoKeyOf(unreachable)).toBeUndefined();
    expect(echoKeyOf(request(1).subarray(0, 24))).toBeUndefined();
    const fragment = request(1);
    fragment[7] = 10;
    expect(echoKeyOf(fragment)).toBeUndefined();
    expect(echoKeyOf(new Uint8Array(0))).toBeUndefined();
  });
});

describe("forEachEchoInFrame", () => {
  it("finds the echo in a data frame and a routed packet, not in other routed kinds", () => {
    expect(echoesIn(encodeDataFrame(request(3)))).toEqual([{ type: 8, id: 0x1234, seq: 3 }]);
    expect(echoesIn(routed(reply(4), RoutedKind.packet))).toEqual([{ type: 0, id: 0x1234, seq: 4 }]);
    expect(echoesIn(routed(reply(4), RoutedKind.message))).toEqual([]);
  });

  it("finds every echo inside a batch, whatever else it carries", () => {
    const udp = request(9);
    udp[9] = 17;
    const batch = encodeBatch([encodeDataFrame(request(1)), encodeDataFrame(udp), routed(reply(2), RoutedKind.packet)]);
    expect(echoesIn(batch).map((k) => [k.type, k.seq])).toEqual([
      [8, 1],
      [0, 2],
    ]);
  });

  it("stops at a batch whose lengths run past its end, and never throws on junk", () => {
    const batch = encodeBatch([encodeDataFrame(request(1)), encodeDataFrame(request(2))]);
    batch[2 + 2 + encodeDataFrame(request(1)).length] = 0xff;
    expect(echoesIn(batch).map((k) => k.seq)).toEqual([1]);
    for (let n = 0; n < 200; n++) {
      const junk = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      junk[0] = 1;
      expect(() => echoesIn(junk)).not.toThrow();
    }
  });
});
