import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { checkIpv4Packet, ipv4HeaderChecksum } from "./ipv4.js";
import { fragmentIpv4 } from "./ipv4-fragment.js";
import { makeIpv4Packet } from "./testing/packets.js";

/** A packet with `options` (a multiple of 4 bytes) in its header and flags/offset as given. */
function packetWith(payload: Uint8Array, options: readonly number[] = [], flagsAndOffset = 0): Uint8Array {
  const plain = makeIpv4Packet("10.88.0.1", "10.88.0.2", payload);
  const packet = new Uint8Array(plain.length + options.length);
  packet.set(plain.subarray(0, 20));
  packet.set(options, 20);
  packet.set(plain.subarray(20), 20 + options.length);
  packet[0] = 0x40 | ((20 + options.length) >> 2);
  packet[2] = packet.length >> 8;
  packet[3] = packet.length & 0xff;
  packet[4] = 0x12; // identification
  packet[5] = 0x34;
  packet[6] = flagsAndOffset >> 8;
  packet[7] = flagsAndOffset & 0xff;
  packet[10] = 0;
  packet[11] = 0;
  const sum = ipv4HeaderChecksum(packet, 20 + options.length);
  packet[10] = sum >> 8;
  packet[11] = sum & 0xff;
  return packet;
}

function fields(p: Uint8Array) {
  const headerLength = (p[0]! & 0x0f) * 4;
  const word = (p[6]! << 8) | p[7]!;
  return {
    headerLength,
    total: (p[2]! << 8) | p[3]!,
    more: (word & 0x2000) !== 0,
    dontFragment: (word & 0x4000) !== 0,
    offsetBytes: (word & 0x1fff) * 8,
  };
}

// Loose source route (type 131: copied) and record route (type 7: first fragment only), padded.
const COPIED = [131, 7, 4, 10, 88, 0, 9];
const NOT_COPIED = [7, 7, 4, 0, 0, 0, 0];

test("a packet over the MTU is split into fragments that reassemble to it (RFC 791)", () => {
  const payload = Uint8Array.from({ length: 2980 }, (_, i) => i * 7);
  const packet = packetWith(payload);
  const fragments = fragmentIpv4(packet, 1400, 16)!;
  assert.equal(fragments.length, 3);
  assert.deepEqual(
    fragments.map((f) => fields(f)),
    [
      { headerLength: 20, total: 1396, more: true, dontFragment: false, offsetBytes: 0 },
      { headerLength: 20, total: 1396, more: true, dontFragment: false, offsetBytes: 1376 },
      { headerLength: 20, total: 248, more: false, dontFragment: false, offsetBytes: 2752 },
    ],
  );
  for (const f of fragments) {
    assert.equal(checkIpv4Packet(f), null);
    assert.equal(f.byteOffset, 16, "headroom in front for the frame header");
    assert.deepEqual(f.subarray(4, 6), packet.subarray(4, 6), "same identification");
    assert.deepEqual(f.subarray(8, 10), packet.subarray(8, 10), "same ttl and protocol");
    assert.deepEqual(f.subarray(12, 20), packet.subarray(12, 20), "same addresses");
  }
  assert.deepEqual(reassemble(fragments), payload);
});

test("copied options go into every fragment, the others only into the first", () => {
  const packet = packetWith(new Uint8Array(2000).fill(5), [...COPIED, ...NOT_COPIED, 0, 0]);
  const fragments = fragmentIpv4(packet, 1000, 0)!;
  assert.equal(fields(fragments[0]!).headerLength, 36);
  assert.deepEqual(fragments[0]!.subarray(20, 36), packet.subarray(20, 36));
  for (const f of fragments.slice(1)) {
    assert.equal(fields(f).headerLength, 28);
    assert.deepEqual([...f.subarray(20, 28)], [...COPIED, 0]);
  }
  for (const f of fragments) assert.equal(checkIpv4Packet(f), null);
  assert.deepEqual(reassemble(fragments), packet.subarray(36));
});

test("DF set, or an option list that runs past the header, is not fragmented", () => {
  assert.equal(fragmentIpv4(packetWith(new Uint8Array(2000), [], 0x4000), 1400, 0), null);
  assert.equal(fragmentIpv4(packetWith(new Uint8Array(2000), [131, 9, 0, 0]), 1400, 0), null);
  assert.equal(fragmentIpv4(packetWith(new Uint8Array(2000), [131, 0, 0, 0]), 1400, 0), null);
});

test("a packet within the MTU comes back as it is", () => {
  const packet = packetWith(new Uint8Array(1380));
  const fragments = fragmentIpv4(packet, 1400, 0)!;
  assert.equal(fragments.length, 1);
  assert.equal(fragments[0], packet);
});

test("random sizes, MTUs and fragments of fragments: valid fragments within the MTU that reassemble", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9000 }),
      fc.integer({ min: 68, max: 1500 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 100 }),
      fc.boolean(),
      (length, mtu, withOptions, baseUnits, more) => {
        const payload = Uint8Array.from({ length }, (_, i) => (i * 31) & 0xff);
        const options = withOptions ? [...COPIED, ...NOT_COPIED, 0, 0] : [];
        const packet = packetWith(payload, options, (more ? 0x2000 : 0) | baseUnits);
        const fragments = fragmentIpv4(packet, mtu, 16);
        assert.ok(fragments !== null);
        let expectedOffset = baseUnits * 8;
        for (const [i, f] of fragments.entries()) {
          const last: boolean = i === fragments.length - 1;
          const { total, offsetBytes, more: mf, headerLength } = fields(f);
          assert.equal(checkIpv4Packet(f), null);
          assert.ok(f.length <= Math.max(mtu, packet.length <= mtu ? packet.length : 0));
          assert.equal(offsetBytes, expectedOffset);
          assert.equal(mf, last ? more : true);
          if (!last) assert.equal((total - headerLength) % 8, 0);
          expectedOffset += total - headerLength;
        }
        assert.deepEqual(reassemble(fragments, baseUnits * 8), payload);
      },
    ),
    { numRuns: 300 },
  );
});

/** Puts the fragments' data together by offset, as a receiver would. */
function reassemble(fragments: readonly Uint8Array[], base = 0): Uint8Array {
  const parts = fragments.map((f) => ({ ...fields(f), f }));
  const end = Math.max(...parts.map((p) => p.offsetBytes - base + p.total - p.headerLength));
  const out = new Uint8Array(end);
  for (const p of parts) out.set(p.f.subarray(p.headerLength, p.total), p.offsetBytes - base);
  return out;
}
