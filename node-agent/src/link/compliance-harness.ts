/**
 * The harness of the PeerLink compliance suite (compliance.test.ts): an endpoint that records what
 * its link reports and flags events fired synchronously, pairs of them with signals relayed
 * directly, and checkable messages.
 */
import assert from "node:assert/strict";
import { errorMessage } from "@ipop/shared";
import { createLinkFactory, isRealBackendName } from "./backends.js";
import { parseCandidate, sdpCandidates } from "./candidates.js";
import { createFakeLinkFactory } from "./fake-link.js";
import type {
  LinkChannel,
  LinkOptions,
  LinkRole,
  LinkSignal,
  PeerLink,
  PeerLinkFactory,
  WebRtcBackendName,
} from "./peer-link.js";

/** Setup on loopback takes 10-300 ms, sometimes ~1 s (a DTLS retransmission); generous for shared CI. */
export const OPEN_TIMEOUT_MS = 15_000;
/** Remote close normally arrives in milliseconds (SCTP reset); an ICE consent timeout would be ~30 s. */
export const REMOTE_CLOSE_TIMEOUT_MS = 30_000;
/** Fake links' candidate addresses: two, so forbidding one still leaves a path, as on a real host. */
const FAKE_ADDRESSES = ["192.0.2.10", "198.51.100.10"];

const live = new Set<PeerLink>();
/** Closes every link a test left open, so a failed test cannot keep the process (and the run) alive. */
export function closeLiveLinks(): void {
  for (const link of live) link.close();
}

export async function factoryFor(name: WebRtcBackendName): Promise<PeerLinkFactory> {
  if (name === "fake") return createFakeLinkFactory({ addresses: FAKE_ADDRESSES });
  if (!isRealBackendName(name)) throw new Error(`no such backend ${name}`);
  return createLinkFactory(name);
}

/** One end of a link under test, recording everything the link reports. */
export class Endpoint {
  readonly link: PeerLink;
  readonly signals: LinkSignal[] = [];
  readonly messages: Record<LinkChannel, Uint8Array[]> = { control: [], data: [] };
  readonly closeReasons: string[] = [];
  /** Events that arrived synchronously inside one of our calls into the link: contract breaches. */
  readonly violations: string[] = [];
  opens = 0;
  messagesAfterClose = 0;
  openedAt: number | undefined;
  closedAt: number | undefined;
  peer: Endpoint | undefined;
  /** Decides which signals reach the peer (default: all), for tests that tamper with signalling. */
  relay: (signal: LinkSignal) => LinkSignal | undefined = (s) => s;
  #inCall = 0;

  constructor(factory: PeerLinkFactory, role: LinkRole, isForbiddenAddress: (ip: string) => boolean = () => false) {
    const options: LinkOptions = { role, iceServers: [], isForbiddenAddress };
    this.link = factory.create(options, {
      onSignal: (signal) => {
        this.#check("onSignal");
        this.signals.push(signal);
        const relayed = this.relay(signal);
        const peer = this.peer;
        if (relayed !== undefined && peer !== undefined) peer.call(() => peer.link.handleSignal(relayed));
      },
      onOpen: () => {
        this.#check("onOpen");
        this.opens++;
        this.openedAt = performance.now();
      },
      onMessage: (channel, message) => {
        this.#check("onMessage");
        if (this.closedAt !== undefined) this.messagesAfterClose++;
        // Borrowed until return: keep a copy.
        this.messages[channel].push(message.slice());
      },
      onClose: (reason) => {
        this.#check("onClose");
        this.closeReasons.push(reason);
        this.closedAt = performance.now();
        live.delete(this.link);
      },
    });
    live.add(this.link);
  }

  /** Calls into the link, noting that any event fired meanwhile would be synchronous. */
  call<T>(fn: () => T): T {
    this.#inCall++;
    try {
      return fn();
    } finally {
      this.#inCall--;
    }
  }

