/**
 * The order in which a link signals its candidates, for every backend: never before its description,
 * and the offerer's only once it has applied the answer. (The answerer checks the moment it knows a
 * candidate of ours; libjuice forgets a check that arrives before the answer: docs/nat.md.)
 * `IPOP_LINK_BACKENDS=ndc,fake` narrows the run, as in the compliance suite.
 */
import assert from "node:assert/strict";
import { afterAll, describe, test } from "vitest";
import { createLinkFactory, isRealBackendName } from "./backends.js";
import { createFakeLinkFactory } from "./fake-link.js";
import type { LinkRole, LinkSignal, PeerLink, WebRtcBackendName } from "./peer-link.js";

const ALL_BACKENDS: readonly WebRtcBackendName[] = ["fake", "ndc", "werift", "wrtc"];
const selected = process.env.IPOP_LINK_BACKENDS?.split(",").map((s) => s.trim());
const BACKENDS = ALL_BACKENDS.filter((b) => selected === undefined || selected.includes(b));
const OPEN_TIMEOUT_MS = 15_000;
/** How long the answer is held once the answerer signalled a candidate: ample for the offerer to gather. */
const ANSWER_HOLD_MS = 300;

const live = new Set<PeerLink>();
afterAll(() => {
  for (const link of live) link.close();
});

interface End {
  link: PeerLink | undefined;
  readonly sent: LinkSignal[];
  /** What this end had signalled when the peer's description reached it. */
  sentBeforeRemoteDescription: LinkSignal[] | undefined;
  opened: boolean;
}

for (const name of BACKENDS) {
  describe(`signal order: ${name}`, () => {
    test("the offerer holds its candidates until it has the answer, and the link still opens", async () => {
      const factory =
        name === "fake"
          ? createFakeLinkFactory({ addresses: ["192.0.2.10"] })
          : isRealBackendName(name)
            ? await createLinkFactory(name)
            : assert.fail(`no such backend ${name}`);
      const ends: Record<LinkRole, End> = {
        offerer: { link: undefined, sent: [], sentBeforeRemoteDescription: undefined, opened: false },
        answerer: { link: undefined, sent: [], sentBeforeRemoteDescription: undefined, opened: false },
      };
      const held: LinkSignal[] = [];
      let holding = true;
      const deliver = (to: End, signal: LinkSignal) =>
        queueMicrotask(() => {
          if (signal.kind === "description") to.sentBeforeRemoteDescription = [...to.sent];
          to.link?.handleSignal(signal);
        });
      const make = (role: LinkRole, peer: LinkRole) => {
        const link = factory.create(
          { role, iceServers: [], isForbiddenAddress: () => false },
          {
            onSignal: (signal) => {
              ends[role].sent.push(signal);
              if (role === "answerer" && holding) held.push(signal);
              else deliver(ends[peer], signal);
            },
            onOpen: () => {
              ends[role].opened = true;
            },
            onMessage: () => {},
            onClose: () => live.delete(link),
          },
        );
        live.add(link);
        ends[role].link = link;
      };
      make("answerer", "offerer");
      make("offerer", "answerer");

      await waitFor(() => ends.answerer.sent.some((s) => s.kind === "candidate"), "the answerer's first candidate");
      await sleep(ANSWER_HOLD_MS);
      const offererEarly = ends.offerer.sent.filter((s) => s.kind === "candidate");
      holding = false;
      for (const signal of held.splice(0)) deliver(ends.offerer, signal);
      await waitFor(() => ends.offerer.opened && ends.answerer.opened, "both ends to open");

      assert.deepEqual(offererEarly, [], "the offerer signalled candidates before it had the answer");
      for (const role of ["offerer", "answerer"] as const) {
        const sent = ends[role].sent;
        assert.equal(sent[0]?.kind, "description", `${role}: the description comes first`);
        assert.equal(sent.filter((s) => s.kind === "description").length, 1, `${role}: one description`);
        assert.ok(
          sent.some((s) => s.kind === "candidate"),
          `${role}: candidates were signalled`,
        );
      }
      const offer = ends.offerer.sent[0];
      assert.ok(offer?.kind === "description" && !offer.sdp.includes("a=candidate:"), "the offer carries no candidate");
      assert.deepEqual(
        ends.offerer.sentBeforeRemoteDescription?.map((s) => s.kind),
        ["description"],
        "the offerer had signalled only its offer when the answer arrived",
      );
      for (const end of Object.values(ends)) end.link?.close();
    }, 30_000);
  });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + OPEN_TIMEOUT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${OPEN_TIMEOUT_MS} ms waiting for ${what}`);
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
