/**
 * Agents that send IP packets with different SCTP reliability talk to each other. Reliability is a
 * sender's choice per message (the receiver takes retransmitted and abandoned chunks alike), so the
 * node-datachannel agent, which sends its data batches reliably (unordered), and a wrtc agent, which
 * sends them with `maxRetransmits: 0` as every agent did before, must carry TCP both ways, here over
 * an underlay that drops 1% of UDP packets, with every byte arriving (sha256).
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { addUnderlayLoss } from "../bench/underlay-loss.js";
import { type Overlay, virtualIp, type WebRtcBackend } from "./agents.js";
import { startLabOverlay, stopLabOverlay } from "./lab-overlay.js";
import type { Lab } from "./netns.js";
import { tcpTransfer } from "./transfer.js";

/** Links come up within this on a shared two-core machine; a deadline for hangs, not a measurement. */
const UP_TIMEOUT_MS = 60_000;
/** wrtc moves a few tens of Mbit/s: 4 MiB takes seconds even under loss. */
const BYTES = 4 * 1024 * 1024;
/** 1% of the underlay's UDP packets, as in the bench's lossy test. */
const LOSS_PERMILLE = 10;

describe("send modes: a reliable-unordered sender (ndc) and a maxRetransmits-0 sender (wrtc)", () => {
  let lab: Lab;
  let overlay: Overlay | undefined;
  let removeLoss: (() => Promise<void>) | undefined;
  const backends: Record<string, WebRtcBackend> = { h1: "ndc", h2: "wrtc" };

  beforeAll(async () => {
    ({ lab, overlay } = await startLabOverlay(2, { network: "send-modes", webrtcByHost: backends }, UP_TIMEOUT_MS));
    removeLoss = await addUnderlayLoss(lab, LOSS_PERMILLE);
  }, UP_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await removeLoss?.().catch(() => undefined);
    await stopLabOverlay(lab, overlay);
  });

  for (const [from, to] of [
    ["h1", "h2"],
    ["h2", "h1"],
  ] as const) {
    test(`TCP ${from} (${backends[from]}) -> ${to} (${backends[to]}) at 1% underlay loss: same sha256`, {
      timeout: 150_000,
    }, async () => {
      const r = await tcpTransfer(lab, from, to, virtualIp(lab, to), BYTES, { timeoutMs: 120_000 });
      assert.equal(r.sent.bytes, BYTES);
      assert.equal(r.received.bytes, BYTES);
      assert.equal(r.received.sha256, r.sent.sha256);
    });
  }
});
