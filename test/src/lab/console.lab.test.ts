/**
 * The web console in the lab (root): ipop-signal (with the CA) serves the console; Debian's Chromium
 * runs inside a lab namespace of its own, opens the console from the server, and joins a network of
 * three agents with a join token granting the operator group. The page pings an agent's kernel
 * through `window.ipop.ping`, an agent's kernel pings the page back, the page lists every agent as a
 * peer and reads an agent's peer table over the overlay; a page whose token lacks `ops` is refused.
 * Screenshots (1280 and 390 wide) go to test/artifacts/console/ (gitignored). Timings and throughput
 * are printed for docs/bench.md; they decide nothing.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright";
import { afterAll, beforeAll, describe, test } from "vitest";
import {
  type Agent,
  hostCredentials,
  type SignalingServer,
  startAgent,
  startSignaling,
  virtualIp,
  waitForPeersUp,
} from "./agents.js";
import { type LabBrowser, launchChromiumIn } from "./browser.js";
import { Lab } from "./netns.js";
import { REPO_ROOT } from "./paths.js";
import { ping } from "./ping.js";
import { LabPki } from "./pki.js";

const NETWORK = "console";
const POOL = "10.88.200.0/24";
const AGENTS = ["h1", "h2", "h3"];
const BROWSER_HOST = "h4";
const UP_TIMEOUT_MS = 60_000;
export const ARTIFACTS = join(REPO_ROOT, "test", "artifacts", "console");

/** What the test calls on `window.ipop` (web-console/src/api.ts), typed here without the DOM. */
interface Ipop {
  join(r: { network: string; token: string }): Promise<{ ip: string; name: string; groups: string[] }>;
  peers(): Array<{ name: string; ip: string; path: string }>;
  state(): string;
  self(): { ip: string; name: string; groups: string[]; notAfterMs: number } | undefined;
  ping(ip: string, o: object): Promise<Array<{ seq: number; rttMs: number; ttl: number }>>;
  status(ip?: string): Promise<{ name: string; role: string; peers: Array<{ name: string; ip: string }> }>;
  udpProbe(ip: string, port: number, o?: object): Promise<{ outcome: string; from?: string }>;
  traceroute(ip: string): Promise<Array<{ hop: number; name: string; ip: string; rttMs: number }>>;
  throughput(ip: string, o: object): Promise<{ mbitPerSec: number; rttMs: number; bytesReceived: number }>;
}

/** The little of the page's DOM the test reads, typed here without the DOM library. */
interface PageElement {
  tagName: string;
  className: string;
  getBoundingClientRect(): { right: number };
}

interface PageDom {
  document: {
    body: { textContent: string | null };
    querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
  };
}

