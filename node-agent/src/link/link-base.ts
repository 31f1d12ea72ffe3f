import { errorMessage } from "@ipop/shared";
import {
  filterSdpCandidates,
  isMdnsHostname,
  type ParsedCandidate,
  parseCandidate,
  stripCandidatePrefix,
} from "./candidates.js";
import { CHANNEL_SPECS, LINK_CHANNELS } from "./channels.js";
import { closeReason, type LinkCloseCode } from "./close-reason.js";
import { type DtlsFingerprint, sameFingerprint, sdpFingerprints } from "./dtls-fingerprint.js";
import {
  type CandidateType,
  type LinkChannel,
  type LinkEvents,
  type LinkOptions,
  type LinkRole,
  type LinkSignal,
  type LinkTransportStats,
  MAX_SDP_CHARS,
  type PeerLink,
  type WebRtcBackendName,
} from "./peer-link.js";

/** What a backend tells the shared link logic about its stack. */
export interface BackendTraits {
  /**
   * Whether the stack resolves mDNS `*.local` candidates (browsers hide host IPs behind them). When
   * it cannot, remote `.local` candidates are dropped instead of being handed to it to fail on.
   */
  readonly resolvesMdns: boolean;
  /** Per-channel high-water marks where the stack needs other ones than `CHANNEL_SPECS`. */
  readonly highWaterMarks?: Partial<Readonly<Record<LinkChannel, number>>>;
  /**
   * Offerer only: signal local candidates only once the remote answer has been applied, so the
   * remote cannot reach this side's ICE while the stack is still taking in the answer (see ndc-link.ts
   * for the stack that needs it). This side's own checks start with the answer anyway.
   */
  readonly holdsCandidatesUntilAnswer?: boolean;
}

/** Remote candidates held while the remote description is still being applied; more is garbage. */
const MAX_PENDING_REMOTE_CANDIDATES = 64;
/** Messages that arrive on one channel before the other opened, delivered right after `onOpen`. */
const MAX_EARLY_MESSAGES = 256;

type LinkState = "connecting" | "open" | "closed";
type LinkDescriptionType = "offer" | "answer";
type Awaitable = Promise<void> | void;

interface PendingCandidate {
  readonly candidate: string;
  readonly sdpMid: string;
}

/**
 * The part of every `PeerLink` that does not depend on the WebRTC library: the life cycle (open once
 * both channels are, close exactly once, silence after close), the candidate filter and `a=`
 * normalisation, ordering of signals both ways, backpressure, and never throwing at the caller.
 *
 * A backend subclass drives the stack and reports back through the protected methods
 * (`emitLocalDescription`, `emitLocalCandidate`, `channelOpened`, `deliver`, ...). Its hooks run
 * one at a time, in signal order, and a hook that throws closes the link with a reason.
 */
export abstract class BaseLink implements PeerLink {
  abstract readonly backend: WebRtcBackendName;
  readonly role: LinkRole;
  protected readonly options: LinkOptions;
  readonly #events: LinkEvents;
  readonly #traits: BackendTraits;
  readonly #highWaterMarks: Readonly<Record<LinkChannel, number>>;
  #state: LinkState = "connecting";
  readonly #openChannels = new Set<LinkChannel>();
  /** Serialises the stack's async operations, so a candidate is never applied before its description. */
  #ops: Promise<void> = Promise.resolve();
  #remoteSdp: string | undefined;
  #remoteDescriptionApplied = false;
  #pendingRemote: PendingCandidate[] = [];
  #localDescriptionSent = false;
  /** Local candidates not yet signalled: before our description is out, or held for the answer. */
  #pendingLocal: LinkSignal[] = [];
  #earlyMessages: Array<readonly [LinkChannel, Uint8Array]> = [];
  /** Candidate types signalled each way (after the filter), for telling why a path is relayed. */
  readonly #localTypes = new Set<CandidateType>();
  readonly #remoteTypes = new Set<CandidateType>();

