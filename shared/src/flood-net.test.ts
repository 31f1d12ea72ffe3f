import assert from "node:assert/strict";
import { test } from "vitest";
import { MiniNet, member } from "./testing/mini-net.js";
import { makeIpv4Packet, withHeadroom } from "./testing/packets.js";

test("one multicast in a 32-node overlay reaches every other node exactly once", () => {
  const net = new MiniNet(16, {}, {}, 7);
  const n = 32;
  for (let i = 1; i <= n; i++) {
    net.join(member(i));
    net.advance(2_000);
  }
  net.advance(30_000);
  for (const list of net.delivered.values()) list.length = 0;
  const sender = net.nodes.get("node005")!;
  const payload = new Uint8Array([0x4d, 0x44, 0x4e, 0x53]);
  const packet = makeIpv4Packet("10.88.0.5", "224.0.0.251", payload);
  sender.handleHostPacket(net.at(), withHeadroom(packet));
  net.settle();
  for (const [id, list] of net.delivered) {
    const copies = list.filter((p) => p[16] === 224 && p[19] === 251);
    assert.equal(copies.length, id === "node005" ? 0 : 1, `${id} got ${copies.length} copies`);
    if (copies.length === 1) assert.deepEqual(copies[0], packet);
  }
  // N - 1 copies in all, each node sending at most one per link.
  let forwarded = 0;
  for (const node of net.nodes.values()) {
    const status = node.status(net.now);
    const copies = status.multicast.forwarded ?? 0;
    assert.ok(copies <= status.links.length);
    forwarded += copies;
  }
  assert.equal(forwarded, n - 1);
});
