import assert from "node:assert/strict";
import { describe, test } from "vitest";
import { LinkError } from "../errors.js";
import { ndcLogLevel } from "./ndc-log.js";

describe("ndcLogLevel", () => {
  test("off when unset or empty", () => {
    assert.equal(ndcLogLevel({}), undefined);
    assert.equal(ndcLogLevel({ IPOP_NDC_LOG: " " }), undefined);
  });

  test("names a level in any case", () => {
    assert.equal(ndcLogLevel({ IPOP_NDC_LOG: "debug" }), "Debug");
    assert.equal(ndcLogLevel({ IPOP_NDC_LOG: "WARNING" }), "Warning");
  });

  test("refuses anything else with a clear error", () => {
    assert.throws(
      () => ndcLogLevel({ IPOP_NDC_LOG: "loud" }),
      (e: unknown) => e instanceof LinkError && e.code === "IPOP_LINK_BAD_LOG_LEVEL" && e.message.includes("Verbose"),
    );
  });
});
