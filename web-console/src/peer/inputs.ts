import { isNetworkName, parseIpv4Address } from "@ipop/shared";
import { ConsoleError } from "../api.js";

/** A virtual IP from a person or a script, or a ConsoleError("bad-input") saying what is wrong. */
export function checkIp(ip: unknown): number {
  const address = typeof ip === "string" ? parseIpv4Address(ip.trim()) : null;
  if (address === null) throw new ConsoleError("bad-input", `"${String(ip)}" is not an IPv4 address like 10.88.0.7`);
  return address;
}

export function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConsoleError("bad-input", `port ${String(port)} must be a whole number from 1 to 65535`);
  return port;
}

/** An optional whole number within [min, max]; `fallback` when absent. */
export function checkCount(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ConsoleError("bad-input", `${name} ${String(value)} must be a whole number from ${min} to ${max}`);
  return value;
}

export function checkNetwork(network: unknown): string {
  if (typeof network !== "string" || !isNetworkName(network.trim()))
    throw new ConsoleError(
      "bad-input",
      `network name "${String(network)}" must be 1-64 characters of letters, digits, ".", "_" or "-"`,
    );
  return network.trim();
}

/**
 * The signaling URL: the one given, or the server that served the page (`ws://` for an `http://`
 * page, `wss://` for `https://`).
 */
export function signalUrlFor(given: string | undefined, page: Location | URL = location): string {
  const url = given?.trim() || `${page.protocol === "https:" ? "wss:" : "ws:"}//${page.host}/`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConsoleError("bad-input", `"${url}" is not a URL; use ws://HOST:PORT or wss://HOST:PORT`);
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:")
    throw new ConsoleError("bad-input", `the signaling URL must start with ws:// or wss://, not ${parsed.protocol}//`);
  return parsed.href;
}

/** A join link's network and token (`/?network=NAME&token=...`), when the page was opened with one. */
export function readJoinLink(page: Location | URL = location): { network: string; token: string } | undefined {
  const params = new URLSearchParams(page.search);
  const network = params.get("network");
  const token = params.get("token");
  return network === null || token === null ? undefined : { network, token };
}
