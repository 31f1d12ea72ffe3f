import { internetChecksum, PACKET_HEADROOM } from "@ipop/shared";
import { type SimNode, World } from "./world.js";

/** IP protocol number reserved for experiments (RFC 3692): marks simulator probes. */
const PROBE_PROTOCOL = 253;

export interface Routability {
  readonly samples: number;
  /** Share of sampled ordered pairs of which a probe arrived (of two tries), 0..1. */
  readonly routability: number;
  /** Share of first tries lost (to a link closing under them, say), 0..1. */
  readonly firstTryLoss: number;
  readonly meanHops: number;
  readonly maxHops: number;
  /** A few pairs that failed, for diagnosis. */
  readonly failures: readonly string[];
}

/** A pair whose first probe has not arrived by then gets a second one. */
const RETRY_AFTER_MS = 1_000;

/**
 * Sends one probe packet across each of `samples` random ordered pairs of live nodes, and a second
 * one {@link RETRY_AFTER_MS} later across the pairs whose first has not arrived, lets the world run
 * for `waitMs` of virtual time, and reports how many pairs got a probe through and over how many
 * hops. A pair counts as routable when a route exists, so one packet lost to a link that closed
 * under it (as on any network) does not make it unroutable; `firstTryLoss` reports those losses.
 * Hops are counted as frames sent for the probe, so a direct link is 1 hop.
 */
export function measureRoutability(world: World, samples: number, waitMs = 3_000): Routability {
  const alive = [...world.nodes.values()];
  if (alive.length < 2) return { samples: 0, routability: 1, firstTryLoss: 0, meanHops: 0, maxHops: 0, failures: [] };
  const pairs: Array<[SimNode, SimNode]> = [];
  for (let k = 0; k < samples; k++) {
    const from = alive[Math.floor(world.random() * alive.length)]!;
    let to = from;
    while (to === from) to = alive[Math.floor(world.random() * alive.length)]!;
    pairs.push([from, to]);
  }
  // Probe k is the first try of pair k, probe samples + k its second.
  const probes = 2 * samples;
  const hops = new Array<number>(probes).fill(0);
  const arrived = new Array<boolean>(probes).fill(false);
  // Waiting stops as soon as every probe out has arrived: the world's time is paid per node, and
  // all of them usually arrive within a few hundred milliseconds.
  let awaited = samples;
  const base = nextProbeBase;
  nextProbeBase = (nextProbeBase + probes) >>> 0;
  world.hooks = {
    onSend: (_from, frame) => {
      const k = probeIndex(frameIpPacket(frame), base, probes);
      if (k >= 0) hops[k]!++;
    },
    onDeliver: (at, packet) => {
      const k = probeIndex(packet, base, probes);
      if (k < 0 || pairs[k % samples]![1] !== at || arrived[k]) return;
      arrived[k] = true;
      // A second try counts only while its pair's first is still missing.
      if (k >= samples && arrived[k - samples]) return;
      if (k < samples && k + samples < probes && arrived[k + samples]) return;
      if (--awaited === 0) world.queue.halt();
    },
  };
  const send = (k: number) => {
    const [from, to] = pairs[k % samples]!;
    const packet = probePacket(World.address(from.index), World.address(to.index), (base + k) >>> 0);
    world.call(from, (at) => from.core.handleHostPacket(at, packet));
  };
  const start = world.now;
  for (let k = 0; k < samples; k++) send(k);
  world.run(RETRY_AFTER_MS);
  if (awaited > 0) {
    for (let k = 0; k < samples; k++) if (!arrived[k]) send(samples + k);
    world.run(Math.max(0, start + waitMs - world.now));
  }
  world.hooks = {};
  let delivered = 0;
  let firstLost = 0;
  let hopSum = 0;
  let maxHops = 0;
  const failures: string[] = [];
  for (let k = 0; k < samples; k++) {
    if (!arrived[k]) firstLost++;
    const which = arrived[k] ? k : arrived[samples + k] ? samples + k : -1;
    if (which >= 0) {
      delivered++;
      hopSum += hops[which]!;
      maxHops = Math.max(maxHops, hops[which]!);
    } else if (failures.length < 5) failures.push(`${pairs[k]![0].member.name}->${pairs[k]![1].member.name}`);
  }
  return {
    samples,
    routability: delivered / samples,
    firstTryLoss: firstLost / samples,
    meanHops: delivered ? hopSum / delivered : 0,
    maxHops,
    failures,
  };
}

let nextProbeBase = 1;

/** A probe: IPv4 header, protocol 253, a 32-bit probe number as payload; with headroom in front. */
function probePacket(src: number, dst: number, id: number): Uint8Array {
  const buffer = new Uint8Array(PACKET_HEADROOM + 24);
  const p = buffer.subarray(PACKET_HEADROOM);
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  p[0] = 0x45;
  view.setUint16(2, 24);
  p[8] = 64;
  p[9] = PROBE_PROTOCOL;
  view.setUint32(12, src);
  view.setUint32(16, dst);
  view.setUint16(10, internetChecksum(p, 0, 20));
  view.setUint32(20, id);
  return p;
}

/** The IP packet inside a data or routed-packet frame, or undefined. */
function frameIpPacket(frame: Uint8Array): Uint8Array | undefined {
  if (frame[1] === 0x01) return frame.subarray(2);
  if (frame[1] === 0x04 && frame[3] === 0) return frame.subarray(16);
  return undefined;
}

function probeIndex(packet: Uint8Array | undefined, base: number, samples: number): number {
  if (packet === undefined || packet.length < 24 || packet[9] !== PROBE_PROTOCOL) return -1;
  const id = new DataView(packet.buffer, packet.byteOffset, packet.byteLength).getUint32(20);
  const k = (id - base) >>> 0;
  return k < samples ? k : -1;
}
