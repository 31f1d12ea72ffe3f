import assert from "node:assert/strict";
import { test } from "vitest";
import { buildEchoRequest } from "./icmp.js";
import { parseIpv4Address } from "./ipv4.js";
import {
  MAX_SINK_TESTS,
  readSinkMessage,
  SINK_HEADER_BYTES,
  THROUGHPUT_SINK_PORT,
  ThroughputSink,
  writeSinkHeader,
} from "./throughput-sink.js";
import { buildUdpPacket, parseUdpPacket } from "./udp.js";

const sinkIp = parseIpv4Address("10.88.0.1")!;
const page = parseIpv4Address("10.88.0.50")!;

function sinkDatagram(kind: "data" | "report-request", testId: number, size = 100, source = page): Uint8Array {
  const payload = new Uint8Array(size);
  writeSinkHeader(payload, kind, testId);
  return buildUdpPacket({
    source,
    destination: sinkIp,
    sourcePort: 40000,
    destinationPort: THROUGHPUT_SINK_PORT,
    payload,
  });
}

test("the sink counts a test's data and reports it back to the sender's port", () => {
  const sink = new ThroughputSink(sinkIp, 16);
  for (let i = 0; i < 10; i++) {
    const packet = sinkDatagram("data", 7, 1000);
    assert.equal(sink.claims(packet), true);
    assert.equal(sink.take(i, packet), null);
  }
  const report = sink.take(20, sinkDatagram("report-request", 7, SINK_HEADER_BYTES))!;
  assert.equal(report.byteOffset, 16);
  const datagram = parseUdpPacket(report)!;
  assert.deepEqual(
    [datagram.source, datagram.destination, datagram.sourcePort, datagram.destinationPort],
    [sinkIp, page, 9, 40000],
  );
  assert.deepEqual(readSinkMessage(datagram.payload), { kind: "report", test: 7, packets: 10, bytes: 10_000 });
});

test("the sink claims only UDP to its own address and port 9, and counts garbage without answering", () => {
  const sink = new ThroughputSink(sinkIp, 0);
  const other = buildUdpPacket({ source: page, destination: sinkIp, sourcePort: 1, destinationPort: 10, payload: 20 });
  assert.equal(sink.claims(other), false);
  assert.equal(
    sink.claims(buildEchoRequest({ source: page, destination: sinkIp, identifier: 1, sequence: 1, data: 20 })),
    false,
  );
  const elsewhere = buildUdpPacket({ source: page, destination: page, sourcePort: 1, destinationPort: 9, payload: 20 });
  assert.equal(sink.claims(elsewhere), false);
  const garbage = buildUdpPacket({ source: page, destination: sinkIp, sourcePort: 1, destinationPort: 9, payload: 20 });
  assert.equal(sink.claims(garbage), true);
  assert.equal(sink.take(0, garbage), null);
  assert.equal(sink.malformed, 1);
  assert.equal(sink.size, 0);
});

test("the sink keeps at most MAX_SINK_TESTS tests and forgets idle ones", () => {
  const sink = new ThroughputSink(sinkIp, 0);
  for (let t = 0; t < MAX_SINK_TESTS * 3; t++) sink.take(t, sinkDatagram("data", t));
  assert.equal(sink.size, MAX_SINK_TESTS);
  sink.take(1_000_000, sinkDatagram("data", 9999));
  assert.equal(sink.size, 1);
});
