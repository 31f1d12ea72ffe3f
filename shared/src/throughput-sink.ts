/**
 * The throughput sink: what the console measures throughput against. A node with a sink takes the
 * UDP datagrams addressed to its own virtual IP at port {@link THROUGHPUT_SINK_PORT} (9, the discard
 * service of RFC 863) before they reach its host, counts them per test, and answers a report request
 * with what it counted. Counting only, no buffering: memory is bounded by {@link MAX_SINK_TESTS}
 * small records, and a test idle for {@link SINK_TEST_IDLE_MS} is forgotten.
 *
 * Only overlay members reach it: it sits on the overlay's delivery path, after the core checked that
 * each packet's source address belongs to the certificate of the link it came over; the host's own
 * network never sees port 9 taken.
 *
 * Datagram payload: "IPTP" (4 bytes), kind (1: data, 2: report request, 3: report), test id (u32),
 * then for a report: packets (u32) and bytes (f64, big-endian), counted over UDP payloads.
 */
import { ipv4Destination, ipv4Source } from "./ipv4.js";
import { buildUdpPacket, IP_PROTOCOL_UDP, parseUdpPacket } from "./udp.js";

export const THROUGHPUT_SINK_PORT = 9;
/** Tests a sink keeps counting at once; the least recently active is forgotten beyond this. */
export const MAX_SINK_TESTS = 16;
export const SINK_TEST_IDLE_MS = 60_000;

const MAGIC = [0x49, 0x50, 0x54, 0x50]; // "IPTP"
export const SINK_HEADER_BYTES = 9;
const REPORT_BYTES = SINK_HEADER_BYTES + 12;

export type SinkMessageKind = "data" | "report-request" | "report";
const KIND_CODES: Record<SinkMessageKind, number> = { data: 1, "report-request": 2, report: 3 };

/** A sink message as read from a UDP payload. */
export type SinkMessage =
  | { readonly kind: "data" | "report-request"; readonly test: number }
  | { readonly kind: "report"; readonly test: number; readonly packets: number; readonly bytes: number };

/** Writes a sink header into the first {@link SINK_HEADER_BYTES} bytes of `payload`. */
export function writeSinkHeader(payload: Uint8Array, kind: SinkMessageKind, test: number): void {
  payload.set(MAGIC, 0);
  payload[4] = KIND_CODES[kind];
  new DataView(payload.buffer, payload.byteOffset, payload.length).setUint32(5, test >>> 0);
}

/** Reads a sink message from a UDP payload, or null when it is not one. */
export function readSinkMessage(payload: Uint8Array): SinkMessage | null {
  if (payload.length < SINK_HEADER_BYTES) return null;
  for (let i = 0; i < 4; i++) if (payload[i] !== MAGIC[i]) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const test = view.getUint32(5);
  switch (payload[4]) {
    case 1:
      return { kind: "data", test };
    case 2:
      return { kind: "report-request", test };
    case 3:
      if (payload.length < REPORT_BYTES) return null;
      return { kind: "report", test, packets: view.getUint32(9), bytes: view.getFloat64(13) };
    default:
      return null;
  }
}

interface SinkTest {
  packets: number;
  bytes: number;
  lastMs: number;
}

/** The sink of one node (see the module comment). */
export class ThroughputSink {
  /** By `${source}:${test}`, least recently active first. */
  private readonly tests = new Map<string, SinkTest>();
  /** Datagrams to the sink port that were not sink messages. */
  malformed = 0;

  constructor(
    /** This node's virtual address: only datagrams to it are the sink's. */
    private readonly self: number,
    /** Bytes to reserve in front of report packets (the core's `PACKET_HEADROOM`). */
    private readonly headroom: number,
  ) {}

  /** Cheap test for the delivery path: is `packet` for the sink? */
  claims(packet: Uint8Array): boolean {
    if (packet.length < 28 || packet[9] !== IP_PROTOCOL_UDP || ipv4Destination(packet) !== this.self) return false;
    const at = (packet[0]! & 0x0f) * 4 + 2;
    return ((packet[at]! << 8) | packet[at + 1]!) === THROUGHPUT_SINK_PORT;
  }

  /**
   * Counts a claimed packet; returns the report packet to send back for a report request (to hand
   * to the core as a host packet), else null.
   */
  take(nowMs: number, packet: Uint8Array): Uint8Array | null {
    const datagram = parseUdpPacket(packet);
    const message = datagram === null ? null : readSinkMessage(datagram.payload);
    if (datagram === null || message === null || message.kind === "report") {
      this.malformed++;
      return null;
    }
    const key = `${ipv4Source(packet)}:${message.test}`;
    let test = this.tests.get(key);
    if (test === undefined) {
      this.expire(nowMs);
      test = { packets: 0, bytes: 0, lastMs: nowMs };
    }
    this.tests.delete(key); // re-inserted last: most recently active
    this.tests.set(key, test);
    test.lastMs = nowMs;
    if (message.kind === "data") {
      test.packets++;
      test.bytes += datagram.payload.length;
      return null;
    }
    const payload = new Uint8Array(REPORT_BYTES);
    writeSinkHeader(payload, "report", message.test);
    const view = new DataView(payload.buffer);
    view.setUint32(9, test.packets >>> 0);
    view.setFloat64(13, test.bytes);
    return buildUdpPacket(
      {
        source: this.self,
        destination: datagram.source,
        sourcePort: THROUGHPUT_SINK_PORT,
        destinationPort: datagram.sourcePort,
        payload,
      },
      this.headroom,
    );
  }

  /** Tests being counted now. */
  get size(): number {
    return this.tests.size;
  }

  private expire(nowMs: number): void {
    for (const [key, test] of this.tests) {
      if (nowMs - test.lastMs > SINK_TEST_IDLE_MS || this.tests.size >= MAX_SINK_TESTS) this.tests.delete(key);
      else break;
    }
  }
}