  send(channel: LinkChannel, message: Uint8Array): boolean {
    return this.call(() => this.link.send(channel, message));
  }

  close(): void {
    this.call(() => this.link.close());
  }

  get isOpen(): boolean {
    return this.opens > 0 && this.closeReasons.length === 0;
  }

  /** Every candidate this side signalled, trickled or inside its description. */
  signalledCandidates(): Array<{ readonly line: string; readonly address: string | undefined }> {
    return this.signals.flatMap((s) =>
      s.kind === "candidate"
        ? [{ line: s.candidate, address: parseCandidate(s.candidate)?.address }]
        : sdpCandidates(s.sdp).map((c) => ({ line: `sdp ${c.address}`, address: c.address })),
    );
  }

  #check(event: string): void {
    if (this.#inCall > 0) this.violations.push(`${event} fired synchronously inside a call into the link`);
  }
}

export interface Pair {
  readonly offerer: Endpoint;
  readonly answerer: Endpoint;
}

export function makePair(
  factory: PeerLinkFactory,
  forbidden: { offerer?: (ip: string) => boolean; answerer?: (ip: string) => boolean } = {},
): Pair {
  const offerer = new Endpoint(factory, "offerer", forbidden.offerer);
  const answerer = new Endpoint(factory, "answerer", forbidden.answerer);
  offerer.peer = answerer;
  answerer.peer = offerer;
  return { offerer, answerer };
}

export async function openPair(factory: PeerLinkFactory): Promise<Pair> {
  const pair = makePair(factory);
  try {
    await waitFor(() => pair.offerer.isOpen && pair.answerer.isOpen, OPEN_TIMEOUT_MS, "both ends to open");
  } catch (error) {
    const state = (end: Endpoint) =>
      `${end.link.role}: ${end.opens} opens, ${end.signals.length} signals, closed ${JSON.stringify(end.closeReasons)}`;
    throw new Error(`${errorMessage(error)} (${state(pair.offerer)}; ${state(pair.answerer)})`);
  }
  return pair;
}

export function closePair(pair: Pair): void {
  pair.offerer.close();
  pair.answerer.close();
}

export function assertNoViolations(...ends: Endpoint[]): void {
  for (const end of ends) assert.deepEqual(end.violations, [], `${end.link.role}: events must be asynchronous`);
}

/**
 * Sends, and while the link says no (over its high-water mark) waits a little and tries again, as a
 * caller with something that must go out would. Only a link that stays full fails the test.
 */
export async function sendPatiently(
  end: Endpoint,
  channel: LinkChannel,
  message: Uint8Array,
  what: string,
): Promise<void> {
  for (let attempt = 0; attempt < 2000; attempt++) {
    if (end.send(channel, message)) return;
    await sleep(2);
  }
  assert.fail(`${end.link.role}: ${what} refused for seconds`);
}

/** Polls `condition` until it holds; polling keeps no timer alive once it returns. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Message `index` of `size` bytes: a 4-byte index, then a pattern that depends on both. */
export function fillMessage(target: Uint8Array, index: number): void {
  new DataView(target.buffer, target.byteOffset, target.byteLength).setUint32(0, index);
  for (let k = 4; k < target.length; k++) target[k] = (index * 31 + k * 7) & 0xff;
}

export function checkMessage(message: Uint8Array, expectedSize: number): number {
  assert.equal(message.length, expectedSize, "message length");
  const index = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0);
  for (let k = 4; k < message.length; k++) {
    if (message[k] !== ((index * 31 + k * 7) & 0xff)) assert.fail(`message ${index} corrupted at byte ${k}`);
  }
  return index;
}

export function controlSize(i: number): number {
  // Deterministic spread from 4 bytes to 16 KiB, many small like real control frames.
  return i % 5 === 0 ? 16 * 1024 : 4 + (((i * 2654435761) >>> 0) % (i % 2 === 0 ? 200 : 8192));
}
