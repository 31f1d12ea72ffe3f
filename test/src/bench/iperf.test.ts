import assert from "node:assert/strict";
import { test } from "vitest";
import { BenchError } from "../errors.js";
import { iperfClientArgs, parseIperfTcp, parseIperfUdp, udpPayloadBytes } from "./iperf.js";

// Trimmed from real iperf3 3.12 `-J` client output over wireguard-go.
const TCP = JSON.stringify({
  start: { test_start: { protocol: "TCP", num_streams: 1, duration: 4 } },
  end: {
    sum_sent: { seconds: 4.0001, bytes: 410386432, bits_per_second: 820752345.19, retransmits: 43399, sender: true },
    sum_received: { seconds: 4.000748, bytes: 406892448, bits_per_second: 813632746.68, sender: true },
  },
});
const UDP = JSON.stringify({
  end: {
    sum_sent: { seconds: 4.002005, bytes: 134758400, lost_packets: 0, packets: 2105600, sender: true },
    sum_received: { seconds: 4.210602, bytes: 19711808, lost_packets: 1795838, packets: 2103835, sender: false },
  },
});

test("TCP: receiver's bytes over receiver's seconds, and the sender's retransmits", () => {
  const r = parseIperfTcp(TCP);
  assert.equal(r.bytes, 406892448);
  assert.ok(Math.abs(r.mbps - 813.63) < 0.01, String(r.mbps));
  assert.equal(r.retransmits, 43399);
});

test("UDP: delivered = packets - lost, rate over the sender's seconds, loss against packets sent", () => {
  const r = parseIperfUdp(UDP);
  assert.equal(r.sent, 2105600);
  assert.equal(r.received, 2103835 - 1795838);
  assert.ok(Math.abs(r.pps - 307997 / 4.002005) < 1e-6);
  assert.ok(Math.abs(r.loss - (1 - 307997 / 2105600)) < 1e-12);
});

test("UDP: older output with only end.sum still parses", () => {
  const r = parseIperfUdp(JSON.stringify({ end: { sum: { seconds: 2, packets: 100, lost_packets: 10 } } }));
  assert.equal(r.received, 90);
  assert.equal(r.pps, 45);
  assert.ok(Math.abs(r.loss - 0.1) < 1e-12);
});

test("iperf3's own error and non-JSON output become BenchErrors with stable codes", () => {
  const refused =
    '{"start":{"connected":[]},"intervals":[],"end":{},"error":"unable to connect to server: Connection refused"}';
  assert.throws(
    () => parseIperfTcp(refused),
    (e: unknown) => e instanceof BenchError && e.code === "BENCH_TOOL_FAILED" && /Connection refused/.test(e.message),
  );
  assert.throws(
    () => parseIperfUdp("iperf3: error"),
    (e: unknown) => e instanceof BenchError && e.code === "BENCH_PARSE",
  );
  assert.throws(
    () => parseIperfTcp('{"end":{"sum_received":{"bytes":"x"}}}'),
    (e: unknown) => e instanceof BenchError && e.code === "BENCH_PARSE",
  );
});

test("client args: UDP sizes are IP packet sizes, the rate is offered packets per second", () => {
  assert.equal(udpPayloadBytes(1400), 1372);
  assert.throws(() => udpPayloadBytes(40), RangeError);
  const args = iperfClientArgs({ kind: "udp", packetBytes: 64, pps: 200_000 }, 5);
  assert.deepEqual(args.slice(args.indexOf("-u")), ["-u", "-l", "36", "-b", "57600000", "--pacing-timer", "100"]);
  assert.ok(iperfClientArgs({ kind: "tcp", streams: 4 }, 5).join(" ").includes("-P 4"));
  assert.ok(!iperfClientArgs({ kind: "tcp", streams: 1 }, 5).includes("-P"));
});
