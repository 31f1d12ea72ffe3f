import assert from "node:assert/strict";
import { test } from "vitest";
import { fragmentationNeeded, hostUnreachable } from "./icmp.js";
import { checkIpv4Packet, internetChecksum, ipv4Destination, ipv4Source, parseIpv4Address } from "./ipv4.js";
import { makeIpv4Packet } from "./testing/packets.js";

const H1 = parseIpv4Address("10.88.0.1")!;
const H2 = parseIpv4Address("10.88.0.2")!;

function bigPacket(protocol = 17, flags = 0x40): Uint8Array {
  const packet = makeIpv4Packet(
    "10.88.0.1",
    "10.88.0.2",
    Uint8Array.from({ length: 1980 }, (_, i) => i),
    protocol,
  );
  packet[6] = flags; // 0x40: DF
  packet[10] = 0;
  packet[11] = 0;
  const header = internetChecksum(packet, 0, 20);
  packet[10] = header >> 8;
  packet[11] = header & 0xff;
  return packet;
}

test("fragmentation-needed is ICMP 3/4 to the sender, naming the MTU and quoting header + 8 bytes", () => {
  const original = bigPacket();
  const icmp = fragmentationNeeded(original, H2, 1400)!;
  assert.equal(checkIpv4Packet(icmp), null);
  assert.equal(icmp.length, 20 + 8 + 20 + 8);
  assert.equal(icmp[9], 1, "protocol ICMP");
  assert.equal(ipv4Source(icmp), H2);
  assert.equal(ipv4Destination(icmp), H1);
  assert.equal(icmp[20], 3, "type: destination unreachable");
  assert.equal(icmp[21], 4, "code: fragmentation needed and DF set");
  assert.deepEqual([...icmp.subarray(24, 26)], [0, 0], "unused");
  assert.equal((icmp[26]! << 8) | icmp[27]!, 1400, "next-hop MTU (RFC 1191)");
  assert.equal(internetChecksum(icmp, 20, icmp.length), 0, "ICMP checksum");
  assert.deepEqual(icmp.subarray(28), original.subarray(0, 28));
});

test("host-unreachable keeps its format: code 1, second word zero", () => {
  const icmp = hostUnreachable(bigPacket(), H2)!;
  assert.equal(icmp[21], 1);
  assert.deepEqual([...icmp.subarray(24, 28)], [0, 0, 0, 0]);
  assert.equal(internetChecksum(icmp, 20, icmp.length), 0);
});

test("no ICMP error about an ICMP error or a later fragment (RFC 1122 3.2.2)", () => {
  const error = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([3, 4, 0, 0, 0, 0, 5, 120]), 1);
  assert.equal(fragmentationNeeded(error, H2, 1400), null);
  const later = bigPacket(17, 0x00);
  later[7] = 10;
  assert.equal(fragmentationNeeded(later, H2, 1400), null);
  const echo = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([8, 0, 0, 0, 0, 1, 0, 1]), 1);
  assert.notEqual(fragmentationNeeded(echo, H2, 1400), null);
});

test("a short original is quoted only as far as its total length reaches", () => {
  const original = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array([1, 2, 3]));
  const padded = new Uint8Array(original.length + 10);
  padded.set(original);
  const icmp = hostUnreachable(padded, H2)!;
  assert.equal(icmp.length, 28 + 23);
});
