import { errorMessage } from "@ipop/shared";
import { LinkError } from "../errors.js";
import { asCandidateType } from "./candidates.js";
import { CHANNEL_SPECS, LINK_CHANNELS } from "./channels.js";
import { type BackendTraits, BaseLink } from "./link-base.js";
import type {
  LinkChannel,
  LinkEvents,
  LinkOptions,
  LinkTransportStats,
  PeerLinkFactory,
  WebRtcBackendName,
} from "./peer-link.js";

/**
 * The slice of the W3C `RTCPeerConnection` API a link uses. wrtc, werift and node-datachannel's
 * polyfill all provide it (with the differences a `W3cBackend` smooths over); declared here because
 * this package compiles without the DOM library and the three packages type it three ways.
 */
export interface W3cPeerConnection {
  onicecandidate: ((event: W3cIceCandidateEvent) => void) | null;
  onconnectionstatechange: (() => void) | null;
  readonly connectionState: string;
  createDataChannel(label: string, init: W3cDataChannelInit): W3cDataChannel;
  createOffer(): Promise<W3cDescription>;
  createAnswer(): Promise<W3cDescription>;
  setLocalDescription(description: W3cDescription): Promise<unknown>;
  setRemoteDescription(description: W3cDescription): Promise<unknown>;
  addIceCandidate(candidate: W3cCandidateInit): Promise<unknown>;
  getStats(): Promise<W3cStatsReport>;
  /** werift returns a promise, the others nothing. */
  close(): unknown;
}

export interface W3cDataChannel {
  binaryType: string;
  readonly bufferedAmount: number;
  onopen: (() => void) | null | undefined;
  onclose: (() => void) | null | undefined;
  onmessage: ((event: { readonly data: unknown }) => void) | null | undefined;
  close(): void;
}

export interface W3cDataChannelInit {
  readonly negotiated: boolean;
  readonly id: number;
  readonly ordered: boolean;
  readonly maxRetransmits?: number;
}

export interface W3cDescription {
  readonly type: string;
  readonly sdp?: string | undefined;
}

export interface W3cCandidateInit {
  readonly candidate: string;
  readonly sdpMid: string;
  readonly sdpMLineIndex: number;
}

export interface W3cIceCandidateEvent {
  /** null or undefined marks the end of gathering. */
  readonly candidate?: { readonly candidate?: string; readonly sdpMid?: string | null } | null;
}

/** Map-like report; only `forEach` is common to all three stacks. */
export interface W3cStatsReport {
  forEach(callback: (stats: W3cStats) => void): void;
}

export interface W3cStats {
  readonly id: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** What differs between the W3C-style stacks. */
export interface W3cBackend {
  readonly name: WebRtcBackendName;
  /** See `BackendTraits.resolvesMdns`. */
  readonly resolvesMdns: boolean;
  /** See `BackendTraits.highWaterMarks`. */
  readonly highWaterMarks?: BackendTraits["highWaterMarks"];
  /**
   * Milliseconds between closing the channels and closing the connection on `close()`. werift drops
   * the SCTP stream reset if the connection closes in the same tick, and the remote then only
   * notices when ICE consent fails, about 30 s later.
   */
  readonly closeDelayMs: number;
  /**
   * How this side sends on a channel, where it must differ from `CHANNEL_SPECS`. SCTP reliability
   * and ordering are chosen by each sender per message, so the two ends of a pre-negotiated channel
   * may differ; the receiver takes either. (The web console uses this: see its browser-link.ts.)
   */
  readonly sendModes?: Partial<
    Readonly<Record<LinkChannel, { readonly ordered: boolean; readonly maxRetransmits?: number }>>
  >;
  /** Throws if the stack refuses the configuration. */
  createPeerConnection(options: LinkOptions): W3cPeerConnection;
  /** Sends the message's bytes (and only those of a view); the stack must not keep `message`. */
  send(channel: W3cDataChannel, message: Uint8Array): void;
}

/**
 * A link on any stack with the W3C API. Both sides create the two pre-negotiated channels: the
 * offerer before its offer (so the offer has the data m-line), the answerer after applying the offer
 * and before answering (creating one earlier would start a negotiation of its own on some stacks).
 */
export class W3cLink extends BaseLink {
  readonly backend: WebRtcBackendName;
  readonly #stack: W3cBackend;
  #pc: W3cPeerConnection | undefined;
  readonly #channels = new Map<LinkChannel, W3cDataChannel>();

  constructor(stack: W3cBackend, options: LinkOptions, events: LinkEvents) {
    super(options, events, { resolvesMdns: stack.resolvesMdns, highWaterMarks: stack.highWaterMarks });
    this.backend = stack.name;
    this.#stack = stack;
    try {
      const pc = stack.createPeerConnection(options);
      this.#pc = pc;
      pc.onicecandidate = (event) => {
        const c = event.candidate;
        if (c?.candidate) this.emitLocalCandidate(c.candidate, c.sdpMid);
      };
      pc.onconnectionstatechange = () => this.connectionStateChanged(pc.connectionState);
    } catch (error) {
      this.fail("setup-failed", `${stack.name}: ${errorMessage(error)}`);
      return;
    }
    this.begin();
  }

