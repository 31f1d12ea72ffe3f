import assert from "node:assert/strict";
import { test } from "vitest";
import { packageOf, shortUrl, summarizeProfile } from "./profile.js";

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

test("packages: npm packages, workspace packages, node internals, V8 pseudo-frames", () => {
  assert.equal(
    packageOf(frame("send", "file:///w/node_modules/node-datachannel/dist/esm/lib/x.mjs")),
    "node-datachannel",
  );
  assert.equal(packageOf(frame("f", "file:///w/node_modules/@roamhq/wrtc/lib/a.js")), "@roamhq/wrtc");
  assert.equal(packageOf(frame("handleFrame", "file:///w/shared/dist/node.js")), "@ipop shared");
  assert.equal(packageOf(frame("emit", "node:events")), "node: internals");
  assert.equal(packageOf(frame("(garbage collector)", "")), "(garbage collector)");
});

test("self time per function and package; idle counted apart; shares of busy time", () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", "") },
      { id: 2, callFrame: frame("(idle)", "") },
      { id: 3, callFrame: frame("handleFrame", "file:///w/shared/dist/node.js", 9) },
      { id: 4, callFrame: frame("sendMessageBinary", "file:///w/node_modules/node-datachannel/dist/x.js", 1) },
    ],
    samples: [2, 3, 3, 4, 2],
    timeDeltas: [1000, 2000, 2000, 6000, 1000],
  };
  const s = summarizeProfile(profile, "p.cpuprofile");
  assert.equal(s.totalMs, 12);
  assert.equal(s.idleMs, 2);
  assert.deepEqual(
    s.functions.map((f) => [f.name, f.selfMs, f.share]),
    [
      ["sendMessageBinary node_modules/node-datachannel/dist/x.js:2", 6, 0.6],
      ["handleFrame shared/dist/node.js:10", 4, 0.4],
    ],
  );
  assert.deepEqual(
    s.packages.map((p) => p.name),
    ["node-datachannel", "@ipop shared"],
  );
});

test("short script names", () => {
  assert.equal(shortUrl("file:///w/node_modules/a/node_modules/b/x.js"), "node_modules/b/x.js");
  assert.equal(shortUrl("file:///work/main/node-agent/dist/link/ndc-link.js"), "node-agent/dist/link/ndc-link.js");
  assert.equal(shortUrl("node:events"), "node:events");
  assert.equal(shortUrl(""), "");
});
