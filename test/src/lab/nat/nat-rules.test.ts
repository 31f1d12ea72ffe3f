import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { directPossible, NAT_KINDS, natRuleset } from "./nat-rules.js";

describe("NAT rulesets", () => {
  const box = { wan: "wan0", lan: "lan0", fullConeHost: "192.168.1.10" };

  test("symmetric maps each flow to a random port; the others keep the source port", () => {
    assert.match(natRuleset("symmetric", box), /oifname "wan0" masquerade random/);
    for (const kind of ["port-restricted", "full-cone"] as const) {
      assert.match(natRuleset(kind, box), /oifname "wan0" masquerade\n/);
    }
  });

  test("only a full cone lets new inbound flows in, to its one host", () => {
    assert.match(natRuleset("full-cone", box), /iifname "wan0" meta l4proto udp dnat to 192\.168\.1\.10/);
    for (const kind of ["port-restricted", "symmetric"] as const) assert.doesNotMatch(natRuleset(kind, box), /dnat/);
    assert.throws(() => natRuleset("full-cone", { wan: "wan0", lan: "lan0" }), RangeError);
  });

  test("every box drops new flows from the WAN to itself, and replaces its table when reloaded", () => {
    for (const kind of ["port-restricted", "full-cone", "symmetric"] as const) {
      const rules = natRuleset(kind, box);
      assert.match(rules, /iifname "wan0" ct state new drop/);
      assert.match(rules, /^add table ip ipopnat\ndelete table ip ipopnat\n/);
    }
  });
});

describe("directPossible", () => {
  test("is symmetric in its arguments and false only where a symmetric NAT meets a filtering one", () => {
    const relayed = new Set(["symmetric/symmetric", "port-restricted/symmetric", "symmetric/port-restricted"]);
    for (const a of NAT_KINDS) {
      for (const b of NAT_KINDS) {
        assert.equal(directPossible(a, b), directPossible(b, a));
        assert.equal(directPossible(a, b), !relayed.has(`${a}/${b}`), `${a}/${b}`);
      }
    }
  });
});
