import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, test } from "vitest";
import {
  filterSdpCandidates,
  normalizeAddress,
  parseCandidate,
  sdpCandidates,
  stripCandidatePrefix,
} from "./candidates.js";

describe("parseCandidate", () => {
  test("reads what each stack emits", () => {
    assert.deepEqual(parseCandidate("a=candidate:1 1 UDP 2114977791 192.0.2.2 41198 typ host"), {
      foundation: "1",
      component: 1,
      transport: "udp",
      priority: 2114977791,
      address: "192.0.2.2",
      port: 41198,
      type: "host",
    });
    const wrtc = parseCandidate(
      "candidate:3077952869 1 udp 2122265343 FD00::2 50226 typ host generation 0 ufrag B4D/ network-id 2",
    );
    assert.equal(wrtc?.address, "fd00::2");
    const srflx = parseCandidate(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 10.0.0.2 rport 5000",
    );
    assert.equal(srflx?.type, "srflx");
    assert.equal(srflx?.address, "203.0.113.7");
    assert.equal(parseCandidate("candidate:1 1 udp 1 abc-def.local 9 typ host")?.address, "abc-def.local");
  });

  test("rejects malformed candidates", () => {
    for (const bad of [
      "",
      "garbage",
      "candidate:",
      "candidate:1 1 udp 1 10.0.0.1 9",
      "candidate:1 1 udp 1 10.0.0.1 9 type host",
      "candidate:1 1 udp x 10.0.0.1 9 typ host",
      "candidate:1 1 udp 1 10.0.0.1 70000 typ host",
      "candidate:1 1 udp 1 10.0.0.1 9 typ nonsense",
      `candidate:1 1 udp 1 ${"1".repeat(2000)} 9 typ host`,
    ]) {
      assert.equal(parseCandidate(bad), undefined, bad);
    }
  });

  test("never throws, and round-trips generated candidates", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        parseCandidate(s);
        parseCandidate(`candidate:${s}`);
      }),
    );
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.integer({ min: 0, max: 65535 }),
        fc.constantFrom("host", "srflx", "prflx", "relay"),
        fc.boolean(),
        (ip, port, type, prefixed) => {
          const line = `${prefixed ? "a=" : ""}candidate:abc 1 udp 12345 ${ip} ${port} typ ${type}`;
          const c = parseCandidate(line);
          assert.deepEqual([c?.address, c?.port, c?.type], [ip, port, type]);
          assert.equal(stripCandidatePrefix(line).startsWith("candidate:"), true);
        },
      ),
    );
  });
});

describe("normalizeAddress", () => {
  test("gives the filter one spelling per address", () => {
    assert.equal(normalizeAddress("[FE80::1%eth0]"), "fe80::1");
    assert.equal(normalizeAddress("::FFFF:10.88.0.7"), "10.88.0.7");
    assert.equal(normalizeAddress(" 10.88.0.7 "), "10.88.0.7");
  });
});

describe("filterSdpCandidates", () => {
  const sdp = [
    "v=0",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "a=candidate:1 1 UDP 2114977791 10.88.0.7 41198 typ host",
    "a=candidate:2 1 UDP 2114977791 192.0.2.2 41198 typ host",
    "a=candidate:garbage",
    "a=mid:0",
    "",
  ].join("\r\n");

  test("keeps only accepted candidates and every other line", () => {
    const out = filterSdpCandidates(sdp, (c) => !c.address.startsWith("10.88."));
    assert.deepEqual(
      sdpCandidates(out).map((c) => c.address),
      ["192.0.2.2"],
    );
    assert.equal(out.includes("a=candidate:garbage"), false, "unparsable candidates go too");
    assert.equal(out.includes("a=mid:0\r\n"), true);
    assert.equal(out.split("\r\n").length, sdp.split("\r\n").length - 2);
  });

  test("leaves an SDP without candidates untouched", () => {
    const plain = "v=0\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\n";
    assert.equal(
      filterSdpCandidates(plain, () => false),
      plain,
    );
  });
});
