import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { ipv4HeaderChecksum } from "./ipv4.js";
import { adjustChecksum, clampTcpMss, mssForMtu } from "./tcp-mss.js";
import { makeIpv4Packet, makeTcpSyn, tcpChecksum } from "./testing/packets.js";

const MSS_8960 = [2, 4, 0x23, 0x00];
const SACK_OK = [4, 2];
const TIMESTAMPS = [8, 10, 1, 2, 3, 4, 0, 0, 0, 0];
const WSCALE = [3, 3, 7];

function mssOf(packet: Uint8Array, at: number): number {
  return (packet[at]! << 8) | packet[at + 1]!;
}

function storedChecksum(packet: Uint8Array): number {
  return mssOf(packet, 36);
}

test("a SYN's MSS above the limit is lowered to it and the TCP checksum stays right", () => {
  const packet = makeTcpSyn("10.88.0.1", "10.88.0.2", MSS_8960);
  assert.equal(clampTcpMss(packet, mssForMtu(1400)), true);
  assert.equal(mssOf(packet, 42), 1360);
  assert.equal(storedChecksum(packet), tcpChecksum(packet));
  assert.equal(ipv4HeaderChecksum(packet, 20), 0, "the IP header is not touched");
});

test("an MSS option at an odd offset (after one NOP) is clamped with the checksum right", () => {
  // Linux's SYN puts MSS first; other stacks lead with NOPs, which shifts the value off word alignment.
  const packet = makeTcpSyn("10.88.0.1", "10.88.0.2", [1, ...MSS_8960, ...SACK_OK, ...WSCALE]);
  assert.equal(clampTcpMss(packet, 1360), true);
  assert.equal(mssOf(packet, 43), 1360);
  assert.equal(storedChecksum(packet), tcpChecksum(packet));
});

test("the MSS option is found behind other options", () => {
  const packet = makeTcpSyn("10.88.0.1", "10.88.0.2", [...SACK_OK, ...TIMESTAMPS, 1, ...WSCALE, ...MSS_8960]);
  assert.equal(clampTcpMss(packet, 1360), true);
  assert.equal(mssOf(packet, 40 + 2 + 10 + 1 + 3 + 2), 1360);
  assert.equal(storedChecksum(packet), tcpChecksum(packet));
});

test("an MSS at or below the limit, a segment without SYN or without the option is left alone", () => {
  const small = makeTcpSyn("10.88.0.1", "10.88.0.2", [2, 4, 0x05, 0x50]); // 1360
  const synAckSmall = small.slice();
  assert.equal(clampTcpMss(small, 1360), false);
  assert.deepEqual(small, synAckSmall);

  const ack = makeTcpSyn("10.88.0.1", "10.88.0.2", MSS_8960);
  ack[33] = 0x10; // ACK only
  const ackCopy = ack.slice();
  assert.equal(clampTcpMss(ack, 1360), false);
  assert.deepEqual(ack, ackCopy);

  const none = makeTcpSyn("10.88.0.1", "10.88.0.2", [...SACK_OK, ...WSCALE]);
  assert.equal(clampTcpMss(none, 1360), false);

  const udp = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array(40), 17);
  assert.equal(clampTcpMss(udp, 1360), false);
});

test("a SYN-ACK is clamped too", () => {
  const packet = makeTcpSyn("10.88.0.2", "10.88.0.1", [...MSS_8960, ...SACK_OK]);
  packet[33] = 0x12; // SYN + ACK
  const sum = tcpChecksum(packet);
  packet[36] = sum >> 8;
  packet[37] = sum & 0xff;
  assert.equal(clampTcpMss(packet, 1360), true);
  assert.equal(storedChecksum(packet), tcpChecksum(packet));
});

test("truncated or malformed option lists and later fragments are left alone", () => {
  const cases: Uint8Array[] = [];
  // An option length that runs past the header.
  cases.push(makeTcpSyn("10.88.0.1", "10.88.0.2", [...SACK_OK, 8, 40, 0, 0]));
  // A zero option length, which would loop forever if trusted.
  cases.push(makeTcpSyn("10.88.0.1", "10.88.0.2", [3, 0, ...MSS_8960]));
  // MSS with the wrong length.
  cases.push(makeTcpSyn("10.88.0.1", "10.88.0.2", [2, 6, 0x23, 0x00, 0, 0]));
  // End of options before the MSS.
  cases.push(makeTcpSyn("10.88.0.1", "10.88.0.2", [0, 0, 0, 0, ...MSS_8960]));
  // Data offset claiming more header than the segment holds.
  const long = makeTcpSyn("10.88.0.1", "10.88.0.2", MSS_8960);
  long[32] = 0xf0;
  cases.push(long);
  // A fragment after the first: bytes at the TCP header's place are payload.
  const later = makeTcpSyn("10.88.0.1", "10.88.0.2", MSS_8960);
  later[7] = 1;
  cases.push(later);
  // Total length shorter than a TCP header.
  const short = makeTcpSyn("10.88.0.1", "10.88.0.2", MSS_8960).subarray(0, 30);
  short[3] = 30;
  cases.push(short);
  for (const packet of cases) {
    const copy = packet.slice();
    assert.equal(clampTcpMss(packet, 1360), false);
    assert.deepEqual(packet, copy);
  }
});

