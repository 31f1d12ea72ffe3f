// Type-only: brings the playwright provider's CDPSession type (send) into scope; nothing is loaded.
import type {} from "@vitest/browser-playwright";
import { afterEach, describe, expect, it } from "vitest";
import { cdp, page } from "vitest/browser";
import type { ConsoleApi } from "../api.js";
import type { AddressBar } from "./join-link.js";
import { type MountedUi, mountUi } from "./mount.js";
import { FakeConsole } from "./testing/fake-console.js";
import { LAB_NETWORK, labConsole, ringNetwork, until } from "./testing/scenario.js";

/** An address bar that is not the test runner's own. */
function addressBar(query: string): AddressBar & { readonly urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    location: { href: `https://console.example/${query}` },
    history: {
      state: null,
      replaceState: (_s: unknown, _t: string, url?: string | URL | null) => urls.push(String(url)),
    },
  };
}

let ui: MountedUi | undefined;
/** A clock the test moves, one second per refresh, so the charts' axes read like a real session. */
let clockMs = Date.UTC(2026, 10, 29, 14, 0, 0);
function mount(api: ConsoleApi, query = ""): { root: HTMLElement; ui: MountedUi } {
  const root = document.createElement("div");
  document.body.replaceChildren(root);
  const options = {
    addressBar: addressBar(query),
    peerIntervalMs: 60_000,
    topologyIntervalMs: 60_000,
    now: () => clockMs,
  };
  ui = mountUi(root, api, options);
  return { root, ui };
}
afterEach(() => {
  ui?.destroy();
  ui = undefined;
});

const text = (root: HTMLElement, selector: string): string => root.querySelector(selector)?.textContent ?? "";