  protected constructor(options: LinkOptions, events: LinkEvents, traits: BackendTraits) {
    this.role = options.role;
    this.options = options;
    this.#events = events;
    this.#traits = traits;
    this.#highWaterMarks = {
      control: traits.highWaterMarks?.control ?? CHANNEL_SPECS.control.highWaterMark,
      data: traits.highWaterMarks?.data ?? CHANNEL_SPECS.data.highWaterMark,
    };
  }

  // ---- PeerLink ----

  handleSignal(signal: LinkSignal): void {
    if (this.#state === "closed") return;
    // Signals come off the network: check the shape at run time, whatever the type says.
    const s = signal as Partial<Record<string, unknown>> | null;
    if (s === null || typeof s !== "object") return;
    if (s.kind === "description" && (s.type === "offer" || s.type === "answer") && typeof s.sdp === "string") {
      this.#handleDescription(s.type, s.sdp, s.ipTrack === true);
    } else if (s.kind === "candidate" && typeof s.candidate === "string") {
      this.#handleCandidate(s.candidate, typeof s.sdpMid === "string" ? s.sdpMid : null);
    }
  }

  send(channel: LinkChannel, message: Uint8Array): boolean {
    if (this.#state !== "open") return false;
    try {
      const highWaterMark = this.#highWaterMarks[channel];
      if (highWaterMark === undefined || this.bufferedAmount(channel) > highWaterMark) return false;
      return this.sendOn(channel, message);
    } catch {
      return false;
    }
  }

  async stats(): Promise<LinkTransportStats> {
    if (this.#state === "closed") return {};
    const offered = { localCandidateTypes: [...this.#localTypes], remoteCandidateTypes: [...this.#remoteTypes] };
    try {
      return { ...(await this.transportStats()), ...offered };
    } catch {
      return offered;
    }
  }

  close(): void {
    this.#shutdown(closeReason("local-close"));
  }

  // ---- for backends ----

  /** True once the link closed for any reason; backends stop work and ignore late callbacks. */
  protected get closed(): boolean {
    return this.#state === "closed";
  }

  /** Backends call this at the end of their constructor; the offerer then starts the offer. */
  protected begin(): void {
    if (this.role === "offerer") this.#enqueue("setup-failed", "creating the offer", () => this.startOffer());
  }

  /**
   * Hands a local description to the remote side, after removing candidates it must not see. An
   * answer with `ipTrack` tells the offerer that this side reads the offer's IP track.
   */
  protected emitLocalDescription(type: "offer" | "answer", sdp: string, ipTrack = false): void {
    if (this.#state === "closed" || this.#localDescriptionSent) return;
    this.#localDescriptionSent = true;
    const filtered = filterSdpCandidates(sdp, (c) => this.#acceptLocal(c));
    const signal = { kind: "description", type, sdp: filtered } as const;
    this.#events.onSignal(ipTrack && type === "answer" ? { ...signal, ipTrack: true } : signal);
    // Candidates gathered before the description was out follow it, so the remote never has to
    // hold a candidate for a session it does not know yet.
    if (!this.#holdingCandidates) this.#flushLocalCandidates();
  }

  /** Signals one local candidate, bare (`a=` removed), unless the filter rejects it. */
  protected emitLocalCandidate(candidate: string, sdpMid: string | null | undefined): void {
    if (this.#state === "closed") return;
    const parsed = parseCandidate(candidate);
    if (parsed === undefined || !this.#acceptLocal(parsed)) return;
    const signal: LinkSignal = { kind: "candidate", candidate: stripCandidatePrefix(candidate), sdpMid: sdpMid ?? "0" };
    if (this.#localDescriptionSent && !this.#holdingCandidates) this.#events.onSignal(signal);
    else this.#pendingLocal.push(signal);
  }

  protected channelOpened(channel: LinkChannel): void {
    if (this.#state !== "connecting") return;
    this.#openChannels.add(channel);
    if (!LINK_CHANNELS.every((c) => this.#openChannels.has(c))) return;
    const mismatch = this.#dtlsMismatch();
    if (mismatch !== undefined) {
      this.fail("dtls-fingerprint-mismatch", mismatch);
      return;
    }
    this.#state = "open";
    this.#events.onOpen();
    const early = this.#earlyMessages;
    this.#earlyMessages = [];
    for (const [c, message] of early) {
      if (this.#state !== "open") return;
      this.#events.onMessage(c, message);
    }
  }

  protected channelClosed(channel: LinkChannel): void {
    this.fail("channel-closed", `${channel} channel closed`);
  }

  /** Reacts to the W3C-style connection state: "failed" and "closed" end the link. */
  protected connectionStateChanged(state: string): void {
    if (state === "failed") this.fail("connection-failed", "ICE/DTLS connection failed");
    else if (state === "closed") this.fail("connection-closed", "peer connection closed");
  }

  /** Passes a received message up; `message` is borrowed until this returns. */
  protected deliver(channel: LinkChannel, message: Uint8Array): void {
    if (this.#state === "open") {
      this.#events.onMessage(channel, message);
    } else if (this.#state === "connecting" && this.#earlyMessages.length < MAX_EARLY_MESSAGES) {
      // The remote may send the moment its side is open, before our second channel reports open.
      this.#earlyMessages.push([channel, message.slice()]);
    }
  }

  /** Closes the link because something went wrong; no-op once closed. */
  protected fail(code: LinkCloseCode, detail: string): void {
    this.#shutdown(closeReason(code, detail));
  }

  /**
   * The fingerprint of the certificate the remote presented in the DTLS handshake, when the stack
   * tells; null when it does not (it then enforces the SDP fingerprint itself, as WebRTC requires).
   */
  protected remoteDtlsFingerprint(): DtlsFingerprint | null {
    return null;
  }

  /**
   * Checks the DTLS certificate against the fingerprint in the remote description, which arrived in
   * an envelope signed by the peer's certified key: this binds the encrypted channel to that node
   * even if the stack's own check were off. Returns what is wrong, or undefined.
   */
  #dtlsMismatch(): string | undefined {
    let presented: DtlsFingerprint | null;
    try {
      presented = this.remoteDtlsFingerprint();
    } catch (error) {
      return `the stack could not tell the remote certificate: ${errorMessage(error)}`;
    }
    if (presented === null) return undefined;
    const signed = sdpFingerprints(this.#remoteSdp ?? "");
    if (signed.some((f) => sameFingerprint(f, presented))) return undefined;
    return `the peer presented ${presented.algorithm} ${presented.value}, not the fingerprint of its signed description`;
  }

  /** Offerer: create both channels and the offer, and emit it. */
  protected abstract startOffer(): Promise<void> | void;
  /**
   * Applies the remote offer (answerer) or answer (offerer); throws if the stack rejects it.
   * `ipTrack`: the remote answer says the answerer reads the IP track (always false for an offer).
   */
  protected abstract applyRemoteDescription(type: LinkDescriptionType, sdp: string, ipTrack: boolean): Awaitable;
  /** Answerer, after the offer is applied: create both channels and the answer, and emit it. */
  protected abstract startAnswer(): Promise<void> | void;
  protected abstract applyRemoteCandidate(candidate: string, sdpMid: string): Promise<void> | void;
  protected abstract bufferedAmount(channel: LinkChannel): number;
  /** Sends a copy of `message`, or hands it to a stack that copies; may throw. */
  protected abstract sendOn(channel: LinkChannel, message: Uint8Array): boolean;
  protected abstract transportStats(): Promise<LinkTransportStats>;
  /** Closes channels and connection and drops every reference to the stack; must not throw. */
  protected abstract release(): void;

  // ---- internals ----

  #handleDescription(type: "offer" | "answer", sdp: string, ipTrack: boolean): void {
    if (this.#remoteSdp !== undefined) {
      // Signaling may deliver the same message twice; anything else would be renegotiation.
      if (sdp !== this.#remoteSdp)
        this.fail("bad-signal", "a second remote description (renegotiation is not supported)");
      return;
    }
    const expected = this.role === "offerer" ? "answer" : "offer";
    if (type !== expected) {
      this.fail("bad-signal", `an ${this.role} cannot take a remote ${type}`);
      return;
    }
    const problem = sdpProblem(sdp);
    if (problem !== undefined) {
      this.fail("bad-signal", `remote ${type} ${problem}`);
      return;
    }
    this.#remoteSdp = sdp;
    const filtered = filterSdpCandidates(sdp, (c) => this.#acceptRemote(c));
    this.#enqueue("bad-signal", `applying the remote ${type}`, () =>
      this.applyRemoteDescription(type, filtered, ipTrack && type === "answer"),
    );
    if (this.role === "answerer") this.#enqueue("setup-failed", "creating the answer", () => this.startAnswer());
    this.#enqueue("setup-failed", "applying remote candidates", () => {
      this.#remoteDescriptionApplied = true;
      if (this.#localDescriptionSent) this.#flushLocalCandidates();
      const pending = this.#pendingRemote;
      this.#pendingRemote = [];
      for (const c of pending) this.#applyCandidate(c);
    });
  }

  #handleCandidate(candidate: string, sdpMid: string | null): void {
    const parsed = parseCandidate(candidate);
    // One bad or forbidden candidate is dropped; it does not condemn the link.
    if (parsed === undefined || !this.#acceptRemote(parsed)) return;
    const pending: PendingCandidate = { candidate: stripCandidatePrefix(candidate), sdpMid: sdpMid ?? "0" };
    if (!this.#remoteDescriptionApplied) {
      if (this.#pendingRemote.length < MAX_PENDING_REMOTE_CANDIDATES) this.#pendingRemote.push(pending);
      return;
    }
    this.#ops = this.#ops.then(() => this.#applyCandidate(pending));
  }

  /**
   * Starts applying one candidate without waiting for it: a stack may take seconds over one (werift
   * waits up to 10 s for an mDNS answer), and ICE does not care in which order candidates arrive.
   */
  #applyCandidate(c: PendingCandidate): void {
    if (this.#state === "closed") return;
    const onError = (): void => {
      // The stack rejected one candidate (bad format, unknown mid): the others may still work.
    };
    try {
      Promise.resolve(this.applyRemoteCandidate(c.candidate, c.sdpMid)).catch(onError);
    } catch {
      onError();
    }
  }

  /** Whether local candidates wait for the remote answer (see `BackendTraits`). */
  get #holdingCandidates(): boolean {
    return (
      this.#traits.holdsCandidatesUntilAnswer === true && this.role === "offerer" && !this.#remoteDescriptionApplied
    );
  }

  #flushLocalCandidates(): void {
    const pending = this.#pendingLocal;
    this.#pendingLocal = [];
    for (const signal of pending) {
      if (this.closed) return; // onSignal may have closed the link.
      this.#events.onSignal(signal);
    }
  }

  #enqueue(code: LinkCloseCode, what: string, op: () => Promise<void> | void): void {
    this.#ops = this.#ops.then(async () => {
      if (this.#state === "closed") return;
      try {
        await op();
      } catch (error) {
        this.fail(code, `${what}: ${errorMessage(error)}`);
      }
    });
  }

  #acceptLocal(c: ParsedCandidate): boolean {
    // Our own mDNS name hides an address the filter cannot check.
    const ok = !isMdnsHostname(c.address) && !this.#isForbidden(c.address);
    if (ok) this.#localTypes.add(c.type);
    return ok;
  }

  #acceptRemote(c: ParsedCandidate): boolean {
    const ok = isMdnsHostname(c.address) ? this.#traits.resolvesMdns : !this.#isForbidden(c.address);
    if (ok) this.#remoteTypes.add(c.type);
    return ok;
  }

  #isForbidden(address: string): boolean {
    try {
      return this.options.isForbiddenAddress(address);
    } catch {
      return true; // A broken filter must not let an overlay address through.
    }
  }

  #shutdown(reason: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#pendingLocal = [];
    this.#pendingRemote = [];
    this.#earlyMessages = [];
    try {
      this.release();
    } catch {
      // release() must not throw; if a stack does anyway, the link is still closed for the caller.
    }
    // Never call back from inside close() or handleSignal(): the caller may hold a lock or iterate.
    queueMicrotask(() => this.#events.onClose(reason));
  }
}

/**
 * Rejects what no backend could use, before a lenient parser accepts it: werift takes any text as a
 * description and only fails later, as an ICE failure that hides the cause.
 */
function sdpProblem(sdp: string): string | undefined {
  if (sdp.length > MAX_SDP_CHARS) return `is ${sdp.length} characters long`;
  if (!/^v=0\r?\n/.test(sdp)) return "is not SDP (no v=0 line)";
  if (!/\nm=application [^\r\n]*webrtc-datachannel/.test(sdp)) return "has no data channel (m=application) section";
  return undefined;
}