  protected async startOffer(): Promise<void> {
    const pc = this.#requirePc();
    this.#createChannels(pc);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // The offer as created, not `localDescription`: that one may already list candidates, which
    // would then reach the remote twice (here and trickled).
    this.emitLocalDescription("offer", requireSdp(offer));
  }

  protected async applyRemoteDescription(type: "offer" | "answer", sdp: string): Promise<void> {
    await this.#requirePc().setRemoteDescription({ type, sdp });
  }

  protected async startAnswer(): Promise<void> {
    const pc = this.#requirePc();
    this.#createChannels(pc);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.emitLocalDescription("answer", requireSdp(answer));
  }

  protected async applyRemoteCandidate(candidate: string, sdpMid: string): Promise<void> {
    // One m-line in a data-channel-only session, so the index is always 0.
    await this.#requirePc().addIceCandidate({ candidate, sdpMid, sdpMLineIndex: 0 });
  }

  protected bufferedAmount(channel: LinkChannel): number {
    return this.#channels.get(channel)?.bufferedAmount ?? 0;
  }

  protected sendOn(channel: LinkChannel, message: Uint8Array): boolean {
    const dc = this.#channels.get(channel);
    if (dc === undefined) return false;
    this.#stack.send(dc, message);
    return true;
  }

  protected async transportStats(): Promise<LinkTransportStats> {
    const pc = this.#pc;
    if (pc === undefined) return {};
    return selectedPairStats(await pc.getStats());
  }

  protected release(): void {
    for (const dc of this.#channels.values()) {
      dc.onopen = null;
      dc.onclose = null;
      dc.onmessage = null;
      try {
        dc.close();
      } catch {
        // Already closed.
      }
    }
    this.#channels.clear();
    const pc = this.#pc;
    this.#pc = undefined;
    if (pc === undefined) return;
    pc.onicecandidate = null;
    pc.onconnectionstatechange = null;
    const closePc = (): void => {
      try {
        const result = pc.close();
        if (result instanceof Promise) result.catch(() => undefined);
      } catch {
        // Already closed.
      }
    };
    if (this.#stack.closeDelayMs > 0) setTimeout(closePc, this.#stack.closeDelayMs);
    else closePc();
  }

  #createChannels(pc: W3cPeerConnection): void {
    for (const name of LINK_CHANNELS) {
      const spec = CHANNEL_SPECS[name];
      const mode = this.#stack.sendModes?.[name] ?? spec;
      const dc = pc.createDataChannel(spec.label, {
        negotiated: true,
        id: spec.id,
        ordered: mode.ordered,
        ...(mode.maxRetransmits === undefined ? {} : { maxRetransmits: mode.maxRetransmits }),
      });
      dc.binaryType = "arraybuffer";
      this.#channels.set(name, dc);
      dc.onopen = () => this.channelOpened(name);
      dc.onclose = () => this.channelClosed(name);
      dc.onmessage = (event) => {
        const bytes = asBytes(event.data);
        if (bytes !== undefined) this.deliver(name, bytes);
      };
    }
  }

  #requirePc(): W3cPeerConnection {
    if (this.#pc === undefined) throw new LinkError("IPOP_LINK_RELEASED", "connection already released");
    return this.#pc;
  }
}

/** Creates links on a W3C-style stack. */
export function createW3cLinkFactory(stack: W3cBackend): PeerLinkFactory {
  return {
    backend: stack.name,
    create: (options, events) => new W3cLink(stack, options, events),
  };
}

/** wrtc and the polyfill deliver ArrayBuffer, werift a Buffer; strings are not ours and are dropped. */
function asBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}

function requireSdp(description: W3cDescription): string {
  if (typeof description.sdp !== "string")
    throw new LinkError("IPOP_LINK_NO_SDP", `the stack produced an ${description.type} without SDP`);
  return description.sdp;
}

/**
 * Finds the candidate pair in use: the transport's `selectedCandidatePairId` where the stack reports
 * it, else a succeeded nominated pair (werift may nominate more than one; the first is as good as any
 * for status output).
 */
export function selectedPairStats(report: W3cStatsReport): LinkTransportStats {
  const byId = new Map<string, W3cStats>();
  let selectedId: string | undefined;
  report.forEach((s) => {
    byId.set(s.id, s);
    if (s.type === "transport" && typeof s.selectedCandidatePairId === "string") selectedId = s.selectedCandidatePairId;
  });
  let pair = selectedId === undefined ? undefined : byId.get(selectedId);
  if (pair === undefined) {
    const pairs = [...byId.values()].filter((s) => s.type === "candidate-pair" && s.state === "succeeded");
    pair = pairs.find((s) => s.nominated === true) ?? pairs[0];
  }
  if (pair === undefined) return {};
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  const rtt = pair.currentRoundTripTime;
  return {
    localCandidateType: asCandidateType(local?.candidateType),
    remoteCandidateType: asCandidateType(remote?.candidateType),
    localAddress: addressOf(local),
    remoteAddress: addressOf(remote),
    // W3C stats give seconds.
    rttMs: typeof rtt === "number" && Number.isFinite(rtt) ? rtt * 1000 : undefined,
  };
}

function addressOf(candidate: W3cStats | undefined): string | undefined {
  const address = candidate?.address ?? candidate?.ip;
  return typeof address === "string" ? address : undefined;
}