describe("the web console as an overlay member, in Chromium inside the lab", () => {
  let lab: Lab;
  let pki: LabPki;
  let signaling: SignalingServer;
  let signalArgs: string[];
  let chromium: LabBrowser;
  let page: Page;
  let consoleUrl: string;
  let opsToken: string;
  let plainToken: string;
  let pageIp: string;
  const agents: Agent[] = [];
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    lab = await Lab.create({ hosts: 4 });
    pki = await LabPki.create(NETWORK);
    signalArgs = ["--ca", pki.caPath, "--ca-key", pki.caKeyPath];
    signaling = await startSignaling(lab, signalArgs);
    consoleUrl = `http://${lab.underlayIp(lab.signalHost!)}:${new URL(signaling.url).port}/`;
    // The shortest lease, so the page must renew its certificate during the test (two thirds in: 40 s).
    const ops = ["--groups", "ops", "--lease", "60s"];
    opsToken = (await pki.ipop(["token", "create", "--ttl", "10m", "--pool", POOL, ...ops])).trim();
    plainToken = (await pki.ipop(["token", "create", "--ttl", "10m", "--pool", POOL])).trim();
    for (const host of AGENTS) {
      const credentials = await hostCredentials(lab, pki, host);
      agents.push(
        startAgent(lab, host, { signalUrl: signaling.url, network: NETWORK, ip: virtualIp(lab, host), credentials }),
      );
    }
    for (const host of AGENTS) {
      const others = AGENTS.filter((h) => h !== host).map((h) => virtualIp(lab, h));
      await waitForPeersUp(lab, host, others, UP_TIMEOUT_MS);
    }
    chromium = await launchChromiumIn(lab, BROWSER_HOST);
    page = await chromium.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (error) => process.stderr.write(`[console page] ${error.message}\n`));
  });

  afterAll(async () => {
    await chromium?.close();
    await Promise.all(agents.map((a) => a.proc.stop("SIGTERM", 10_000)));
    await signaling?.proc.stop("SIGTERM", 5_000);
    pki?.remove();
    lab?.destroy();
  });

  test("the page joins from a join link with a token and links to every agent", { timeout: 120_000 }, async () => {
    const loadStart = Date.now();
    const link = `${consoleUrl}?network=${NETWORK}&token=${encodeURIComponent(opsToken)}`;
    const response = await page.goto(link);
    assert.equal(response?.status(), 200);
    assert.match(response?.headers()["content-security-policy"] ?? "", /connect-src 'self'/);
    // The UI joins from the link by itself (and scrubs the token from the address bar): wait for it.
    await page.waitForFunction(
      () => {
        const state = (globalThis as unknown as { ipop: Ipop }).ipop.state();
        if (state === "failed")
          throw new Error((globalThis as unknown as PageDom).document.body.textContent ?? "failed");
        return state === "joined";
      },
      undefined,
      { timeout: UP_TIMEOUT_MS, polling: 100 },
    );
    const self = (await page.evaluate(() => (globalThis as unknown as { ipop: Ipop }).ipop.self()))!;
    assert.doesNotMatch(page.url(), /token=/, "the token is scrubbed from the address bar");
    timings.loadToJoinedMs = Date.now() - loadStart;
    pageIp = self.ip;
    // Join to the first echo reply from an agent's kernel: links come up first, so probe until one answers.
    timings.joinToFirstReplyMs = await page.evaluate(
      async (ip) => {
        const api = (globalThis as unknown as { ipop: Ipop }).ipop;
        const start = performance.now();
        for (let attempt = 0; attempt < 300; attempt++) {
          // Before the first link is up the page's own core answers "host unreachable" at once.
          const replies = await api.ping(ip, { count: 1, timeoutMs: 100 }).catch(() => []);
          if (replies.length > 0) return Math.round(performance.now() - start);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return -1;
      },
      virtualIp(lab, "h1"),
    );
    assert.ok(timings.joinToFirstReplyMs >= 0, "no echo reply from h1 within 300 probes after joining");
    assert.match(self.ip, /^10\.88\.200\.\d+$/);
    assert.deepEqual(self.groups, ["ops"]);
    await page.waitForFunction(
      (names) => {
        const peers = (globalThis as unknown as { ipop: Ipop }).ipop.peers().map((p) => p.name);
        return names.every((n) => peers.includes(n));
      },
      AGENTS,
      { timeout: UP_TIMEOUT_MS, polling: 250 },
    );
    // Candidate-pair types are read from the browser's stats every 2 s.
    await page.waitForFunction(
      () => (globalThis as unknown as { ipop: Ipop }).ipop.peers().every((p) => p.path !== "unknown"),
      undefined,
      { timeout: 10_000, polling: 250 },
    );
    const peers = await page.evaluate(() => (globalThis as unknown as { ipop: Ipop }).ipop.peers());
    assert.deepEqual(peers.map((p) => p.name).sort(), AGENTS);
    process.stdout.write(`console peers: ${JSON.stringify(peers.map((p) => [p.name, p.path]))}\n`);
    for (const host of AGENTS) await waitForPeersUp(lab, host, [pageIp], UP_TIMEOUT_MS);
    // The page shows them: a row per agent in the peer table, and every agent and the page in the graph
    // (its member list and legend come from the same graph model sigma draws).
    await page.waitForFunction(
      (names) => {
        const { document } = globalThis as unknown as PageDom;
        const texts = (selector: string) => Array.from(document.querySelectorAll(selector), (e) => e.textContent ?? "");
        const rows = texts("table.peer-table tbody tr");
        const members = texts("ul.member-list li");
        const has = (texts: string[], name: string) => texts.some((t) => t.includes(name));
        return names.every((n) => has(rows, n) && has(members, n)) && members.length === names.length + 1;
      },
      AGENTS,
      { timeout: UP_TIMEOUT_MS, polling: 500 },
    );
    const legend = await page.textContent(".panel.graph .legend");
    assert.match(legend ?? "", /^4 members, \d+ links/);
  });

  test("the page pings an agent's kernel, and an agent's kernel pings the page", { timeout: 60_000 }, async () => {
    const target = virtualIp(lab, "h2");
    const replies = await page.evaluate(
      (ip) => (globalThis as unknown as { ipop: Ipop }).ipop.ping(ip, { count: 5, intervalMs: 200, size: 1000 }),
      target,
    );
    assert.deepEqual(
      replies.map((r) => r.seq),
      [1, 2, 3, 4, 5],
    );
    assert.ok(
      replies.every((r) => r.ttl === 64),
      JSON.stringify(replies),
    );
    timings.pingRttMs = replies.reduce((sum, r) => sum + r.rttMs, 0) / replies.length;
    const back = await ping(lab, "h1", pageIp, { count: 3, intervalS: 0.2, waitS: 2 });
    assert.equal(back.received, 3, back.summary);
  });

  test("a UDP probe to a closed port is answered by the kernel; a traceroute lists the hop", {
    timeout: 60_000,
  }, async () => {
    const target = virtualIp(lab, "h3");
    const probe = await page.evaluate(
      (ip) => (globalThis as unknown as { ipop: Ipop }).ipop.udpProbe(ip, 33434),
      target,
    );
    assert.equal(probe.outcome, "port-unreachable", JSON.stringify(probe));
    assert.equal(probe.from, target);
    const hops = await page.evaluate((ip) => (globalThis as unknown as { ipop: Ipop }).ipop.traceroute(ip), target);
    assert.equal(hops.at(-1)?.ip, target, JSON.stringify(hops));
    assert.ok(hops.every((h) => h.rttMs >= 0));
  });

  test("the page reads an agent's peer table over the overlay", { timeout: 60_000 }, async () => {
    const report = await page.evaluate(
      (ip) => (globalThis as unknown as { ipop: Ipop }).ipop.status(ip),
      virtualIp(lab, "h1"),
    );
    assert.equal(report.name, "h1");
    assert.equal(report.role, "agent");
    const names = report.peers.map((p) => p.name);
    for (const name of ["h2", "h3"]) assert.ok(names.includes(name), names.join(", "));
    assert.ok(
      report.peers.some((p) => p.ip === pageIp),
      "h1 lists the page as a peer",
    );
  });

  test("throughput and RTT against an agent's sink (printed, not judged)", { timeout: 60_000 }, async () => {
    const result = await page.evaluate(
      (ip) => (globalThis as unknown as { ipop: Ipop }).ipop.throughput(ip, { seconds: 3 }),
      virtualIp(lab, "h2"),
    );
    assert.ok(result.bytesReceived > 0, JSON.stringify(result));
    timings.throughputMbit = result.mbitPerSec;
    timings.rttUnderLoadMs = result.rttMs;
  });

  test("a page whose certificate lacks the operator group is refused", { timeout: 90_000 }, async () => {
    const other = await chromium.browser.newPage();
    try {
      await other.goto(consoleUrl);
      await other.evaluate(
        ([network, token]) => (globalThis as unknown as { ipop: Ipop }).ipop.join({ network: network!, token: token! }),
        [NETWORK, plainToken],
      );
      const refusal = await other.evaluate(
        async (ip) => {
          const api = (globalThis as unknown as { ipop: Ipop }).ipop;
          for (let attempt = 0; ; attempt++) {
            try {
              await api.status(ip);
              return "answered";
            } catch (error) {
              const { code, message } = error as { code?: string; message: string };
              // Until its first link is up, the request has nowhere to go.
              if ((code !== "timeout" && code !== "unreachable") || attempt >= 20) return `${code}: ${message}`;
              await new Promise((resolve) => setTimeout(resolve, 500));
            }
          }
        },
        virtualIp(lab, "h1"),
      );
      assert.match(refusal, /^refused: .*lacks the group "ops"/);
    } finally {
      await other.close();
    }
  });

  test("signaling lost mid-session: the page says it is reconnecting, keeps its links, and rejoins", {
    timeout: 90_000,
  }, async () => {
    const state = () => page.evaluate(() => (globalThis as unknown as { ipop: Ipop }).ipop.state());
    await signaling.proc.stop("SIGTERM", 10_000);
    await page.waitForFunction(
      () => (globalThis as unknown as { ipop: Ipop }).ipop.state() === "reconnecting",
      undefined,
      {
        timeout: 20_000,
        polling: 100,
      },
    );
    const during = await page.evaluate(
      (ip) => (globalThis as unknown as { ipop: Ipop }).ipop.ping(ip, { count: 2, intervalMs: 200 }),
      virtualIp(lab, "h3"),
    );
    assert.equal(during.length, 2, "links carry traffic without the signaling server");
    signaling = await startSignaling(lab, signalArgs);
    await page.waitForFunction(() => (globalThis as unknown as { ipop: Ipop }).ipop.state() === "joined", undefined, {
      timeout: 30_000,
      polling: 100,
    });
    assert.equal(await state(), "joined");
  });

  test("the page renews its 60 s certificate before it expires, and keeps its links", { timeout: 90_000 }, async () => {
    const first = await page.evaluate(() => (globalThis as unknown as { ipop: Ipop }).ipop.self()?.notAfterMs ?? 0);
    await page.waitForFunction(
      (before) => ((globalThis as unknown as { ipop: Ipop }).ipop.self()?.notAfterMs ?? 0) > before,
      first,
      { timeout: 70_000, polling: 500 },
    );
    const back = await ping(lab, "h2", pageIp, { count: 2, intervalS: 0.2, waitS: 2 });
    assert.equal(back.received, 2, back.summary);
  });

  test("screenshots of the page, wide and narrow", { timeout: 30_000 }, async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "console-1280.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    // Let the graph and charts follow the resize, then say what (if anything) is wider than the phone.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const overflow = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageDom;
      return Array.from(document.querySelectorAll("body *"), (e) => e as unknown as PageElement)
        .filter((e) => e.getBoundingClientRect().right > 392)
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`);
    });
    if (overflow.length > 0) process.stdout.write(`console at 390 px, wider than the screen: ${overflow.join("; ")}\n`);
    await page.screenshot({ path: join(ARTIFACTS, "console-390.png"), fullPage: true });
    process.stdout.write(`console timings: ${JSON.stringify(timings)}\n`);
  });
});
