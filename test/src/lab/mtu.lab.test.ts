/**
 * Lab test of packets larger than the overlay: two real agents with the default overlay MTU (1400),
 * whose hosts then raise their TUN devices' MTU to 9000, as a host with a wider interface or route
 * would. Nothing may vanish: packets without DF are fragmented, packets with DF get ICMP
 * fragmentation-needed (the kernel learns the path MTU), and TCP SYNs are clamped in both directions
 * so full-size TCP segments fit.
 */
import assert from "node:assert/strict";
import { afterAll, beforeAll, describe, test } from "vitest";
import { agentStatus, type Overlay, startOverlay, virtualIp, waitForOverlayUp } from "./agents.js";
import { Lab } from "./netns.js";
import { pingUntilClean } from "./ping.js";
import { tcpTransfer } from "./transfer.js";

const UP_TIMEOUT_MS = 60_000;
const OVERLAY_MTU = 1400;
const HOST_MTU = 9000;

/** Node one-liners for a TCP connection that stays open, so `ss` can read its MSS. */
const HOLD_SERVER = `const s=require("net").createServer(c=>{c.on("error",()=>{});}).listen(5301,process.argv[1],()=>console.log("listening"));setTimeout(()=>process.exit(0),60000);`;
const HOLD_CLIENT = `const c=require("net").connect(5301,process.argv[1],()=>console.log("connected"));c.on("error",e=>{console.log(String(e));process.exit(1)});setTimeout(()=>process.exit(0),60000);`;

