/**
 * TURN with every WebRTC backend: two agents behind symmetric NATs (no hole punching possible) link
 * only through coturn's relay, ping both ways, and their status says so. The TURN servers and their
 * credentials come from the signaling server (`--turn-url`, `--turn-secret-file`): no agent flag.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startSignaling, type WebRtcBackend } from "../agents.js";
import type { Coturn } from "./coturn.js";
import { NatLab } from "./nat-lab.js";
import { runPair } from "./nat-pair.js";

const BACKENDS: readonly WebRtcBackend[] = ["ndc", "werift", "wrtc"];

describe("TURN relaying with each backend", () => {
  let nat: NatLab;
  let coturn: Coturn;
  let signalUrl: string;

  beforeAll(async () => {
    nat = await NatLab.create({ sites: BACKENDS.flatMap(() => [{ kind: "symmetric" }, { kind: "symmetric" }]) });
    coturn = await nat.startTurn();
    signalUrl = (await startSignaling(nat.lab, ["--turn-url", coturn.turnUrl, "--turn-secret-file", coturn.secretFile]))
      .url;
  }, 120_000);

  afterAll(async () => {
    await nat?.destroy();
  }, 60_000);

  test("two agents behind symmetric NATs link through TURN and ping both ways", async () => {
    const results = await Promise.allSettled(
      BACKENDS.map((webrtc, i) => {
        const [a, b] = [nat.sites[2 * i]!.hosts[0]!, nat.sites[2 * i + 1]!.hosts[0]!];
        return runPair(nat, a, b, { network: `turn-${webrtc}`, signalUrl, coturn, webrtc, ice: "signal" });
      }),
    );
    const problems: string[] = [];
    for (const [i, r] of results.entries()) {
      const backend = BACKENDS[i];
      if (r.status === "rejected") problems.push(`${backend}: ${String(r.reason).slice(0, 3000)}`);
      else if (!(r.value.pinged[0] && r.value.pinged[1]) || r.value.path !== "relay" || r.value.reasons[0] === null) {
        problems.push(
          `${backend}: path ${r.value.candidates.join("/")} (${r.value.reasons.join("/")}), ping ${r.value.pinged.join("/")}`,
        );
      }
    }
    assert.deepEqual(problems, []);
  }, 300_000);
});
