import assert from "node:assert/strict";
import { sampleValue } from "@ipop/shared/testing";
import { test } from "vitest";
import { MAX_NETWORK_LABELS, OTHER_NETWORKS } from "./metrics.js";
import { type SignalServer, type SignalServerOptions, startSignalServer } from "./server.js";
import { member, TestClient, waitFor } from "./testing/test-client.js";

async function withServer(options: SignalServerOptions, run: (server: SignalServer) => Promise<void>): Promise<void> {
  const server = await startSignalServer({ host: "127.0.0.1", port: 0, ...options });
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

/** Scrapes `GET /metrics` over loopback, as Prometheus would. */
async function scrape(server: SignalServer): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return res.text();
}

test("GET /metrics counts connections, members and joins per network, relayed messages and refusals", () =>
  withServer({}, async (server) => {
    let text = await scrape(server);
    assert.equal(sampleValue(text, "ipop_signal_connections"), 0);
    assert.equal(sampleValue(text, "ipop_signal_joins_total"), 0);

    const a = await TestClient.joined(server.url, "net-m", member("node-a", "10.88.0.1"));
    const b = await TestClient.joined(server.url, "net-m", member("node-b", "10.88.0.2"));
    const c = await TestClient.joined(server.url, "other", member("node-c", "10.88.0.3"));
    await a.expect("member-joined");
    for (let i = 0; i < 3; i++) a.send("node-b", { n: i });
    for (let i = 0; i < 3; i++) await b.expect("message");
    await a.sync(); // one unknown-peer refusal

    text = await scrape(server);
    assert.equal(sampleValue(text, "ipop_signal_connections"), 3);
    assert.equal(sampleValue(text, "ipop_signal_connections_total"), 3);
    assert.equal(sampleValue(text, "ipop_signal_networks"), 2);
    assert.equal(sampleValue(text, "ipop_signal_members", { network: "net-m" }), 2);
    assert.equal(sampleValue(text, "ipop_signal_members", { network: "other" }), 1);
    assert.equal(sampleValue(text, "ipop_signal_joins_total", { network: "net-m" }), 2);
    assert.equal(sampleValue(text, "ipop_signal_joins_total", { network: "other" }), 1);
    assert.equal(sampleValue(text, "ipop_signal_messages_relayed_total", { network: "net-m" }), 3);
    assert.equal(sampleValue(text, "ipop_signal_messages_relayed_total", { network: "other" }), 0);
    assert.equal(sampleValue(text, "ipop_signal_refusals_total", { reason: "unknown-peer" }), 1);

    // A second claim to a used address is a join refusal; the member gauge falls when a member leaves.
    const thief = await TestClient.connect(server.url);
    thief.sendJson({ v: 1, t: "join", network: "net-m", member: member("node-x", "10.88.0.1") });
    assert.equal((await thief.expect("error")).code, "address-in-use");
    await thief.closedWithin();
    await c.close();
    await waitFor(() => server.stats().connections === 2, "c and the thief gone");

    text = await scrape(server);
    assert.equal(sampleValue(text, "ipop_signal_refusals_total", { reason: "address-in-use" }), 1);
    assert.equal(sampleValue(text, "ipop_signal_members", { network: "other" }), 0);
    assert.equal(sampleValue(text, "ipop_signal_joins_total", { network: "other" }), 1);
    assert.equal(sampleValue(text, "ipop_signal_connections"), 2);
    assert.equal(sampleValue(text, "ipop_signal_connections_total"), 4);
    await a.close();
    await b.close();
  }));

test("rate-limited messages and refused connections are counted by reason", () =>
  withServer(
    { limits: { messagesPerSecond: 0.1, burstMessages: 2, rateLimitStrikes: 100, maxConnections: 1 } },
    async (server) => {
      const a = await TestClient.joined(server.url, "net-r", member("node-a", "10.88.0.1"));
      // The join took one of the two burst tokens: one send gets through (to nobody), three are over the rate.
      for (let i = 0; i < 4; i++) a.send("nobody", null, i);
      for (let i = 0; i < 4; i++) await a.expect("error");
      await assert.rejects(TestClient.connect(server.url), /HTTP 503/);

      const text = await scrape(server);
      assert.equal(sampleValue(text, "ipop_signal_refusals_total", { reason: "rate-limited" }), 3);
      assert.equal(sampleValue(text, "ipop_signal_refusals_total", { reason: "unknown-peer" }), 1);
      assert.equal(sampleValue(text, "ipop_signal_refusals_total", { reason: "server-full" }), 1);
      await a.close();
    },
  ));

test("network labels are bounded: networks beyond the first ones share one label", () =>
  withServer({}, async (server) => {
    const extra = 3;
    for (let i = 0; i < MAX_NETWORK_LABELS + extra; i++) {
      const client = await TestClient.joined(server.url, `n${i}`, member(`node-${i}`, "10.88.0.1"));
      await client.close();
    }
    const text = await scrape(server);
    assert.equal(sampleValue(text, "ipop_signal_joins_total", { network: OTHER_NETWORKS }), extra);
    assert.equal(sampleValue(text, "ipop_signal_joins_total"), MAX_NETWORK_LABELS + extra);
  }));

test("/metrics answers only GET", () =>
  withServer({}, async (server) => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET");
  }));

test("servers in one process keep their metrics apart", async () => {
  await withServer({}, async (one) => {
    await withServer({}, async (two) => {
      const a = await TestClient.joined(one.url, "net", member("node-a", "10.88.0.1"));
      assert.equal(sampleValue(await scrape(one), "ipop_signal_joins_total"), 1);
      assert.equal(sampleValue(await scrape(two), "ipop_signal_joins_total"), 0);
      await a.close();
    });
  });
});