describe("mtu: hosts with a 9000-byte TUN MTU over a 1400-byte overlay", () => {
  let lab: Lab;
  let overlay: Overlay;
  let h2: string;

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 2 });
    overlay = await startOverlay(lab, { network: "mtu" });
    await waitForOverlayUp(lab, overlay, UP_TIMEOUT_MS);
    h2 = virtualIp(lab, "h2");
    // Both ends ping at the overlay MTU first, so the links are known to carry traffic.
    const warm = await pingUntilClean(lab, "h1", h2, 10, { count: 3, intervalS: 0.2, waitS: 2 });
    assert.equal(warm.lost, 0, warm.summary);
    for (const host of lab.hosts)
      await lab.execOk(host, ["ip", "link", "set", "dev", "ipop0", "mtu", String(HOST_MTU)]);
  }, 120_000);
  afterAll(() => lab?.destroy());

  test("the agents report the overlay MTU while the devices run at 9000", async () => {
    for (const host of lab.hosts) {
      const status = await agentStatus(lab, host);
      assert.equal(status.node.mtu, OVERLAY_MTU);
      const link = await lab.execOk(host, ["ip", "-o", "link", "show", "dev", "ipop0"]);
      assert.match(link.stdout, new RegExp(`mtu ${HOST_MTU} `));
    }
  });

  test("(a) the MSS each end of a TCP connection sees is clamped to the overlay's", { timeout: 60_000 }, async () => {
    const server = lab.spawn("h2", [process.execPath, "-e", HOLD_SERVER, h2], { label: "h2 tcp hold" });
    try {
      await server.waitForLine(/^listening/, { timeoutMs: 10_000 });
      const client = lab.spawn("h1", [process.execPath, "-e", HOLD_CLIENT, h2], { label: "h1 tcp hold" });
      try {
        await client.waitForLine(/^connected/, { timeoutMs: 20_000 });
        // `mss` is what this end sends: the peer's announced MSS, less options, capped by the path.
        // Both devices are at 9000, so only the overlay's clamping keeps it at or below 1360.
        for (const host of ["h1", "h2"]) {
          const ss = await lab.execOk(host, [
            "ss",
            "-tinH",
            "state",
            "established",
            "( sport = :5301 or dport = :5301 )",
          ]);
          const mss = [...ss.stdout.matchAll(/\bmss:(\d+)/g)].map((m) => Number(m[1]));
          assert.equal(mss.length, 1, `${host}: one connection expected:\n${ss.stdout}`);
          assert.ok(mss[0]! <= OVERLAY_MTU - 40, `${host}: mss ${mss[0]} over ${OVERLAY_MTU - 40}:\n${ss.stdout}`);
          assert.ok(mss[0]! >= OVERLAY_MTU - 40 - 40, `${host}: mss ${mss[0]} needlessly small`);
        }
      } finally {
        await client.stop("SIGKILL", 1_000);
      }
    } finally {
      await server.stop("SIGKILL", 1_000);
    }
    const [s1, s2] = [await agentStatus(lab, "h1"), await agentStatus(lab, "h2")];
    assert.ok((s1.adjusted?.["mss-clamped-out"] ?? 0) >= 1, `h1 clamped its SYN: ${JSON.stringify(s1.adjusted)}`);
    assert.ok((s2.adjusted?.["mss-clamped-out"] ?? 0) >= 1, `h2 clamped its SYN-ACK: ${JSON.stringify(s2.adjusted)}`);
  });

  test("(b) 8 MB of full-size TCP segments arrive with the same sha256, none over the MTU", {
    timeout: 150_000,
  }, async () => {
    const before = (await agentStatus(lab, "h1")).drops["host-too-big"] ?? 0;
    const bytes = 8 * 1024 * 1024;
    const r = await tcpTransfer(lab, "h1", "h2", h2, bytes, { timeoutMs: 120_000 });
    assert.equal(r.sent.bytes, bytes);
    assert.equal(r.received.bytes, bytes);
    assert.equal(r.received.sha256, r.sent.sha256);
    // With the SYNs clamped, the kernel never builds a segment the overlay must refuse.
    const after = (await agentStatus(lab, "h1")).drops["host-too-big"] ?? 0;
    assert.equal(after, before, "h1 sent TCP segments over the overlay MTU");
  });

  test("(c) a 3000-byte ping without DF is fragmented by the overlay both ways and answered", {
    timeout: 60_000,
  }, async () => {
    const before = await Promise.all(lab.hosts.map(async (h) => (await agentStatus(lab, h)).adjusted?.fragmented ?? 0));
    const r = await lab.exec("h1", ["ping", "-n", "-M", "dont", "-s", "3000", "-c", "3", "-i", "0.2", "-W", "2", h2], {
      timeoutMs: 20_000,
    });
    assert.match(r.stdout, /3 packets transmitted, 3 received/, r.stdout + r.stderr);
    assert.match(r.stdout, /3008 bytes from/, "the whole echo came back");
    const after = await Promise.all(lab.hosts.map(async (h) => (await agentStatus(lab, h)).adjusted?.fragmented ?? 0));
    assert.ok(after[0]! - before[0]! >= 3, `h1 fragmented the requests: ${before} -> ${after}`);
    assert.ok(after[1]! - before[1]! >= 3, `h2 fragmented the replies: ${before} -> ${after}`);
  });

  test("(d) a 2000-byte ping with DF gets fragmentation-needed and the kernel learns MTU 1400", {
    timeout: 60_000,
  }, async () => {
    const before = (await agentStatus(lab, "h1")).drops["host-too-big"] ?? 0;
    const r = await lab.exec("h1", ["ping", "-n", "-M", "do", "-s", "2000", "-c", "2", "-i", "0.5", "-W", "2", h2], {
      timeoutMs: 20_000,
    });
    const output = r.stdout + r.stderr;
    assert.match(output, /Frag needed and DF set \(mtu = 1400\)|message too long, mtu=1400/, output);
    const route = await lab.execOk("h1", ["ip", "route", "get", h2]);
    assert.match(route.stdout, /\bmtu 1400\b/, `h1 did not learn the path MTU:\n${route.stdout}`);
    const after = (await agentStatus(lab, "h1")).drops["host-too-big"] ?? 0;
    assert.ok(after > before, "h1 counted the packet it refused");
    // With the path MTU learned, the same payload without DF crosses as fragments.
    const again = await lab.exec(
      "h1",
      ["ping", "-n", "-M", "want", "-s", "2000", "-c", "2", "-i", "0.2", "-W", "2", h2],
      {
        timeoutMs: 20_000,
      },
    );
    assert.match(again.stdout, /2 packets transmitted, 2 received/, again.stdout + again.stderr);
  });
});
