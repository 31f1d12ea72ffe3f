import { LinkError } from "../errors.js";
import { parseCandidate } from "./candidates.js";
import { BaseLink } from "./link-base.js";
import type { LinkChannel, LinkEvents, LinkOptions, LinkTransportStats, PeerLinkFactory } from "./peer-link.js";

/** Knobs of the in-memory links. */
export interface FakeLinkOptions {
  /** Host addresses every fake link offers as candidates; default `["127.0.0.1"]`. */
  readonly addresses?: readonly string[];
  /** Fraction (0..1) of data-channel messages lost on the way; default 0. The control channel never loses. */
  readonly dataLoss?: number;
  /** Randomness for `dataLoss`; default `Math.random`. */
  readonly random?: () => number;
}

/** The shared state of links made by one factory: they find each other here by id. */
interface FakeHub {
  readonly links: Map<number, FakeLink>;
  nextId: number;
  readonly addresses: readonly string[];
  readonly dataLoss: number;
  readonly random: () => number;
}

/** Just enough SDP to pass the base's sanity check, naming the link that made it. */
const SDP_HEAD = "v=0\r\ns=ipop-fake\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";

/**
 * An in-memory link for tests and the simulator. It follows the real signalling dance: the offer and
 * answer name the link, host candidates go through the same forbidden-address filter, and the two
 * ends open only once each has the other's description and one usable candidate of the other (so a
 * filter that removes every candidate keeps a fake link from opening, as it would a real one).
 * Messages are copied at `send()` and delivered in order on a later turn of the event loop.
 */
class FakeLink extends BaseLink {
  readonly backend = "fake";
  readonly #hub: FakeHub;
  readonly #id: number;
  #remoteId: number | undefined;
  #reachable = false;
  #connected = false;
  #localAddress: string | undefined;
  #remoteAddress: string | undefined;
  readonly #queued: Record<LinkChannel, number> = { control: 0, data: 0 };

  constructor(hub: FakeHub, options: LinkOptions, events: LinkEvents) {
    super(options, events, { resolvesMdns: false });
    this.#hub = hub;
    this.#id = hub.nextId++;
    hub.links.set(this.#id, this);
    this.begin();
  }

  protected startOffer(): void {
    this.#describe("offer");
  }

  protected applyRemoteDescription(_type: "offer" | "answer", sdp: string): void {
    const match = /\na=fake-link:(\d+)\r?\n/.exec(sdp);
    if (match === null) throw new LinkError("IPOP_LINK_BAD_SIGNAL", "not a fake-link session description");
    const id = Number(match[1]);
    if (!Number.isSafeInteger(id) || !this.#hub.links.has(id))
      throw new LinkError("IPOP_LINK_BAD_SIGNAL", `no fake link ${id} in this factory`);
    this.#remoteId = id;
  }

  protected startAnswer(): void {
    this.#describe("answer");
  }

  protected applyRemoteCandidate(candidate: string): void {
    const parsed = parseCandidate(candidate);
    if (parsed === undefined) throw new LinkError("IPOP_LINK_BAD_SIGNAL", "unparsable candidate");
    this.#remoteAddress ??= parsed.address;
    this.#reachable = true;
    this.#peer()?.tryConnect();
    this.tryConnect();
  }

  protected bufferedAmount(channel: LinkChannel): number {
    return this.#queued[channel];
  }

  protected sendOn(channel: LinkChannel, message: Uint8Array): boolean {
    const peer = this.#peer();
    if (peer === undefined) return false;
    const copy = message.slice();
    this.#queued[channel] += copy.byteLength;
    setImmediate(() => {
      this.#queued[channel] -= copy.byteLength;
      if (channel === "data" && this.#hub.dataLoss > 0 && this.#hub.random() < this.#hub.dataLoss) return;
      peer.receive(channel, copy);
    });
    return true;
  }

  protected async transportStats(): Promise<LinkTransportStats> {
    if (!this.#connected) return {};
    return {
      localCandidateType: "host",
      remoteCandidateType: "host",
      localAddress: this.#localAddress,
      remoteAddress: this.#remoteAddress,
    };
  }

  protected release(): void {
    this.#hub.links.delete(this.#id);
    const peer = this.#peer();
    // After the messages already on their way, as SCTP would deliver them before the reset.
    if (peer !== undefined) setImmediate(() => peer.remoteClosed());
  }

  /** Opens both ends once each knows the other and has a usable candidate of it. */
  tryConnect(): void {
    const peer = this.#peer();
    if (this.#connected || this.closed || peer === undefined || peer.#remoteId !== this.#id) return;
    if (!this.#reachable || !peer.#reachable) return;
    for (const link of [this, peer]) {
      link.#connected = true;
      setImmediate(() => {
        link.channelOpened("control");
        link.channelOpened("data");
      });
    }
  }

  receive(channel: LinkChannel, message: Uint8Array): void {
    this.deliver(channel, message);
  }

  remoteClosed(): void {
    this.channelClosed("control");
  }

  #describe(type: "offer" | "answer"): void {
    this.emitLocalDescription(type, `${SDP_HEAD}a=fake-link:${this.#id}\r\n`);
    this.#hub.addresses.forEach((address, i) => {
      const line = `candidate:${i + 1} 1 udp ${2122260223 - i} ${address} ${40000 + this.#id} typ host`;
      // For stats: the first address the filter lets through.
      if (this.#localAddress === undefined && !this.#forbidden(address)) this.#localAddress = address;
      this.emitLocalCandidate(line, "0");
    });
  }

  #forbidden(address: string): boolean {
    try {
      return this.options.isForbiddenAddress(address);
    } catch {
      return true;
    }
  }

  #peer(): FakeLink | undefined {
    return this.#remoteId === undefined ? undefined : this.#hub.links.get(this.#remoteId);
  }
}

/**
 * Creates in-memory links. Two links from the same factory connect when their signals are relayed
 * to each other, exactly as real ones; links from different factories never meet.
 */
export function createFakeLinkFactory(options: FakeLinkOptions = {}): PeerLinkFactory {
  const hub: FakeHub = {
    links: new Map(),
    nextId: 1,
    addresses: options.addresses ?? ["127.0.0.1"],
    dataLoss: options.dataLoss ?? 0,
    random: options.random ?? Math.random,
  };
  return {
    backend: "fake",
    create: (linkOptions, events) => new FakeLink(hub, linkOptions, events),
  };
}
