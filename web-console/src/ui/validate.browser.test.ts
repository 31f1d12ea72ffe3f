import { describe, expect, it } from "vitest";
import { ConsoleError, type ConsoleErrorCode } from "../api.js";
import { describeError, errorLine } from "./error-messages.js";
import { checkInteger, checkIpv4, checkNetwork, checkPort, checkSignalUrl, checkToken } from "./validate.js";

describe("form checks", () => {
  it("accepts dotted quads and names what is wrong with the rest", () => {
    expect(checkIpv4(" 10.88.0.7 ")).toEqual({ ok: true, value: "10.88.0.7" });
    for (const bad of ["", "10.88.0", "10.88.0.256", "10.88.0.07", "a.b.c.d", "10.88.0.1/16", "::1"]) {
      expect(checkIpv4(bad).ok, bad).toBe(false);
    }
    const result = checkIpv4("10.88.0.300");
    expect(result.ok === false && result.message).toContain("not an IPv4 address");
  });

  it("checks ports and numbers against their ranges", () => {
    expect(checkPort("53")).toEqual({ ok: true, value: 53 });
    for (const bad of ["0", "65536", "-1", "1.5", "", "80a"]) expect(checkPort(bad).ok, bad).toBe(false);
    expect(checkInteger("1000", "Count", 1, 1000)).toEqual({ ok: true, value: 1000 });
    const over = checkInteger("1001", "Count", 1, 1000);
    expect(over.ok === false && over.message).toBe("Count must be from 1 to 1000; got 1001.");
  });

  it("checks network names, tokens and signaling URLs", () => {
    expect(checkNetwork("lab-1").ok).toBe(true);
    expect(checkNetwork("bad name").ok).toBe(false);
    expect(checkToken("abc def").ok).toBe(false);
    expect(checkToken("abc").ok).toBe(true);
    expect(checkSignalUrl("")).toEqual({ ok: true, value: undefined });
    expect(checkSignalUrl("wss://signal.example:7000").ok).toBe(true);
    expect(checkSignalUrl("http://signal.example").ok).toBe(false);
    expect(checkSignalUrl("signal.example").ok).toBe(false);
  });
});

describe("error messages", () => {
  const codes: ConsoleErrorCode[] = [
    "bad-input",
    "not-joined",
    "unknown-network",
    "token-refused",
    "signaling-down",
    "unreachable",
    "timeout",
    "refused",
  ];

  it("gives every ConsoleError code its own title and keeps the API's words", () => {
    const titles = new Set<string>();
    for (const code of codes) {
      const text = describeError(new ConsoleError(code, `detail for ${code}`));
      expect(text.code).toBe(code);
      expect(text.detail).toBe(`detail for ${code}`);
      expect(text.hint.length, code).toBeGreaterThan(0);
      titles.add(text.title);
    }
    expect(titles.size).toBe(codes.length);
  });

  it("points a refused status request at the operator group", () => {
    expect(describeError(new ConsoleError("refused", "x")).hint).toContain("--groups ops");
  });

  it("writes one line per error without doubled periods", () => {
    const line = errorLine(describeError(new ConsoleError("token-refused", "the token expired 2026-11-01.")));
    expect(line).toBe("Token refused: the token expired 2026-11-01. Ask for a new one (ipop token create).");
  });

  it("says something for errors that are not ConsoleErrors", () => {
    expect(describeError(new TypeError("boom"))).toMatchObject({ code: "unexpected", detail: "boom" });
    expect(describeError("odd")).toMatchObject({ code: "unexpected", detail: "odd" });
  });
});
