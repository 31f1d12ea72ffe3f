/**
 * The page's virtual host inside Chromium: it answers an echo request to its own address, matches
 * echo replies and ICMP errors to its probes, and reads a join link's network and token.
 */
import {
  buildEchoRequest,
  echoReplyFor,
  hostUnreachable,
  PACKET_HEADROOM,
  parseIcmpPacket,
  parseIpv4Address,
  parseUdpPacket,
} from "@ipop/shared";
import { expect, test } from "vitest";
import { ConsoleError } from "../api.js";
import { checkIp, checkPort, readJoinLink, signalUrlFor } from "./inputs.js";
import { VirtualHost } from "./virtual-host.js";

const pageIp = parseIpv4Address("10.88.200.7")!;
const agentIp = parseIpv4Address("10.88.0.1")!;

function hostWithOutbox() {
  const sent: Uint8Array[] = [];
  const host = new VirtualHost(pageIp, (packet) => sent.push(packet));
  return { host, sent };
}

test("an echo request to the page's address is answered with a matching reply, headroom reserved", () => {
  const { host, sent } = hostWithOutbox();
  host.deliver(buildEchoRequest({ source: agentIp, destination: pageIp, identifier: 77, sequence: 5, data: 64 }));
  expect(sent).toHaveLength(1);
  const reply = parseIcmpPacket(sent[0]!);
  expect(reply?.kind).toBe("echo-reply");
  if (reply?.kind !== "echo-reply") return;
  expect([reply.source, reply.destination, reply.identifier, reply.sequence, reply.data.length]).toEqual([
    pageIp,
    agentIp,
    77,
    5,
    64,
  ]);
  expect(host.counters.echoAnswered).toBe(1);
  // An echo request for another address is not ours to answer.
  host.deliver(buildEchoRequest({ source: agentIp, destination: agentIp, identifier: 1, sequence: 1, data: 8 }));
  expect(sent).toHaveLength(1);
  expect(host.counters.notForUs).toBe(1);
});

test("a probe's echo reply resolves it with its round trip and TTL", async () => {
  const { host, sent } = hostWithOutbox();
  const pending = host.echo(agentIp, 3, 56, 2000);
  const request = parseIcmpPacket(sent[0]!);
  expect(sent[0]!.byteOffset).toBe(PACKET_HEADROOM);
  const reply = echoReplyFor(request!)!;
  host.deliver(reply);
  const outcome = await pending;
  expect(outcome.kind).toBe("echo-reply");
  if (outcome.kind === "echo-reply") expect(outcome.ttl).toBe(64);
});

test("an ICMP error quoting a UDP probe resolves it as unreachable, from the router that sent it", async () => {
  const { host, sent } = hostWithOutbox();
  const pending = host.probeUdp(agentIp, 9999, new TextEncoder().encode("probe"), 2000);
  const probe = sent[0]!;
  expect(parseUdpPacket(probe)?.destinationPort).toBe(9999);
  const router = parseIpv4Address("10.88.0.3")!;
  host.deliver(hostUnreachable(probe, router)!);
  const outcome = await pending;
  expect(outcome).toMatchObject({
    kind: "icmp-error",
    from: "10.88.0.3",
    portUnreachable: false,
    detail: "host unreachable",
  });
});

test("a probe nobody answers times out", async () => {
  const { host } = hostWithOutbox();
  expect(await host.echo(agentIp, 1, 8, 50)).toEqual({ kind: "timeout" });
});

test("inputs: bad addresses and ports are refused clearly; the signaling URL defaults to the page's server", () => {
  expect(() => checkIp("10.88.0.300")).toThrow(ConsoleError);
  expect(() => checkIp("10.88.0.300")).toThrow(/not an IPv4 address/);
  expect(() => checkPort(70000)).toThrow(/1 to 65535/);
  expect(signalUrlFor(undefined, new URL("http://signal.example:7700/?network=lab&token=x"))).toBe(
    "ws://signal.example:7700/",
  );
  expect(signalUrlFor(undefined, new URL("https://signal.example/"))).toBe("wss://signal.example/");
  expect(() => signalUrlFor("http://x")).toThrow(/ws:\/\/ or wss:\/\//);
  expect(readJoinLink(new URL("http://s/?network=lab&token=abc"))).toEqual({ network: "lab", token: "abc" });
  expect(readJoinLink(new URL("http://s/"))).toBeUndefined();
});
