import { afterEach, describe, expect, it } from "vitest";
import { joinLinkFor, readJoinLink } from "./join-link.js";

describe("join links", () => {
  const original = window.location.href;
  afterEach(() => window.history.replaceState(window.history.state, "", original));

  it("reads network, token and signaling URL and scrubs only the token from the real address bar", () => {
    const path = window.location.pathname;
    window.history.replaceState(
      null,
      "",
      `${path}?network=lab&token=s3cret-token&signal=${encodeURIComponent("ws://10.0.0.1:7000")}#top`,
    );
    const entries = window.history.length;

    const link = readJoinLink(window);

    expect(link).toEqual({ network: "lab", token: "s3cret-token", signalUrl: "ws://10.0.0.1:7000" });
    expect(window.location.href).not.toContain("s3cret");
    expect(window.location.href).not.toContain("token=");
    expect(window.location.search).toBe(`?network=lab&signal=${encodeURIComponent("ws://10.0.0.1:7000")}`);
    expect(window.location.hash).toBe("#top");
    // replaceState, not pushState: no history entry keeps the token.
    expect(window.history.length).toBe(entries);
  });

  it("leaves an address without a token alone", () => {
    const calls: string[] = [];
    const link = readJoinLink({
      location: { href: "https://console.example/?network=lab" },
      history: {
        state: null,
        replaceState: (_s: unknown, _t: string, url?: string | URL | null) => calls.push(String(url)),
      },
    });
    expect(link).toEqual({ network: "lab" });
    expect(calls).toEqual([]);
  });

  it("drops an empty token parameter too, and ignores blank values", () => {
    const calls: string[] = [];
    const link = readJoinLink({
      location: { href: "https://console.example/?token=&network=%20" },
      history: {
        state: null,
        replaceState: (_s: unknown, _t: string, url?: string | URL | null) => calls.push(String(url)),
      },
    });
    expect(link).toEqual({});
    expect(calls).toEqual(["/?network=+"]);
  });

  it("builds links the reader reads back", () => {
    const url = joinLinkFor("https://console.example:8443", { network: "lab", token: "a+b/c=" });
    const calls: string[] = [];
    const link = readJoinLink({
      location: { href: url },
      history: { state: null, replaceState: () => calls.push("x") },
    });
    expect(link).toEqual({ network: "lab", token: "a+b/c=" });
  });
});
