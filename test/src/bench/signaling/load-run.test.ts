import assert from "node:assert/strict";
import { startSignalServer } from "@ipop/signaling";
import { test } from "vitest";
import { BenchError } from "../../errors.js";
import { joinTextFor } from "./load-member.js";
import { parseLoadArgs } from "./load-options.js";
import { runSignalingLoad } from "./load-run.js";

test("joinTextFor gives each index its own node id and address", () => {
  const a = JSON.parse(joinTextFor("n", 0)) as { member: { nodeId: string; ip: string } };
  const b = JSON.parse(joinTextFor("n", 70_000)) as { member: { nodeId: string; ip: string } };
  assert.notEqual(a.member.nodeId, b.member.nodeId);
  assert.equal(b.member.ip, "10.1.17.112");
});

test("a small load run holds every member, churns, and counts what the server sent", async () => {
  const server = await startSignalServer({ limits: { welcomeMembers: 4 } });
  try {
    const result = await runSignalingLoad({
      url: server.url,
      network: "load",
      members: 60,
      rate: 300,
      holdSeconds: 0,
      churnSeconds: 0.1,
      maxInFlight: 50,
      serverRss: () => process.memoryUsage().rss,
      serverCpu: () => undefined,
      serverMembers: async () => server.stats().members,
      serverSettled: async () => ({ rssBytes: process.memoryUsage().rss, heap: undefined }),
      settleSeconds: 0,
      log: () => {},
    });
    assert.equal(result.ramp.joins, 60);
    assert.equal(result.ramp.failed, 0);
    assert.equal(result.heldMembers, 60);
    assert.equal(result.churn?.joins, 30);
    assert.equal(result.churn?.failed, 0);
    assert.equal(result.lost, 0);
    assert.equal(result.ramp.maxListed, 4, "welcomes list the neighbourhood, not everyone");
    assert.ok(result.notices > 0);
    assert.ok(
      result.churnRss !== undefined && result.churnRss.min <= result.churnRss.max,
      "RSS sampled through the churn",
    );
    assert.ok(result.settledBeforeChurn.rssBytes > 0 && (result.settledAfterChurn?.rssBytes ?? 0) > 0);
    assert.ok(result.ramp.joinP50Ms !== undefined && result.ramp.joinP99Ms !== undefined);
  } finally {
    await server.close();
  }
});

test("the load test's options are bounded", () => {
  const defaults = parseLoadArgs(["--signaling"]);
  assert.equal(defaults.members, 10_000);
  assert.equal(defaults.rate, 1000);
  assert.throws(() => parseLoadArgs(["--members", "50000"]), /--members must be an integer from 1 to 18000/);
  assert.throws(() => parseLoadArgs(["--rate", "0"]), /--rate must be an integer from 1 to 5000/);
  assert.throws(() => parseLoadArgs(["--bogus"]), BenchError);
});
