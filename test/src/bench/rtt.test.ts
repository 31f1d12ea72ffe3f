import assert from "node:assert/strict";
import { test } from "vitest";
import { parseFirstReplyEpochMs, parsePingTimes } from "./rtt.js";

const OUT = `PING 10.88.0.2 (10.88.0.2) 56(84) bytes of data.
[1795583524.559307] From 10.88.0.1 icmp_seq=1 Destination Host Unreachable
[1795583524.759910] 64 bytes from 10.88.0.2: icmp_seq=2 ttl=64 time=0.999 ms
[1795583524.960218] 64 bytes from 10.88.0.2: icmp_seq=3 ttl=64 time=0.966 ms

--- 10.88.0.2 ping statistics ---
3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 402ms
rtt min/avg/max/mdev = 0.966/0.982/0.999/0.016 ms
`;

test("every reply's time, and not the summary's", () => {
  assert.deepEqual(parsePingTimes(OUT), [0.999, 0.966]);
  assert.deepEqual(parsePingTimes("64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time<0.001 ms"), [0.001]);
  assert.deepEqual(parsePingTimes("connect: Network is unreachable"), []);
});

test("the first reply's -D timestamp, skipping errors", () => {
  assert.ok(Math.abs(parseFirstReplyEpochMs(OUT)! - 1795583524759.91) < 0.01);
  assert.equal(
    parseFirstReplyEpochMs("[1795583524.559307] From 10.88.0.1 icmp_seq=1 Destination Host Unreachable"),
    undefined,
  );
});