async function submit(form: HTMLFormElement | null): Promise<void> {
  form?.requestSubmit();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

function setField(root: HTMLElement, form: string, name: string, value: string): void {
  const input = root.querySelector<HTMLInputElement>(`form[aria-label="${form}"] [name="${name}"]`);
  if (!input) throw new Error(`no field ${name} in ${form}`);
  input.value = value;
}

describe("the console page over a fake overlay", () => {
  it("joins from a join link, shows itself, every peer, the graph, and a remote report", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    expect(text(root, '[data-testid="self-ip"]')).toBe("10.88.200.7");
    expect(text(root, ".badge")).toBe("Joined");
    expect((root.querySelector(".join-form") as HTMLElement).hidden).toBe(true);

    api.advanceTraffic(48_000);
    await ui.refresh(true);
    api.advanceTraffic(2_400_000);
    await ui.refresh(true);
    expect(root.querySelectorAll(".peer-table tbody tr")).toHaveLength(LAB_NETWORK.agents.length);
    expect(root.querySelectorAll(".member-list li")).toHaveLength(LAB_NETWORK.agents.length + 1);
    expect(text(root, ".legend")).toContain("1 refused");

    const bravo = api.members().find((m) => m.name === "bravo");
    await ui.select(bravo?.nodeId ?? "");
    expect(text(root, ".details-body")).toContain("bravo");
    expect(text(root, ".details-body")).toContain("charlie"); // bravo's own link, learned over the overlay
    expect(root.querySelector<HTMLInputElement>('form[aria-label="Ping"] [name="ip"]')?.value).toBe("10.88.0.2");

    const echo = api.members().find((m) => m.name === "echo");
    await ui.select(echo?.nodeId ?? "");
    expect(root.querySelector(".details-body [data-code]")?.getAttribute("data-code")).toBe("refused");
  });

  it("pings with a row per probe and loss and RTT min/avg/max", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    setField(root, "Ping", "ip", "10.88.0.1");
    setField(root, "Ping", "count", "3");
    setField(root, "Ping", "interval", "10");
    await submit(root.querySelector('form[aria-label="Ping"]'));
    await until(
      "three probes",
      () =>
        root.querySelectorAll('form[aria-label="Ping"] tbody tr').length === 3 &&
        !text(root, '[data-testid="ping-summary"]').startsWith("PING"),
    );
    await until(
      "the ping to finish",
      () => root.querySelector<HTMLButtonElement>('form[aria-label="Ping"] button.primary')?.disabled === false,
    );
    expect(text(root, '[data-testid="ping-summary"]')).toBe(
      "3 sent, 3 received, 0.0 % loss; RTT min/avg/max 0.84 ms / 0.94 ms / 1.04 ms",
    );
  });

  it("checks fields before calling the API", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    root.querySelector<HTMLButtonElement>("#tab-udp")?.click();
    const message = () => root.querySelector('form[aria-label="UDP probe"] .form-message');
    setField(root, "UDP probe", "ip", "10.88.0.1");
    setField(root, "UDP probe", "port", "70000");
    await submit(root.querySelector('form[aria-label="UDP probe"]'));
    expect(message()?.getAttribute("data-code")).toBe("bad-input");
    expect(message()?.textContent).toContain("Port must be from 1 to 65535");
    expect(root.querySelector('form[aria-label="UDP probe"] [name="port"]')?.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement?.getAttribute("name")).toBe("port");

    setField(root, "Ping", "ip", "10.88.0");
    await submit(root.querySelector('form[aria-label="Ping"]'));
    expect(text(root, 'form[aria-label="Ping"] .form-message')).toContain('"10.88.0" is not an IPv4 address');
  });

  it("shows a closed port's ICMP answer and an unreachable host as such", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    setField(root, "UDP probe", "ip", "10.88.0.2");
    setField(root, "UDP probe", "port", "9");
    await submit(root.querySelector('form[aria-label="UDP probe"]'));
    await until(
      "the probe",
      () => root.querySelector('[data-testid="udp-result"]')?.getAttribute("data-outcome") !== "",
    );
    expect(text(root, '[data-testid="udp-result"]')).toContain("closed: ICMP port unreachable from 10.88.0.2");

    setField(root, "Ping", "ip", "10.88.9.9");
    await submit(root.querySelector('form[aria-label="Ping"]'));
    await until(
      "the failure",
      () => root.querySelector('form[aria-label="Ping"] .form-message')?.getAttribute("data-code") === "unreachable",
    );
    expect(text(root, 'form[aria-label="Ping"] .form-message')).toContain(
      "Host unreachable: 10.88.9.9: host unreachable",
    );
  });

  it("shows ICMP unreachable probes per row and counts them as lost", async () => {
    const network = {
      ...LAB_NETWORK,
      agents: LAB_NETWORK.agents.map((a) => (a.name === "delta" ? { ...a, down: true } : a)),
    };
    const { root, ui } = mount(new FakeConsole(network), "?network=lab&token=ops-token");
    await ui.autoJoin;
    setField(root, "Ping", "ip", "10.88.0.4");
    setField(root, "Ping", "count", "2");
    setField(root, "Ping", "interval", "10");
    await submit(root.querySelector('form[aria-label="Ping"]'));
    await until(
      "the ping to finish",
      () => root.querySelector<HTMLButtonElement>('form[aria-label="Ping"] button.primary')?.disabled === false,
    );
    const rows = [...root.querySelectorAll('form[aria-label="Ping"] tbody tr')];
    expect(rows.map((r) => r.getAttribute("data-outcome"))).toEqual(["unreachable", "unreachable"]);
    expect(rows[0]?.textContent).toContain("unreachable from 10.88.0.1: host unreachable");
    expect(text(root, '[data-testid="ping-summary"]')).toBe("2 sent, 0 received, 100.0 % loss");
  });

  it("cancels a long throughput test at once", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    setField(root, "Throughput", "ip", "10.88.0.3");
    setField(root, "Throughput", "seconds", "30");
    await submit(root.querySelector('form[aria-label="Throughput"]'));
    const cancel = root.querySelector<HTMLButtonElement>('form[aria-label="Throughput"] .actions button:not(.primary)');
    expect(cancel?.hidden).toBe(false);
    cancel?.click();
    await until(
      "the form to free itself",
      () => root.querySelector<HTMLButtonElement>('form[aria-label="Throughput"] button.primary')?.disabled === false,
    );
    expect(text(root, 'form[aria-label="Throughput"] .form-message')).toBe("Cancelled.");
    expect(cancel?.hidden).toBe(true);
  });

  it("says why a join failed, for each refusal", async () => {
    const cases = [
      { query: "?network=nowhere&token=ops-token", code: "unknown-network", words: "Unknown network" },
      { query: "?network=lab&token=stale", code: "token-refused", words: "Token refused" },
      {
        query: `?network=lab&token=ops-token&signal=${FakeConsole.unreachableSignalUrl}`,
        code: "signaling-down",
        words: "Signaling server unreachable",
      },
    ];
    for (const { query, code, words } of cases) {
      const { root, ui } = mount(labConsole(), query);
      await ui.autoJoin;
      expect(root.querySelector('[data-testid="join-message"]')?.getAttribute("data-code"), query).toBe(code);
      expect(text(root, '[data-testid="join-message"]')).toContain(words);
      expect(text(root, ".badge")).toBe("Failed");
      expect((root.querySelector(".join-form") as HTMLElement).hidden).toBe(false);
      ui.destroy();
    }
  });

  it("says when signaling is lost and when it is back", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    api.loseSignaling("signaling connection lost (code 1006); retrying in 2 s");
    expect(text(root, ".badge")).toBe("Reconnecting");
    expect(text(root, ".reason")).toContain("retrying in 2 s");
    expect(text(root, ".log-lines")).toContain("signaling connection lost");
    api.restoreSignaling();
    expect(text(root, ".badge")).toBe("Joined");
    expect(text(root, ".reason")).toBe("");
  });

  it("labels every control and uses real buttons, so a keyboard and a screen reader can reach it all", async () => {
    const { root, ui } = mount(labConsole(), "?network=lab&token=ops-token");
    await ui.autoJoin;
    await ui.refresh(true);
    for (const control of root.querySelectorAll<HTMLElement>("input, select")) {
      const labelled = control.closest("label") !== null || control.hasAttribute("aria-label");
      expect(labelled, control.outerHTML).toBe(true);
    }
    for (const clickable of root.querySelectorAll<HTMLElement>("[onclick], .member, .link-button, [role=tab]")) {
      expect(clickable.tagName, clickable.outerHTML).toBe("BUTTON");
    }
    // Nothing takes focus out of reading order.
    expect(root.querySelectorAll("[tabindex]:not([tabindex='0']):not([tabindex='-1'])")).toHaveLength(0);
  });

  it("leaves from the header and offers the join form again", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    const leave = root.querySelector<HTMLButtonElement>("button.leave");
    expect(leave?.hidden).toBe(false);
    leave?.click();
    await until("the page to leave", () => api.state() === "left");
    expect(text(root, ".badge")).toBe("Left");
    expect(leave?.hidden).toBe(true);
    expect((root.querySelector(".join-form") as HTMLElement).hidden).toBe(false);
  });

  it("marks every node refused for a page without the operator group", async () => {
    const api = labConsole();
    const { root, ui } = mount(api, "?network=lab&token=plain-token");
    await ui.autoJoin;
    await ui.refresh(true);
    expect(root.querySelectorAll(".member .tag.warn")).toHaveLength(LAB_NETWORK.agents.length);
    expect(text(root, ".legend")).toContain(`${LAB_NETWORK.agents.length} refused`);
  });
});

