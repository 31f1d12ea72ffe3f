/** ICMP echo, ICMP errors and UDP as the console's virtual host builds and reads them. */
import assert from "node:assert/strict";
import { test } from "vitest";
import { buildEchoRequest, describeIcmpError, echoReplyFor, hostUnreachable, parseIcmpPacket } from "./icmp.js";
import { checkIpv4Packet, parseIpv4Address } from "./ipv4.js";
import { buildUdpPacket, parseUdpPacket } from "./udp.js";

const a = parseIpv4Address("10.88.0.1")!;
const b = parseIpv4Address("10.88.0.2")!;

test("an echo request is a valid IPv4 packet that parses back, and its reply swaps the addresses", () => {
  const request = buildEchoRequest({ source: a, destination: b, identifier: 0x1234, sequence: 7, data: 56 }, 16);
  assert.equal(request.byteOffset, 16);
  assert.equal(request.length, 20 + 8 + 56);
  assert.equal(checkIpv4Packet(request), null);
  const parsed = parseIcmpPacket(request);
  assert.ok(parsed?.kind === "echo-request");
  assert.equal(parsed.identifier, 0x1234);
  assert.equal(parsed.sequence, 7);
  assert.equal(parsed.data.length, 56);
  const reply = echoReplyFor(parsed)!;
  assert.equal(checkIpv4Packet(reply), null);
  const back = parseIcmpPacket(reply);
  assert.ok(back?.kind === "echo-reply");
  assert.deepEqual([back.source, back.destination, back.identifier, back.sequence], [b, a, 0x1234, 7]);
  assert.deepEqual([...back.data], [...parsed.data]);
  assert.equal(echoReplyFor(back), null);
});

test("a corrupted echo, a truncated one and a non-ICMP packet parse to null", () => {
  const request = buildEchoRequest({ source: a, destination: b, identifier: 1, sequence: 1, data: 8 });
  const bad = request.slice();
  bad[30]! ^= 0xff;
  assert.equal(parseIcmpPacket(bad), null);
  assert.equal(parseIcmpPacket(request.subarray(0, 24)), null);
  assert.equal(
    parseIcmpPacket(buildUdpPacket({ source: a, destination: b, sourcePort: 1, destinationPort: 2, payload: 4 })),
    null,
  );
});

test("an ICMP error quoting a UDP probe names the probe's ports and destination", () => {
  const probe = buildUdpPacket({ source: a, destination: b, sourcePort: 40000, destinationPort: 9, payload: 10 });
  const error = hostUnreachable(probe, b)!;
  const parsed = parseIcmpPacket(error);
  assert.ok(parsed?.kind === "error");
  assert.equal(parsed.from, b);
  assert.deepEqual(parsed.quoted, { protocol: 17, source: a, destination: b });
  assert.deepEqual(parsed.quotedWords.slice(0, 2), [40000, 9]);
  const echo = buildEchoRequest({ source: a, destination: b, identifier: 0xbeef, sequence: 3, data: 8 });
  const echoError = parseIcmpPacket(hostUnreachable(echo, b)!);
  assert.ok(echoError?.kind === "error");
  assert.deepEqual(echoError.quotedWords.slice(2), [0xbeef, 3]);
  assert.equal(describeIcmpError(parsed.type, parsed.code), "host unreachable");
  assert.equal(describeIcmpError(3, 3), "port unreachable");
  assert.equal(describeIcmpError(11, 0), "time to live exceeded");
});

test("UDP datagrams round-trip with a valid checksum; a flipped bit or a short length is refused", () => {
  const payload = new TextEncoder().encode("hello, overlay");
  const packet = buildUdpPacket({ source: a, destination: b, sourcePort: 5000, destinationPort: 7, payload });
  assert.equal(checkIpv4Packet(packet), null);
  const parsed = parseUdpPacket(packet)!;
  assert.deepEqual([parsed.source, parsed.destination, parsed.sourcePort, parsed.destinationPort], [a, b, 5000, 7]);
  assert.equal(new TextDecoder().decode(parsed.payload), "hello, overlay");
  const flipped = packet.slice();
  flipped[30]! ^= 1;
  assert.equal(parseUdpPacket(flipped), null);
  const short = packet.slice();
  short[25] = 4; // UDP length below its header
  assert.equal(parseUdpPacket(short), null);
  assert.equal(parseUdpPacket(packet.subarray(0, 26)), null);
});

test("random bytes never make the parsers throw", () => {
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 0xff;
  };
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: next() % 80 }, next);
    if (bytes.length > 0) bytes[0] = 0x45;
    if (bytes.length > 9) bytes[9] = i % 2 === 0 ? 1 : 17;
    parseIcmpPacket(bytes);
    parseUdpPacket(bytes);
  }
});
