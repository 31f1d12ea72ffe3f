/**
 * Two real ndc agents carry TCP over the IP track (an SRTP track on the same WebRTC connection,
 * node-agent/src/link/ndc-ip-track.ts), and their own counters prove it: the track's frame counts
 * cover what was transferred. Then one agent without the track (`IPOP_NDC_TRACK=0`, exactly an
 * agent from before it) talks to one with it: the link comes up, TCP still arrives intact, and the
 * track carries nothing.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, virtualIp } from "./agents.js";
import { startLabOverlay, stopLabOverlay } from "./lab-overlay.js";
import type { Lab } from "./netns.js";
import type { PeerStatus } from "./status.js";
import { tcpTransfer } from "./transfer.js";

/** Links come up within this on a shared two-core machine; a deadline for hangs, not a measurement. */
const UP_TIMEOUT_MS = 60_000;
const BYTES = 8 * 1024 * 1024;
/** A 1400-byte MTU carries ~1,350 bytes of TCP payload per packet: at least this many data frames. */
const MIN_FRAMES = Math.floor(BYTES / 1400);

async function peerOn(lab: Lab, host: string, peer: string): Promise<PeerStatus> {
  const status = await agentStatus(lab, host);
  const p = status.peers.find((x) => x.ip === virtualIp(lab, peer));
  assert.ok(p !== undefined, `${host} has no link to ${peer}`);
  return p;
}

for (const mix of ["both with the track", "h2 without the track"] as const) {
  describe(`IP track between two ndc agents: ${mix}`, () => {
    let lab: Lab;
    let overlay: Overlay | undefined;
    const withTrack = mix === "both with the track";

    beforeAll(async () => {
      ({ lab, overlay } = await startLabOverlay(
        2,
        {
          network: "ip-track",
          webrtc: "ndc",
          ...(withTrack ? {} : { envByHost: { h2: { IPOP_NDC_TRACK: "0" } } }),
        },
        UP_TIMEOUT_MS,
      ));
    }, UP_TIMEOUT_MS + 30_000);

    afterAll(async () => {
      await stopLabOverlay(lab, overlay);
    });

    test("TCP both ways arrives intact; the agents' counters say which path carried it", {
      timeout: 150_000,
    }, async () => {
      const before = { h1: await peerOn(lab, "h1", "h2"), h2: await peerOn(lab, "h2", "h1") };
      for (const [from, to] of [
        ["h1", "h2"],
        ["h2", "h1"],
      ] as const) {
        const r = await tcpTransfer(lab, from, to, virtualIp(lab, to), BYTES, { timeoutMs: 120_000 });
        assert.equal(r.received.bytes, BYTES);
        assert.equal(r.received.sha256, r.sent.sha256);
      }
      const after = { h1: await peerOn(lab, "h1", "h2"), h2: await peerOn(lab, "h2", "h1") };
      for (const host of ["h1", "h2"] as const) {
        const track = after[host].ipTrack;
        const detail = `${host}: ${JSON.stringify(track)}`;
        if (!withTrack) {
          // h1 offered the track (or h2 offered none); nobody said it reads it: nothing on it.
          assert.ok(track === undefined || (track.sent === 0 && track.received === 0 && !track.carrying), detail);
          continue;
        }
        assert.ok(track?.carrying === true, detail);
        const sent = track.sent - (before[host].ipTrack?.sent ?? 0);
        const received = track.received - (before[host].ipTrack?.received ?? 0);
        // Each side sent one transfer's data and the other's ACKs, and received the same.
        assert.ok(sent >= MIN_FRAMES && received >= MIN_FRAMES, `${detail}: sent ${sent}, received ${received}`);
        // The core counted every frame the track delivered as it counts channel frames.
        assert.ok(after[host].rx.packets - before[host].rx.packets >= received, `${host}: core rx below track rx`);
      }
    });
  });
}