describe("screenshots", () => {
  // Kept as artifacts (gitignored web-console/artifacts/console/) for a person to look at.
  for (const [label, width, height, scheme] of [
    ["wide", 1280, 800, "light"],
    ["narrow", 390, 844, "light"],
    ["wide-dark", 1280, 800, "dark"],
  ] as const) {
    it(`draws a populated console at ${width}x${height}, ${scheme}`, async () => {
      await page.viewport(width, height);
      await cdp().send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value: scheme }] });
      const api = labConsole();
      const { root, ui } = mount(api, "?network=lab&token=ops-token");
      await ui.autoJoin;
      for (let i = 1; i <= 40; i++) {
        clockMs += 1000;
        api.advanceTraffic(Math.round(150_000 * (1.5 + Math.sin(i / 4))));
        await ui.refresh(i === 40);
      }
      const bravo = api.members().find((m) => m.name === "bravo");
      await ui.select(bravo?.nodeId ?? "");
      setField(root, "Ping", "count", "4");
      setField(root, "Ping", "interval", "10");
      await submit(root.querySelector('form[aria-label="Ping"]'));
      await until(
        "the ping",
        () => root.querySelector<HTMLButtonElement>('form[aria-label="Ping"] button.primary')?.disabled === false,
      );
      api.log("warn", "link to delta: RTT above 10 ms");
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The page must not scroll sideways at phone width: only tables scroll inside their own box.
      expect(document.documentElement.scrollWidth).toBeLessThanOrEqual(width);
      // The first screen as a person sees it, then the whole page (the frame grown to the page's height).
      const frame = document.createElement("style");
      frame.textContent = "html, body { height: 100%; overflow: hidden; }";
      document.head.append(frame);
      await page.screenshot({ path: `../../artifacts/console/${label}.png` });
      frame.remove();
      await page.viewport(width, Math.min(3900, document.documentElement.scrollHeight));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.screenshot({ path: `../../artifacts/console/${label}-full.png` });
    });
  }

  it("draws the join form with a refusal at 390x844", async () => {
    await page.viewport(390, 844);
    await cdp().send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value: "light" }] });
    const { root, ui } = mount(labConsole(), "?network=lab&token=expired-token");
    await ui.autoJoin;
    expect(root.querySelector('[data-testid="join-message"]')?.getAttribute("data-code")).toBe("token-refused");
    expect(document.documentElement.scrollWidth).toBeLessThanOrEqual(390);
    await page.screenshot({ path: "../../artifacts/console/join-narrow.png" });
  });

  it("draws a 40-agent overlay at 1280x800", async () => {
    await page.viewport(1280, 800);
    await cdp().send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value: "light" }] });
    const api = new FakeConsole(ringNetwork(40));
    const { root, ui } = mount(api, "?network=lab&token=ops-token");
    await ui.autoJoin;
    for (let i = 0; i < 3; i++) {
      clockMs += 1000;
      api.advanceTraffic(100_000);
      await ui.refresh(true);
    }
    expect(root.querySelectorAll(".peer-table tbody tr")).toHaveLength(40);
    expect(text(root, ".legend")).toContain("41 members");
    expect(document.documentElement.scrollWidth).toBeLessThanOrEqual(1280);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.screenshot({ path: "../../artifacts/console/wide-40.png" });
  });
});
