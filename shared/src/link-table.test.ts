import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "vitest";
import { LinkRecord } from "./link-record.js";
import { LinkTable } from "./link-table.js";
import { RING_SIZE, ringDistance, symphonyTarget } from "./ring.js";
import { seededRandom } from "./testing/random.js";

const ring = fc.integer({ min: 0, max: RING_SIZE - 1 });

function upLink(table: LinkTable, id: number, peerRing: number, peerLinks: readonly number[]): LinkRecord {
  const ip = `10.0.${id >> 8}.${id & 0xff}`;
  const link = new LinkRecord(
    id,
    { nodeId: `n${id}`, name: `h${id}`, ip },
    id,
    peerRing,
    "offerer",
    `s${id}`,
    "overlay",
    0,
    "near",
  );
  link.purpose.peerLinks = peerLinks;
  table.add(link);
  table.markUp(link);
  return link;
}

/** The obvious version: of the links closer than self, the one whose best two-hop distance is least. */
function referenceNextHop(links: readonly LinkRecord[], destination: number, self: number): LinkRecord | undefined {
  const progressing = links.filter(
    (l) => l.purpose.unneededSince === null && ringDistance(l.ring, destination) < ringDistance(self, destination),
  );
  const score = (l: LinkRecord) =>
    Math.min(ringDistance(l.ring, destination), ...l.purpose.peerLinks.map((r) => ringDistance(r, destination)));
  let best: LinkRecord | undefined;
  for (const l of progressing) {
    if (best === undefined) best = l;
    else if (score(l) < score(best)) best = l;
    else if (score(l) === score(best) && ringDistance(l.ring, destination) < ringDistance(best.ring, destination))
      best = l;
  }
  return best;
}

test("the next hop with lookahead agrees with an obvious reference", () => {
  fc.assert(
    fc.property(
      ring,
      ring,
      fc.array(fc.tuple(ring, fc.array(ring, { maxLength: 8 }), fc.boolean()), { maxLength: 12 }),
      (self, destination, spec) => {
        const table = new LinkTable();
        for (const [i, [peerRing, peerLinks, unneeded]] of spec.entries()) {
          if (unneeded) upLink(table, i + 1, peerRing, peerLinks).purpose.unneededSince = 0;
          else upLink(table, i + 1, peerRing, peerLinks);
        }
        assert.equal(table.closestTo(destination, self), referenceNextHop(table.up, destination, self));
      },
    ),
  );
});

test("the next hop is always strictly closer and needed, whatever (stale) link lists the peers sent", () => {
  fc.assert(
    fc.property(
      ring,
      ring,
      fc.array(fc.tuple(ring, fc.array(ring, { maxLength: 8 }), fc.boolean()), { maxLength: 12 }),
      (self, destination, spec) => {
        const table = new LinkTable();
        for (const [i, [peerRing, peerLinks, unneeded]] of spec.entries()) {
          if (unneeded) upLink(table, i + 1, peerRing, peerLinks).purpose.unneededSince = 0;
          else upLink(table, i + 1, peerRing, peerLinks);
        }
        const next = table.closestTo(destination, self);
        if (next !== undefined) {
          assert.ok(ringDistance(next.ring, destination) < ringDistance(self, destination));
          assert.equal(next.purpose.unneededSince, null, "a link about to close is not a next hop");
        } else
          for (const l of table.up) {
            if (l.purpose.unneededSince === null)
              assert.ok(ringDistance(l.ring, destination) >= ringDistance(self, destination));
          }
      },
    ),
  );
});

/**
 * A static Symphony overlay: `n` nodes, 2 near links each side, shortcuts to harmonic targets
 * (both directions usable), every node's table with its peers' link lists. Returns the mean hops of
 * greedy routing between random pairs, with or without the lookahead.
 */
function meanHops(n: number, shortcuts: number, lookahead: boolean): number {
  const random = seededRandom(7);
  const rings = Array.from({ length: n }, () => Math.floor(random() * RING_SIZE)).sort((a, b) => a - b);
  const adjacent = rings.map(() => new Set<number>());
  const link = (a: number, b: number) => {
    if (a === b) return;
    adjacent[a]!.add(b);
    adjacent[b]!.add(a);
  };
  const owner = (x: number) => {
    let best = 0;
    for (let i = 1; i < n; i++) if (ringDistance(rings[i]!, x) < ringDistance(rings[best]!, x)) best = i;
    return best;
  };
  for (let i = 0; i < n; i++) {
    link(i, (i + 1) % n);
    link(i, (i + 2) % n);
    for (let k = 0; k < shortcuts; k++) link(i, owner(symphonyTarget(rings[i]!, n, random())));
  }
  const tables = rings.map((_, i) => {
    const table = new LinkTable();
    for (const j of adjacent[i]!)
      upLink(table, j + 1, rings[j]!, lookahead ? [...adjacent[j]!].map((m) => rings[m]!) : []);
    return table;
  });
  let hops = 0;
  const pairs = 400;
  for (let p = 0; p < pairs; p++) {
    let at = Math.floor(random() * n);
    const to = Math.floor(random() * n);
    while (at !== to) {
      const next = tables[at]!.closestTo(rings[to]!, rings[at]!);
      assert.ok(next !== undefined, "greedy routing with near links on both sides always progresses");
      at = next.id - 1;
      hops++;
      assert.ok(hops < 100 * pairs, "no loop");
    }
  }
  return hops / pairs;
}

test("looking one hop ahead shortens greedy routes on a Symphony overlay", () => {
  const plain = meanHops(600, 4, false);
  const ahead = meanHops(600, 4, true);
  assert.ok(ahead < 0.85 * plain, `mean hops ${ahead} with lookahead, ${plain} without`);
});