test("adjustChecksum matches recomputing for any word change (RFC 1624)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2, maxLength: 64 }).filter((a) => a.length % 2 === 0),
      fc.nat({ max: 31 }),
      fc.integer({ min: 0, max: 0xffff }),
      (words, index, next) => {
        const at = (index * 2) % words.length;
        const before = reference(words);
        const old = (words[at]! << 8) | words[at + 1]!;
        words[at] = next >> 8;
        words[at + 1] = next & 0xff;
        assert.equal(equivalent(adjustChecksum(before, old, next), reference(words)), true);
      },
    ),
  );
});

test("random bytes never throw, and a clamped packet always carries a correct checksum", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 0xffff }), (bytes, maxMss) => {
      const packet = bytes.slice();
      if (clampTcpMss(packet, maxMss)) {
        assert.equal(equivalent(storedChecksum(packet), tcpChecksum(packet)), true);
        // Only the two MSS bytes and the checksum changed.
        let changed = 0;
        for (let i = 0; i < packet.length; i++) if (packet[i] !== bytes[i]) changed++;
        assert.ok(changed <= 4);
      } else {
        assert.deepEqual(packet, bytes);
      }
    }),
  );
});

test("mutated SYNs (lengths, flags, options) never throw; a clamp keeps a right checksum right", () => {
  const base = makeTcpSyn("10.88.0.1", "10.88.0.2", [1, ...MSS_8960, ...SACK_OK, ...WSCALE], new Uint8Array(8));
  let clamps = 0;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.oneof(fc.constant(base.length), fc.nat({ max: base.length })),
      (mutations, cut) => {
        const packet = base.slice(0, Math.max(cut, 20));
        for (const [at, value] of mutations) if (at < packet.length && at !== 36 && at !== 37) packet[at] = value;
        const total = (packet[2]! << 8) | packet[3]!;
        const ipHeader = (packet[0]! & 0x0f) * 4;
        const checksumFits = ipHeader >= 20 && ipHeader + 18 <= Math.min(total, packet.length);
        if (checksumFits) {
          const sum = tcpChecksum(packet);
          packet[ipHeader + 16] = sum >> 8;
          packet[ipHeader + 17] = sum & 0xff;
        }
        if (clampTcpMss(packet, 1360)) {
          clamps++;
          assert.equal(equivalent(storedChecksum(packet.subarray(ipHeader - 20)), tcpChecksum(packet)), true);
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(clamps > 200, `only ${clamps} of 2000 mutated SYNs were clamped: the property tested too little`);
});

test("random SYNs with random options: the checksum is right after clamping", () => {
  const option = fc.oneof(
    fc.constant([1]),
    fc.constant(SACK_OK),
    fc.constant(WSCALE),
    fc.constant(TIMESTAMPS),
    fc.integer({ min: 0, max: 0xffff }).map((mss) => [2, 4, mss >> 8, mss & 0xff]),
  );
  fc.assert(
    fc.property(
      fc.array(option, { maxLength: 6 }).map((options) => options.flat().slice(0, 40)),
      fc.uint8Array({ maxLength: 30 }),
      fc.integer({ min: 536, max: 8960 }),
      (options, payload, maxMss) => {
        const packet = makeTcpSyn("10.88.3.4", "10.88.200.9", options, payload);
        const mssAt = findMss(packet);
        const before = mssAt === undefined ? undefined : mssOf(packet, mssAt);
        const clamped = clampTcpMss(packet, maxMss);
        assert.equal(clamped, before !== undefined && before > maxMss);
        if (mssAt !== undefined) assert.equal(mssOf(packet, mssAt), Math.min(before!, maxMss));
        assert.equal(equivalent(storedChecksum(packet), tcpChecksum(packet)), true);
      },
    ),
  );
});

/** The first MSS option of a well-formed SYN, found the obvious way. */
function findMss(packet: Uint8Array): number | undefined {
  const end = 20 + (packet[32]! >> 4) * 4;
  for (let i = 40; i < end; ) {
    if (packet[i] === 0) return undefined;
    if (packet[i] === 1) {
      i++;
      continue;
    }
    if (packet[i] === 2) return i + 2;
    i += packet[i + 1]!;
  }
  return undefined;
}

function reference(words: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < words.length; i += 2) sum += words[i]! * 256 + words[i + 1]!;
  while (sum > 0xffff) sum = (sum % 65536) + Math.floor(sum / 65536);
  return 0xffff - sum;
}

/** 0x0000 and 0xffff are the same number in ones-complement arithmetic; receivers accept either. */
function equivalent(a: number, b: number): boolean {
  return a === b || (a === 0 && b === 0xffff) || (a === 0xffff && b === 0);
}
