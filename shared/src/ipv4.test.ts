import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import {
  checkIpv4Packet,
  formatIpv4Address,
  inSubnet,
  internetChecksum,
  ipv4Destination,
  ipv4Source,
  isBroadcastOrMulticast,
  parseIpv4Address,
  parseIpv4Interface,
} from "./ipv4.js";
import { makeIpv4Packet } from "./testing/packets.js";

/** Reference checksum: the textbook definition, summing 16-bit words with end-around carry. */
function referenceChecksum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
    sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  return ~sum & 0xffff;
}

test("internet checksum matches the reference on random data", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      assert.equal(internetChecksum(data, 0, data.length), referenceChecksum([...data]));
    }),
  );
});

test("a well-formed packet passes and its addresses read back", () => {
  const p = makeIpv4Packet("10.88.0.1", "10.88.0.2");
  assert.equal(checkIpv4Packet(p), null);
  assert.equal(formatIpv4Address(ipv4Source(p)), "10.88.0.1");
  assert.equal(formatIpv4Address(ipv4Destination(p)), "10.88.0.2");
});

test("malformed packets are refused with their reason", () => {
  const good = makeIpv4Packet("10.88.0.1", "10.88.0.2", new Uint8Array(30));
  const mutate = (f: (p: Uint8Array) => void) => {
    const p = good.slice();
    f(p);
    return p;
  };
  assert.equal(checkIpv4Packet(good.subarray(0, 19)), "short-packet");
  assert.equal(checkIpv4Packet(mutate((p) => (p[0] = 0x65))), "not-ipv4");
  assert.equal(checkIpv4Packet(mutate((p) => (p[0] = 0x44))), "bad-header-length");
  assert.equal(checkIpv4Packet(mutate((p) => (p[0] = 0x4f))), "bad-header-length");
  assert.equal(checkIpv4Packet(good.subarray(0, 40)), "bad-total-length");
  assert.equal(checkIpv4Packet(mutate((p) => (p[8] = 1))), "bad-checksum");
  // reserved flag: fix the checksum so only the flag is wrong
  const reserved = mutate((p) => {
    p[6] = 0x80;
    p[10] = p[11] = 0;
    const sum = internetChecksum(p, 0, 20);
    p[10] = sum >> 8;
    p[11] = sum & 0xff;
  });
  assert.equal(checkIpv4Packet(reserved), "bad-fragment");
});

test("checkIpv4Packet never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (data) => {
      const verdict = checkIpv4Packet(data);
      assert.ok(verdict === null || typeof verdict === "string");
    }),
  );
});

test("addresses parse and format round trip; junk is refused", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(parseIpv4Address(formatIpv4Address(n)), n);
    }),
  );
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1.2.3.-4"]) {
    assert.equal(parseIpv4Address(bad), null, bad);
  }
});

test("interface addresses: prefixes, network and broadcast refused", () => {
  assert.deepEqual(parseIpv4Interface("10.88.0.5/16"), { address: parseIpv4Address("10.88.0.5"), prefixLength: 16 });
  assert.match(parseIpv4Interface("10.88.0.5") as string, /prefix length/);
  assert.match(parseIpv4Interface("10.88.0.0/16") as string, /network address/);
  assert.match(parseIpv4Interface("10.88.255.255/16") as string, /broadcast address/);
  assert.match(parseIpv4Interface("10.88.0.5/31") as string, /between/);
  assert.match(parseIpv4Interface("10.88.0.300/16") as string, /not an IPv4/);
});

test("subnet membership and broadcast detection", () => {
  const net = parseIpv4Interface("10.88.0.5/16");
  assert.ok(typeof net !== "string");
  assert.ok(inSubnet(parseIpv4Address("10.88.200.1")!, net));
  assert.ok(!inSubnet(parseIpv4Address("10.89.0.1")!, net));
  assert.ok(isBroadcastOrMulticast(parseIpv4Address("10.88.255.255")!, net));
  assert.ok(isBroadcastOrMulticast(parseIpv4Address("224.0.0.251")!, net));
  assert.ok(isBroadcastOrMulticast(0xffffffff, net));
  assert.ok(!isBroadcastOrMulticast(parseIpv4Address("10.88.0.9")!, net));
});
