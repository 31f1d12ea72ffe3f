import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { parseIceUrl, toNdcIceServers, toW3cIceServers } from "./ice-servers.js";

describe("ICE server URLs", () => {
  test("parse with default ports, IPv6 literals and a transport", () => {
    assert.deepEqual(parseIceUrl("stun:198.51.100.1"), { scheme: "stun", host: "198.51.100.1", port: 3478 });
    assert.deepEqual(parseIceUrl("turns:turn.example"), { scheme: "turns", host: "turn.example", port: 5349 });
    assert.deepEqual(parseIceUrl("turn:[2001:db8::1]:3479?transport=tcp"), {
      scheme: "turn",
      host: "2001:db8::1",
      port: 3479,
      transport: "tcp",
    });
  });

  test("refuse user info, other schemes, bad ports and garbage", () => {
    for (const url of ["turn:u:p@h:3478", "turn:u@h", "http://h", "stun:h:0", "stun:h:70000", "stun:", "stun:h x"]) {
      assert.equal(parseIceUrl(url), undefined, url);
    }
  });

  test("node-datachannel gets credentials beside the host, not percent-encoded into a URL", () => {
    const servers = [
      { urls: "stun:198.51.100.1:3478" },
      { urls: "turn:198.51.100.1:3478?transport=udp", username: "1795986185:h1", credential: "a@b:c" },
      { urls: "turns:t.example", username: "u", credential: "p" },
      { urls: "turn:u:p@bad" },
    ];
    assert.deepEqual(toNdcIceServers(servers), [
      { hostname: "198.51.100.1", port: 3478 },
      { hostname: "198.51.100.1", port: 3478, username: "1795986185:h1", password: "a@b:c", relayType: "TurnUdp" },
      { hostname: "t.example", port: 5349, username: "u", password: "p", relayType: "TurnTls" },
    ]);
    assert.deepEqual(toW3cIceServers(servers.slice(0, 2)), servers.slice(0, 2));
  });
});
