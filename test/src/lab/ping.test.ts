import assert from "node:assert/strict";
import { test } from "vitest";
import { parsePing } from "./ping.js";

const OK = `PING 10.88.0.2 (10.88.0.2) 56(84) bytes of data.
64 bytes from 10.88.0.2: icmp_seq=1 ttl=64 time=0.912 ms
64 bytes from 10.88.0.2: icmp_seq=2 ttl=64 time=0.700 ms

--- 10.88.0.2 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms
rtt min/avg/max/mdev = 0.700/0.806/0.912/0.106 ms
`;

test("parsePing reads counts, loss and average rtt", () => {
  const r = parsePing(OK, 1);
  assert.equal(r.transmitted, 3);
  assert.equal(r.received, 2);
  assert.equal(r.lost, 1);
  assert.equal(r.avgRttMs, 0.806);
  assert.match(r.summary, /^3 packets transmitted.*; rtt /);
});

test("parsePing with errors and no replies", () => {
  const r = parsePing(
    "--- 10.88.0.9 ping statistics ---\n3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2ms\n",
    1,
  );
  assert.equal(r.received, 0);
  assert.equal(r.lost, 3);
  assert.equal(r.avgRttMs, undefined);
  const none = parsePing("ping: connect: Network is unreachable\n", 2);
  assert.equal(none.transmitted, 0);
  assert.match(none.summary, /unreachable/);
});
