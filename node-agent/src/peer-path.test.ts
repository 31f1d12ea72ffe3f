import assert from "node:assert/strict";
import { test } from "vitest";
import { pairType, relayReason } from "./peer-path.js";

test("a relayed pair says why; a direct one says nothing", () => {
  const relayed = { localCandidateType: "relay", remoteCandidateType: "prflx" } as const;
  assert.equal(pairType(relayed), "relay");
  assert.equal(
    relayReason({
      ...relayed,
      localCandidateTypes: ["host", "srflx", "relay"],
      remoteCandidateTypes: ["host", "srflx", "relay"],
    }),
    "hole punching failed (symmetric NAT)",
  );
  assert.equal(
    relayReason({ ...relayed, localCandidateTypes: ["host", "relay"], remoteCandidateTypes: ["srflx", "relay"] }),
    "no UDP path",
  );
  assert.equal(
    relayReason({ ...relayed, localCandidateTypes: ["relay"], remoteCandidateTypes: ["host", "srflx"] }),
    "TURN only",
  );
  assert.equal(
    relayReason({ localCandidateType: "srflx", remoteCandidateType: "host", localCandidateTypes: ["srflx"] }),
    null,
  );
  assert.equal(pairType({ localCandidateType: "host", remoteCandidateType: "host" }), "host");
  assert.equal(pairType(undefined), null);
});
