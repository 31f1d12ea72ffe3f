/**
 * The IP track's negotiation between real links in this process (host candidates on loopback): the
 * track carries data frames only when both ends are ndc links that have it; an "old" end (the track
 * turned off, as `IPOP_NDC_TRACK=0` does, which is exactly an agent without it) and the other
 * backends answering an ndc offer leave every frame on the data channel. Also: what the track
 * delivers, and bad RTP on it.
 */
import assert from "node:assert/strict";
import { afterAll, describe, test } from "vitest";
import { createLinkFactory } from "./backends.js";
import { MAX_TRACK_FRAME_BYTES } from "./ip-track-rtp.js";
import { createNdcLinkFactory } from "./ndc-link.js";
import type { LinkChannel, LinkSignal, PeerLink, PeerLinkFactory } from "./peer-link.js";

const OPEN_TIMEOUT_MS = 15_000;
const live = new Set<PeerLink>();
afterAll(() => {
  for (const link of live) link.close();
});

const newNdc = () => createNdcLinkFactory({});
const oldNdc = () => createNdcLinkFactory({ IPOP_NDC_TRACK: "0" });

/** One end of a pair, recording what its link reports. */
class End {
  readonly link: PeerLink;
  readonly got: Record<LinkChannel, Uint8Array[]> = { control: [], data: [] };
  readonly descriptions: LinkSignal[] = [];
  open = false;
  closed: string | undefined;

  constructor(factory: PeerLinkFactory, role: "offerer" | "answerer", peer: () => End) {
    this.link = factory.create(
      { role, iceServers: [], isForbiddenAddress: () => false },
      {
        onSignal: (signal) => {
          if (signal.kind === "description") this.descriptions.push(signal);
          queueMicrotask(() => peer().link.handleSignal(signal));
        },
        onOpen: () => {
          this.open = true;
        },
        onMessage: (channel, message) => this.got[channel].push(message.slice()),
        onClose: (reason) => {
          this.closed = reason;
        },
      },
    );
    live.add(this.link);
  }
}

/** Two links with signals relayed directly; resolves once both are open. */
async function connect(offerFactory: PeerLinkFactory, answerFactory: PeerLinkFactory): Promise<[End, End]> {
  const ends: End[] = [];
  const offerer = new End(offerFactory, "offerer", () => ends[1]!);
  const answerer = new End(answerFactory, "answerer", () => ends[0]!);
  ends.push(offerer, answerer);
  await waitFor(() => offerer.open && answerer.open, OPEN_TIMEOUT_MS, "both ends to open", ends);
  return [offerer, answerer];
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string, ends: End[] = []): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      const state = ends.map((e) => `${e.link.role}: open ${e.open}, closed ${e.closed}`).join("; ");
      throw new Error(`timed out waiting for ${what} (${state})`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A data frame as the core makes one (version 1, type data) around `size` bytes of pattern. */
function frame(index: number, size: number): Uint8Array {
  const f = new Uint8Array(size);
  f[0] = 1;
  f[1] = 0x01;
  new DataView(f.buffer).setUint32(2, index);
  return f;
}

/** Sends `count` frames from `from`, by sendDatagram where the link has it, else on the data channel. */
function sendFrames(from: End, count: number, size: number): { track: number; channel: number } {
  const used = { track: 0, channel: 0 };
  for (let i = 0; i < count; i++) {
    const f = frame(i, size);
    const verdict = from.link.sendDatagram?.(f) ?? "no-path";
    if (verdict === "sent") used.track++;
    else if (verdict === "no-path" && from.link.send("data", f)) used.channel++;
  }
  return used;
}

async function trackStats(end: End) {
  return (await end.link.stats()).ipTrack;
}

function closeAll(...ends: End[]): void {
  for (const e of ends) e.link.close();
}

describe("IP track negotiation", () => {
  test("new ndc <-> new ndc: the answer says ipTrack, data frames go on the track both ways", async () => {
    const [o, a] = await connect(newNdc(), newNdc());
    assert.equal(a.descriptions[0]?.kind === "description" && a.descriptions[0].ipTrack, true);
    // The track opens with DTLS, a moment apart from the channels.
    await waitFor(() => o.link.sendDatagram?.(frame(9999, 100)) === "sent", OPEN_TIMEOUT_MS, "the track to carry");
    await waitFor(() => a.link.sendDatagram?.(frame(9999, 100)) === "sent", OPEN_TIMEOUT_MS, "the track to carry");
    const forward = sendFrames(o, 50, 1402);
    const back = sendFrames(a, 50, 1416);
    assert.deepEqual(forward, { track: 50, channel: 0 });
    assert.deepEqual(back, { track: 50, channel: 0 });
    await waitFor(() => a.got.data.length >= 50 && o.got.data.length >= 50, 5000, "the frames to arrive");
    // Exactly the frame, RTP header stripped.
    const sizes = new Set(a.got.data.filter((f) => f.length !== 100).map((f) => f.length));
    assert.deepEqual([...sizes], [1402]);
    const stats = await trackStats(o);
    assert.ok(stats?.carrying && stats.sent >= 50 && stats.received >= 50, JSON.stringify(stats));
    // Reports arrive on the control channel but never reach the caller as control frames.
    assert.ok(
      o.got.control.every((m) => m[0] !== 0xff) && a.got.control.every((m) => m[0] !== 0xff),
      "a link-private report leaked to the core",
    );
    closeAll(o, a);
  });

  test("a frame larger than one packet takes the data channel", async () => {
    const [o, a] = await connect(newNdc(), newNdc());
    await waitFor(() => o.link.sendDatagram?.(frame(0, 64)) === "sent", OPEN_TIMEOUT_MS, "the track to carry");
    assert.equal(o.link.sendDatagram?.(frame(1, MAX_TRACK_FRAME_BYTES)), "sent");
    assert.equal(o.link.sendDatagram?.(frame(2, MAX_TRACK_FRAME_BYTES + 1)), "no-path");
    closeAll(o, a);
  });

  for (const [name, offer, answer] of [
    ["new ndc offerer, old ndc answerer", newNdc, oldNdc],
    ["old ndc offerer, new ndc answerer", oldNdc, newNdc],
    ["old ndc <-> old ndc", oldNdc, oldNdc],
  ] as const) {
    test(`${name}: no ipTrack in the answer, every data frame on the channel`, async () => {
      const [o, a] = await connect(offer(), answer());
      assert.equal(a.descriptions[0]?.kind === "description" && a.descriptions[0].ipTrack, undefined);
      await new Promise((r) => setTimeout(r, 200)); // time for a track to open, were there one
      assert.deepEqual(sendFrames(o, 20, 1402), { track: 0, channel: 20 });
      assert.deepEqual(sendFrames(a, 20, 1402), { track: 0, channel: 20 });
      await waitFor(() => a.got.data.length === 20 && o.got.data.length === 20, 5000, "the frames to arrive");
      assert.equal((await trackStats(o))?.sent ?? 0, 0);
      closeAll(o, a);
    });
  }

  for (const backend of ["werift", "wrtc"] as const) {
    test(`an ndc offer (with the track's section) opens with a ${backend} answerer, on the channel`, async () => {
      const [o, a] = await connect(newNdc(), await createLinkFactory(backend));
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(sendFrames(o, 10, 1402), { track: 0, channel: 10 });
      await waitFor(() => a.got.data.length === 10, 5000, "the frames to arrive");
      closeAll(o, a);
    });
  }
});
