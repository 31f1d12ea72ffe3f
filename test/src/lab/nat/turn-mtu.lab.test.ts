/**
 * Full-size packets over a TURN-relayed path: TURN wraps each DTLS datagram again (4 bytes as
 * ChannelData, 36 as a Send indication), so a path that carries 1400-byte overlay packets directly
 * might not through a relay. TCP with full-size segments must still move every byte (sha256
 * compared), and a don't-fragment ping of the overlay MTU must get through: no black hole.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startSignaling, virtualIp, type WebRtcBackend } from "../agents.js";
import { parsePing } from "../ping.js";
import { tcpTransfer } from "../transfer.js";
import type { Coturn } from "./coturn.js";
import { NatLab } from "./nat-lab.js";
import { runPair } from "./nat-pair.js";

const BACKENDS: readonly WebRtcBackend[] = ["ndc", "werift"];
const BYTES = 4 * 1024 * 1024;
/** The agents' default overlay MTU is 1400: 1372 bytes of ICMP payload fill it. */
const FULL_PING_PAYLOAD = 1372;

describe("full-size packets over TURN", () => {
  let nat: NatLab;
  let coturn: Coturn;
  let signalUrl: string;

  beforeAll(async () => {
    nat = await NatLab.create({ sites: BACKENDS.flatMap(() => [{ kind: "symmetric" }, { kind: "symmetric" }]) });
    coturn = await nat.startTurn();
    signalUrl = (await startSignaling(nat.lab)).url;
  }, 120_000);

  afterAll(async () => {
    await nat?.destroy();
  }, 60_000);

  for (const [i, webrtc] of BACKENDS.entries()) {
    test(`${webrtc}: TCP moves every byte and a DF ping of the full MTU gets through`, async () => {
      const [a, b] = [nat.sites[2 * i]!.hosts[0]!, nat.sites[2 * i + 1]!.hosts[0]!];
      await runPair(nat, a, b, {
        network: `mtu-${webrtc}`,
        signalUrl,
        coturn,
        webrtc,
        whileUp: async (r) => {
          assert.equal(r.path, "relay");
          const argv = ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", String(FULL_PING_PAYLOAD)];
          const out = await nat.lab.exec(a, [...argv, virtualIp(nat.lab, b)], { timeoutMs: 20_000 });
          const big = parsePing(out.stdout, out.code);
          assert.ok(big.received > 0, `full-size DF ping over TURN: ${big.summary}`);
          const t = await tcpTransfer(nat.lab, a, b, virtualIp(nat.lab, b), BYTES, { timeoutMs: 120_000 });
          assert.equal(t.received.bytes, BYTES);
          assert.equal(t.received.sha256, t.sent.sha256);
        },
      });
    }, 300_000);
  }
});
