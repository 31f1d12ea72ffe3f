/**
 * `ipop netcheck` behind each NAT kind of the NAT lab, asking coturn on both of its addresses: the
 * mapping and filtering it reports are the ones the NAT box was built with.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { AGENT_CLI, requireBuilt } from "../paths.js";
import type { Coturn } from "./coturn.js";
import { NatLab } from "./nat-lab.js";
import { NAT_KINDS, type NatKind } from "./nat-rules.js";

const EXPECTED: Record<NatKind, { mapping: string; filtering: string; behindNat: boolean }> = {
  none: { mapping: "endpoint-independent", filtering: "endpoint-independent", behindNat: false },
  "full-cone": { mapping: "endpoint-independent", filtering: "endpoint-independent", behindNat: true },
  "port-restricted": { mapping: "endpoint-independent", filtering: "address-and-port-dependent", behindNat: true },
  symmetric: { mapping: "address-and-port-dependent", filtering: "address-and-port-dependent", behindNat: true },
};

describe("ipop netcheck", () => {
  let nat: NatLab;
  let coturn: Coturn;

  beforeAll(async () => {
    nat = await NatLab.create({ sites: NAT_KINDS.map((kind) => ({ kind })) });
    coturn = await nat.startTurn();
  }, 120_000);

  afterAll(async () => {
    await nat?.destroy();
  }, 60_000);

  test("reports each NAT kind's mapping, filtering and public address, and which servers answered", async () => {
    const urls = [...coturn.stunUrls, coturn.turnUrl];
    for (const site of nat.sites) {
      const host = site.hosts[0]!;
      const argv = [
        process.execPath,
        requireBuilt(AGENT_CLI),
        "netcheck",
        "--json",
        ...urls.flatMap((u) => ["--ice-server", u]),
      ];
      const r = await nat.lab.exec(host, argv, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, `${site.kind}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as {
        mapping: string;
        filtering: string;
        behindNat: boolean;
        publicAddress: string;
        servers: Array<{ url: string; answered: boolean; latencyMs: number | null; note?: string }>;
      };
      const expected = EXPECTED[site.kind];
      assert.deepEqual(
        { mapping: report.mapping, filtering: report.filtering, behindNat: report.behindNat },
        expected,
        `${site.kind}: ${r.stdout}`,
      );
      assert.equal(report.publicAddress.split(":")[0], site.publicIp, site.kind);
      assert.ok(
        report.servers.every((s) => s.answered && s.latencyMs !== null),
        `${site.kind}: ${r.stdout}`,
      );
      assert.match(report.servers.find((s) => s.url.startsWith("turn:"))?.note ?? "", /401/);
    }
  }, 120_000);
});
