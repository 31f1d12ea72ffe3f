import assert from "node:assert/strict";
import { test } from "vitest";
import { lossRuleset } from "./underlay-loss.js";

test("underlay loss: one nftables input rule dropping N per mille of UDP at random", () => {
  const rules = lossRuleset(10);
  assert.match(rules, /type filter hook input priority -10; policy accept;/);
  assert.match(rules, /meta l4proto udp numgen random mod 1000 < 10 drop/);
  assert.throws(() => lossRuleset(0), RangeError);
  assert.throws(() => lossRuleset(1001), RangeError);
  assert.throws(() => lossRuleset(2.5), RangeError);
});
