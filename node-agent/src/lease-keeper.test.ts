import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { generateKeyPair, parseCertificate, signCertificate } from "@ipop/shared";
import { makeTestCa } from "@ipop/shared/testing";
import { test } from "vitest";
import type { IssuedCertificate } from "./enroll-client.js";
import { LeaseKeeper } from "./lease-keeper.js";

const nowS = Math.floor(Date.now() / 1000);
const testCa = makeTestCa("lab", nowS);
const keys = generateKeyPair(new Uint8Array(32).fill(9));

/** A certificate for our key valid from `from` to `until` (seconds). */
function issued(from: number, until: number): IssuedCertificate {
  const certText = signCertificate(
    { name: "n1", ip: "10.88.200.1/16", notBefore: from, notAfter: until, publicKey: keys.publicKey },
    testCa.ca,
    testCa.caSeed,
  );
  const cert = parseCertificate(certText);
  assert.ok(cert.ok);
  return { cert: cert.value, certText, ca: testCa.ca, caText: testCa.caText };
}

test("renews two thirds into the lifetime, with the current certificate, and again after", async () => {
  const asked: string[] = [];
  const renewed: IssuedCertificate[] = [];
  // Two thirds of [now-2, now+1] is now: the first renewal is due at once.
  const first = issued(nowS - 2, nowS + 1);
  const next = issued(nowS, nowS + 3600);
  const keeper = new LeaseKeeper({
    url: "ws://127.0.0.1:1",
    issued: first,
    seed: keys.seed,
    clock: () => nowS * 1000,
    renewOnce: async (options) => {
      asked.push(options.certText);
      return next;
    },
    onRenewed: (r) => renewed.push(r),
    onFailure: (message) => assert.fail(message),
  });
  keeper.start();
  await sleep(200);
  keeper.stop();
  assert.deepEqual(asked, [first.certText]);
  assert.deepEqual(renewed, [next]);
  assert.equal(keeper.certificate, next.cert);
});

test("a failed renewal is retried while time is left, and reported as final when it is not", {
  timeout: 10_000,
}, async () => {
  const failures: Array<[string, boolean]> = [];
  // The keeper's decisions follow this clock, which each attempt moves on by a second; only the
  // retry delays (one second) are real.
  let clockMs = nowS * 1000;
  let attempts = 0;
  const keeper = new LeaseKeeper({
    url: "ws://127.0.0.1:1",
    // Renewal due at nowS, expiry 3 s later.
    issued: issued(nowS - 6, nowS + 3),
    seed: keys.seed,
    clock: () => clockMs,
    renewOnce: async () => {
      attempts++;
      clockMs += 1_000;
      throw new Error("server unreachable");
    },
    onRenewed: () => assert.fail("nothing to renew with"),
    onFailure: (message, willRetry) => failures.push([message, willRetry]),
  });
  keeper.start();
  while (failures.length < 2) await sleep(50);
  keeper.stop();
  assert.equal(attempts, 2);
  assert.deepEqual(failures, [
    ["server unreachable", true],
    ["server unreachable", false],
  ]);
});
