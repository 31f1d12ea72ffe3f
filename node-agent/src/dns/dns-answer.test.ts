import assert from "node:assert/strict";
import dnsPacket from "dns-packet";
import fc from "fast-check";
import { test } from "vitest";
import { answerDnsQuery, DNS_TTL_S, MAX_DNS_QUERY_BYTES } from "./dns-answer.js";

const ZONE = "lab.ipop";
const table = (name: string) => ({ h1: "10.88.0.1", "h.two": "10.88.0.2" })[name];

function query(name: string, type: dnsPacket.RecordType = "A", extra: Partial<dnsPacket.Packet> = {}): Uint8Array {
  return dnsPacket.encode({
    type: "query",
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
    ...extra,
  });
}

/** What dns-packet decodes, with the header fields its types leave out. */
type Decoded = dnsPacket.DecodedPacket & { readonly rcode: string; readonly opcode: string };

/** The address in the first answer, if any. */
const firstA = (packet: dnsPacket.DecodedPacket) => (packet.answers?.[0] as { data?: string } | undefined)?.data;

function answer(bytes: Uint8Array) {
  const verdict = answerDnsQuery(bytes, ZONE, table);
  assert.equal(verdict.kind, "answer", JSON.stringify(verdict));
  if (verdict.kind !== "answer") throw new Error("unreachable");
  return { rcode: verdict.rcode, packet: dnsPacket.decode(Buffer.from(verdict.response)) as Decoded };
}

test("an A query for a known node is answered with its address, authoritatively", () => {
  const { rcode, packet } = answer(query("h1.lab.ipop"));
  assert.equal(rcode, "NOERROR");
  assert.equal(packet.type, "response");
  assert.equal(packet.id, 4242);
  assert.equal(packet.rcode, "NOERROR");
  assert.equal(packet.flag_aa, true);
  assert.equal(packet.flag_rd, true);
  assert.equal(packet.flag_ra, false);
  assert.deepEqual(packet.questions, [{ name: "h1.lab.ipop", type: "A", class: "IN" }]);
  assert.equal(packet.answers?.length, 1);
  const [a] = (packet.answers ?? []) as { type: string; name: string; data: string; ttl: number }[];
  assert.deepEqual(
    { type: a?.type, name: a?.name, data: a?.data, ttl: a?.ttl },
    {
      type: "A",
      name: "h1.lab.ipop",
      data: "10.88.0.1",
      ttl: DNS_TTL_S,
    },
  );
});

test("names are matched without regard to case, and echoed as asked", () => {
  const { packet } = answer(query("H1.Lab.IPOP"));
  assert.equal(firstA(packet), "10.88.0.1");
  assert.equal(packet.questions?.[0]?.name, "H1.Lab.IPOP");
  // A member name with a dot in it is one name.
  assert.equal(firstA(answer(query("h.two.lab.ipop")).packet), "10.88.0.2");
});

test("an unknown name in the zone is NXDOMAIN", () => {
  const { rcode, packet } = answer(query("h9.lab.ipop"));
  assert.equal(rcode, "NXDOMAIN");
  assert.equal(packet.rcode, "NXDOMAIN");
  assert.deepEqual(packet.answers, []);
});

test("names outside the zone are REFUSED, never forwarded", () => {
  for (const name of ["example.com", "h1.other.ipop", "ipop", "h1.lab.ipop.evil.com", "xlab.ipop"]) {
    const { rcode, packet } = answer(query(name));
    assert.equal(rcode, "REFUSED", name);
    assert.equal(packet.flag_aa, false);
    assert.deepEqual(packet.answers, []);
  }
});

test("other types for a known name, and the zone itself, are NOERROR with no data", () => {
  for (const [name, type] of [
    ["h1.lab.ipop", "AAAA"],
    ["h1.lab.ipop", "MX"],
    ["lab.ipop", "A"],
  ] as const) {
    const { rcode, packet } = answer(query(name, type));
    assert.equal(rcode, "NOERROR", `${name} ${type}`);
    assert.deepEqual(packet.answers, []);
  }
  assert.equal(answer(query("h9.lab.ipop", "AAAA")).rcode, "NXDOMAIN");
});

test("a query with an EDNS record is answered; another class is REFUSED", () => {
  const edns = query("h1.lab.ipop", "A", {
    additionals: [
      {
        type: "OPT",
        name: ".",
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ],
  });
  assert.equal(answer(edns).rcode, "NOERROR");
  const chaos = dnsPacket.encode({
    type: "query",
    id: 1,
    questions: [{ type: "A", name: "h1.lab.ipop", class: "CH" }],
  });
  assert.equal(answer(chaos).rcode, "REFUSED");
});

test("an opcode other than QUERY is NOTIMP", () => {
  const bytes = query("h1.lab.ipop");
  bytes[2] = (bytes[2] ?? 0) | (2 << 3); // opcode STATUS
  const { rcode, packet } = answer(bytes);
  assert.equal(rcode, "NOTIMP");
  assert.equal(packet.opcode, "STATUS");
});

test("malformed, truncated, oversized queries and responses are dropped with a reason", () => {
  const good = query("h1.lab.ipop");
  const drop = (bytes: Uint8Array) => {
    const verdict = answerDnsQuery(bytes, ZONE, table);
    return verdict.kind === "drop" ? verdict.reason : verdict.rcode;
  };
  assert.equal(drop(new Uint8Array(0)), "truncated");
  assert.equal(drop(good.subarray(0, 11)), "truncated");
  assert.equal(drop(good.subarray(0, good.length - 3)), "malformed");
  const big = new Uint8Array(MAX_DNS_QUERY_BYTES + 1);
  big.set(good);
  assert.equal(drop(big), "oversized");
  const response = dnsPacket.encode({ type: "response", id: 1, questions: [{ type: "A", name: "h1.lab.ipop" }] });
  assert.equal(drop(response), "not-query");
  assert.equal(drop(dnsPacket.encode({ type: "query", id: 1, questions: [] })), "question-count");
  const two = dnsPacket.encode({
    type: "query",
    id: 1,
    questions: [
      { type: "A", name: "h1.lab.ipop" },
      { type: "A", name: "h9.lab.ipop" },
    ],
  });
  assert.equal(drop(two), "question-count");
  // A compression pointer pointing at itself.
  const loop = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(drop(loop), "malformed");
  // A view into a larger buffer is read from its own offset.
  const padded = new Uint8Array(good.length + 7);
  padded.set(good, 7);
  assert.equal(drop(padded.subarray(7)), "NOERROR");
});

test("random bytes and mutated queries never throw", () => {
  const good = query("h1.lab.ipop");
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }).map((edits) => {
          const bytes = Uint8Array.from(good);
          for (const [at, value] of edits) bytes[at] = value;
          return bytes;
        }),
      ),
      (bytes) => {
        const verdict = answerDnsQuery(bytes, ZONE, table);
        if (verdict.kind === "answer") assert.ok(verdict.response.length <= 512);
      },
    ),
    { numRuns: 3000 },
  );
});
