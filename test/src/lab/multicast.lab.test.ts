/**
 * Lab test of broadcast and multicast (docs/multicast.md): five agents; one UDP datagram to the
 * mDNS group 224.0.0.251:5353 from one namespace reaches a listener that joined the group on the
 * TUN's address in every other namespace exactly once. The sender picks no interface: the agent's
 * 224.0.0.0/4 route on the TUN takes it into the overlay.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, startOverlay, stopOverlay, virtualIp, waitForOverlayUp } from "./agents.js";
import { Lab } from "./netns.js";
import type { LabProcess } from "./process.js";

const UP_TIMEOUT_MS = 60_000;
const GROUP = "224.0.0.251";
const PORT = 5353;

/** Joins GROUP on the given interface address and prints each datagram as a JSON line. */
const LISTENER = `
const dgram = require("node:dgram");
const [group, port, iface] = process.argv.slice(1);
const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
socket.on("message", (msg, from) => console.log(JSON.stringify({ from: from.address, text: msg.toString() })));
socket.bind(Number(port), () => { socket.addMembership(group, iface); console.log("listening"); });
`;

/** Sends one datagram to GROUP without choosing an interface (the route decides). */
const SENDER = `
const dgram = require("node:dgram");
const [group, port, text] = process.argv.slice(1);
const socket = dgram.createSocket("udp4");
socket.send(text, Number(port), group, (error) => { if (error) { console.error(error.message); process.exitCode = 1; } socket.close(); });
`;

describe("multicast: five agents", () => {
  let lab: Lab;
  let overlay: Overlay;

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 5 });
    overlay = await startOverlay(lab, { network: "mcast" });
  });
  afterAll(async () => {
    if (overlay !== undefined) await stopOverlay(overlay);
    lab?.destroy();
  });

  test("a datagram to 224.0.0.251:5353 reaches every other namespace exactly once", { timeout: 120_000 }, async () => {
    await waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS);
    const [sender, ...receivers] = lab.hosts;
    const route = await lab.exec(sender!, ["ip", "route", "show", "224.0.0.0/4"]);
    assert.match(route.stdout, /dev ipop0 .*metric 4000/, "the agent's multicast route");
    const listeners = new Map<string, LabProcess>();
    try {
      for (const host of receivers) {
        const proc = lab.spawn(host, [process.execPath, "-e", LISTENER, GROUP, String(PORT), virtualIp(lab, host)], {
          label: `${host} mdns listener`,
        });
        listeners.set(host, proc);
        await proc.waitForLine(/^listening/, { timeoutMs: 10_000 });
      }
      const text = `hello from ${sender}`;
      const sent = await lab.exec(sender!, [process.execPath, "-e", SENDER, GROUP, String(PORT), text]);
      assert.equal(sent.code, 0, sent.stderr);
      await Promise.all([...listeners.values()].map((proc) => proc.waitForLine(/^\{/, { timeoutMs: 10_000 })));
      // A second copy would arrive within this.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const [host, proc] of listeners) {
        const got = proc.lines("stdout").filter((line) => line.startsWith("{"));
        assert.deepEqual(
          got.map((line) => JSON.parse(line)),
          [{ from: virtualIp(lab, sender!), text }],
          `${host} received:\n${proc.tail()}`,
        );
      }
      const status = await agentStatus(lab, sender!);
      assert.ok((status.multicast?.sent ?? 0) >= 1, JSON.stringify(status.multicast));
    } finally {
      await Promise.all([...listeners.values()].map((proc) => proc.stop("SIGKILL", 1_000)));
    }
  });
});
