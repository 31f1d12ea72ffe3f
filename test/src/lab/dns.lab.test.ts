/**
 * Names for nodes (issue 13, item 3): two real agents in namespaces; h1's namespace resolves with
 * its own agent as the nameserver (an /etc/netns/NS/resolv.conf, which `ip netns exec` mounts over
 * /etc/resolv.conf), so glibc's stub (`getent`, `ping`) finds h2 as h2.dnslab.ipop or, through the
 * search domain, as plain h2; unknown names fail, and garbage sent to port 53 is counted in status.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, startOverlay, stopOverlay, virtualIp, waitForOverlayUp } from "./agents.js";
import { Lab } from "./netns.js";

const NETWORK = "dnslab";
const UP_TIMEOUT_MS = 60_000;

describe("dns: nodes by name", () => {
  let lab: Lab;
  let overlay: Overlay;
  let netnsDir: string | undefined;

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 2 });
    overlay = await startOverlay(lab, { network: NETWORK });
    await waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS);
    netnsDir = `/etc/netns/${lab.nsName("h1")}`;
    mkdirSync(netnsDir, { recursive: true });
    writeFileSync(
      `${netnsDir}/resolv.conf`,
      `nameserver ${virtualIp(lab, "h1")}\nsearch ${NETWORK}.ipop\noptions timeout:2 attempts:2\n`,
    );
  }, 90_000);

  afterAll(async () => {
    if (netnsDir !== undefined) {
      rmSync(netnsDir, { recursive: true, force: true });
      try {
        rmdirSync("/etc/netns"); // only if nobody else keeps a namespace's files there
      } catch {}
    }
    if (overlay) await stopOverlay(overlay);
    await lab?.destroy();
  });

  test("a peer resolves by its name in any case and answers ping by name; unknown names fail", {
    timeout: 60_000,
  }, async () => {
    const h2 = virtualIp(lab, "h2");
    const full = await lab.exec("h1", ["getent", "hosts", `H2.${NETWORK.toUpperCase()}.ipop`]);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, new RegExp(`^${h2.replaceAll(".", "\\.")}\\s`));
    const ping = await lab.exec("h1", ["ping", "-c", "1", "-W", "5", "h2"]);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, new RegExp(`h2\\.${NETWORK}\\.ipop \\(${h2.replaceAll(".", "\\.")}\\)`));
    const unknown = await lab.exec("h1", ["getent", "hosts", `nobody.${NETWORK}.ipop`]);
    assert.equal(unknown.code, 2, "getent: not found");
    const outside = await lab.exec("h1", ["getent", "hosts", "example.com"]);
    assert.equal(outside.code, 2, "outside the zone: refused, nothing forwarded");
  });

  test("garbage sent to port 53 is dropped and counted in ipop status", { timeout: 30_000 }, async () => {
    const send = `const s=require("node:dgram").createSocket("udp4");s.send(Buffer.from([1,2,3]),53,"${virtualIp(lab, "h1")}",()=>s.close())`;
    await lab.execOk("h1", [process.execPath, "-e", send]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const drops = (await agentStatus(lab, "h1")).drops;
      if (drops["dns-truncated"] === 1) break;
      assert.ok(Date.now() < deadline, `no dns-truncated drop counted: ${JSON.stringify(drops)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
