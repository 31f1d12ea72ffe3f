import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import dnsPacket from "dns-packet";
import { afterEach, test } from "vitest";
import type { DnsDropReason } from "./dns-answer.js";
import { DnsServer } from "./dns-server.js";
import { SourceRateLimit } from "./rate-limit.js";

const servers: DnsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(drops: DnsDropReason[]): Promise<DnsServer> {
  const server = await DnsServer.listen({
    host: "127.0.0.1",
    port: 0,
    zone: "lab.ipop",
    lookup: (name) => (name === "h7" ? "10.88.0.7" : undefined),
    onDrop: (reason) => drops.push(reason),
  });
  servers.push(server);
  return server;
}

/** Sends `bytes` to the server and returns the answer, or undefined after `waitMs`. */
async function ask(
  server: DnsServer,
  bytes: Uint8Array,
  waitMs = 2000,
): Promise<(dnsPacket.DecodedPacket & { rcode: string }) | undefined> {
  const client = createSocket("udp4");
  try {
    const reply = once(client, "message") as Promise<[Buffer]>;
    client.send(bytes, server.address.port, "127.0.0.1");
    const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), waitMs));
    const first = await Promise.race([reply, timeout]);
    return first === undefined
      ? undefined
      : (dnsPacket.decode(first[0]) as dnsPacket.DecodedPacket & { rcode: string });
  } finally {
    client.close();
  }
}

const query = (name: string) =>
  dnsPacket.encode({ type: "query", id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] });

test("answers A queries over UDP, NXDOMAIN and REFUSED too, and drops garbage with a count", async () => {
  const drops: DnsDropReason[] = [];
  const server = await start(drops);
  const found = await ask(server, query("h7.lab.ipop"));
  assert.equal(found?.id, 7);
  assert.equal((found?.answers?.[0] as { data: string } | undefined)?.data, "10.88.0.7");
  assert.equal((await ask(server, query("h8.lab.ipop")))?.rcode, "NXDOMAIN");
  assert.equal((await ask(server, query("example.com")))?.rcode, "REFUSED");
  assert.equal(await ask(server, Uint8Array.from([1, 2, 3]), 300), undefined);
  assert.deepEqual(drops, ["truncated"]);
  // Still serving after the garbage.
  assert.equal((await ask(server, query("H7.LAB.IPOP")))?.rcode, "NOERROR");
});

test("the rate limit allows a burst, then the sustained rate, per source", () => {
  const limit = new SourceRateLimit(10, 20, 2);
  let allowed = 0;
  for (let i = 0; i < 50; i++) if (limit.allow("a", 0)) allowed++;
  assert.equal(allowed, 20);
  assert.equal(limit.allow("a", 50), false, "half a token after 50 ms");
  assert.equal(limit.allow("a", 100), true, "one token after 100 ms");
  assert.equal(limit.allow("b", 100), true, "another source has its own bucket");
  assert.equal(limit.allow("c", 100), false, "a third source while two are busy");
  assert.equal(limit.allow("c", 10_000), true, "once the others are idle, they are forgotten");
});
