import assert from "node:assert/strict";
import { test } from "vitest";
import { BenchError } from "../errors.js";
import { DEFAULT_UDP64_PPS, parseBenchArgs } from "./options.js";
import { selectSystems } from "./systems/index.js";

const usage = (e: unknown) => e instanceof BenchError && e.code === "BENCH_USAGE";

test("defaults: 3 reps, 5 s tests, 200 pings, 5 link restarts", () => {
  const o = parseBenchArgs([]);
  assert.equal(o.reps, 3);
  assert.equal(o.seconds, 5);
  assert.equal(o.pings, 200);
  assert.equal(o.linkSamples, 5);
  assert.equal(o.udp64Pps, DEFAULT_UDP64_PPS);
  assert.equal(o.systems, undefined);
  assert.equal(o.json, false);
});

test("--quick shortens everything, explicit flags still win", () => {
  const o = parseBenchArgs(["--quick", "--reps", "2"]);
  assert.equal(o.reps, 2);
  assert.equal(o.seconds, 2);
  assert.equal(o.pings, 50);
  assert.equal(o.linkSamples, 2);
});

test("--systems is a comma list; aliases expand; order kept; repeats dropped", () => {
  const o = parseBenchArgs(["--systems", "veth, ipop-ndc,wg", "--json"]);
  assert.deepEqual(o.systems, ["veth", "ipop-ndc", "wg"]);
  assert.deepEqual(
    selectSystems(o.systems!).map((s) => s.name),
    ["veth", "ipop-ndc", "wireguard-go"],
  );
  assert.deepEqual(
    selectSystems(["ipop", "ipop-ndc"]).map((s) => s.name),
    ["ipop-ndc", "ipop-wrtc", "ipop-werift"],
  );
  assert.throws(() => selectSystems(["tinc"]), usage);
});

test("bad input is a usage error", () => {
  assert.throws(() => parseBenchArgs(["--reps", "0"]), usage);
  assert.throws(() => parseBenchArgs(["--reps", "1.5"]), usage);
  assert.throws(() => parseBenchArgs(["--frobnicate"]), usage);
  assert.throws(() => parseBenchArgs(["--systems", ","]), usage);
});
