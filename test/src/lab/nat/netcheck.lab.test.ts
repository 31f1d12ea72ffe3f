/**
 * `ipop netcheck` behind each NAT kind of the NAT lab, asking coturn on both of its addresses: the
 * mapping and filtering it reports are the ones the NAT box was built with, also after a NAT is
 * changed in place.
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

interface Report {
  mapping: string;
  filtering: string;
  behindNat: boolean;
  publicAddress: string;
  servers: Array<{ url: string; answered: boolean; latencyMs: number | null; note?: string }>;
}

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

  async function runNetcheck(host: string): Promise<{ report: Report; stdout: string }> {
    const urls = [...coturn.stunUrls, coturn.turnUrl];
    const argv = [process.execPath, requireBuilt(AGENT_CLI), "netcheck", "--json"];
    const r = await nat.lab.exec(host, [...argv, ...urls.flatMap((u) => ["--ice-server", u])], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    return { report: JSON.parse(r.stdout) as Report, stdout: r.stdout };
  }

  test("reports each NAT kind's mapping, filtering and public address, and which servers answered", async () => {
    for (const site of nat.sites) {
      const { report, stdout } = await runNetcheck(site.hosts[0]!);
      assert.deepEqual(
        { mapping: report.mapping, filtering: report.filtering, behindNat: report.behindNat },
        EXPECTED[site.kind],
        `${site.kind}: ${stdout}`,
      );
      assert.equal(report.publicAddress.split(":")[0], site.publicIp, site.kind);
      assert.ok(
        report.servers.every((s) => s.answered && s.latencyMs !== null),
        `${site.kind}: ${stdout}`,
      );
      assert.match(report.servers.find((s) => s.url.startsWith("turn:"))?.note ?? "", /401/);
    }
  }, 120_000);

  test("a NAT changed in place (setKind) is seen as its new kind", async () => {
    const site = nat.sites.find((s) => s.kind === "port-restricted")!;
    await nat.setKind(site.index, "symmetric");
    assert.equal((await runNetcheck(site.hosts[0]!)).report.mapping, "address-and-port-dependent");
    await nat.setKind(site.index, "port-restricted");
    assert.equal((await runNetcheck(site.hosts[0]!)).report.mapping, "endpoint-independent");
  }, 60_000);
});
