import { LINK_KINDS, type NodeEvent } from "@ipop/shared";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AgentStatus, PeerStatus } from "../status.js";

/** Buckets of `ipop_link_setup_seconds`: WebRTC setups take tens of ms, a lost DTLS flight adds ~1 s. */
const SETUP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const PEER_LABELS = ["peer", "ip"] as const;
type PeerLabel = (typeof PEER_LABELS)[number];

/**
 * The agent's Prometheus metrics (docs/metrics.md), in a registry of their own. Everything but the
 * setup histogram is read from one status snapshot per scrape, so the packet path does no metrics
 * work at all; the histogram is fed link-up events, which are rare.
 *
 * Per-peer series are labelled by the peer's certificate name and virtual IP; there is one per link,
 * so their number is bounded by the agent's link limit (`--max-links`, plus ring neighbours).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly setup: Histogram;
  private pending: Promise<AgentStatus> | undefined;

  /** @param status - a status snapshot (`Agent.status()`); called once per scrape. */
  constructor(private readonly status: () => Promise<AgentStatus>) {
    const registers = [this.registry];
    const snapshot = () => this.snapshot();
    new Gauge({
      name: "ipop_links",
      help: "Links by why this node keeps them (kind; none: only the peer needs it) and state (connecting, up).",
      labelNames: ["kind", "state"],
      registers,
      async collect() {
        const { peers } = await snapshot();
        this.reset();
        for (const kind of [...LINK_KINDS, "none"])
          for (const state of ["connecting", "up"]) this.set({ kind, state }, 0);
        for (const peer of peers)
          for (const kind of peer.kinds.length === 0 ? ["none"] : peer.kinds) this.inc({ kind, state: peer.state });
      },
    });
    peerCounter(
      "ipop_peer_transmit_bytes_total",
      "IP bytes sent to the peer since the link came up.",
      (p) => p.tx.bytes,
    );
    peerCounter(
      "ipop_peer_receive_bytes_total",
      "IP bytes received from the peer since the link came up.",
      (p) => p.rx.bytes,
    );
    peerCounter(
      "ipop_peer_transmit_packets_total",
      "IP packets sent to the peer since the link came up.",
      (p) => p.tx.packets,
    );
    peerCounter(
      "ipop_peer_receive_packets_total",
      "IP packets received from the peer since the link came up.",
      (p) => p.rx.packets,
    );
    new Counter({
      name: "ipop_peer_drops_total",
      help: "Packets and messages dropped on the link to the peer, by reason (docs/status.md).",
      labelNames: [...PEER_LABELS, "reason"],
      registers,
      async collect() {
        const { peers } = await snapshot();
        this.reset();
        for (const peer of peers)
          for (const [reason, count] of Object.entries(peer.drops)) this.inc({ ...peerLabels(peer), reason }, count);
      },
    });
    new Counter({
      name: "ipop_drops_total",
      help: "Packets and messages this node dropped, by reason (docs/status.md).",
      labelNames: ["reason"],
      registers,
      async collect() {
        const { drops } = await snapshot();
        this.reset();
        for (const [reason, count] of Object.entries(drops)) this.inc({ reason }, count);
      },
    });
    new Gauge({
      name: "ipop_peer_rtt_seconds",
      help: "Round trip of the overlay keepalive on the link to the peer (links with a measurement).",
      labelNames: PEER_LABELS,
      registers,
      async collect() {
        const { peers } = await snapshot();
        this.reset();
        for (const peer of peers) if (peer.rttMs !== null) this.set(peerLabels(peer), peer.rttMs / 1000);
      },
    });
    new Gauge({
      name: "ipop_ring_size_estimate",
      help: "Network size estimated from the spacing of the ring neighbours.",
      registers,
      async collect() {
        this.set((await snapshot()).overlay.sizeEstimate);
      },
    });
    new Gauge({
      name: "ipop_known_members",
      help: "Nodes known as link candidates (heard of through links, gossip or signaling).",
      registers,
      async collect() {
        this.set((await snapshot()).overlay.known);
      },
    });
    this.setup = new Histogram({
      name: "ipop_link_setup_seconds",
      help: "Time from opening a link to both data channels being open, per link that came up.",
      buckets: SETUP_BUCKETS,
      registers,
    });

    function peerCounter(name: string, help: string, value: (peer: PeerStatus) => number): void {
      new Counter<PeerLabel>({
        name,
        help,
        labelNames: PEER_LABELS,
        registers,
        async collect() {
          const { peers } = await snapshot();
          this.reset();
          for (const peer of peers) this.inc(peerLabels(peer), value(peer));
        },
      });
    }
  }

  /** Feeds the agent's events in; only `link-up` is used. */
  observe(event: NodeEvent): void {
    if (event.kind === "link-up") this.setup.observe(event.setupMs / 1000);
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async render(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * The status all collectors of one scrape share: the registry starts every collector before any
   * of them resolves, so they all get the snapshot the first one asked for.
   */
  private snapshot(): Promise<AgentStatus> {
    if (this.pending === undefined) {
      const pending = this.status();
      this.pending = pending;
      const forget = () => {
        if (this.pending === pending) this.pending = undefined;
      };
      pending.then(forget, forget);
    }
    return this.pending;
  }
}

function peerLabels(peer: PeerStatus): Record<PeerLabel, string> {
  return { peer: peer.name, ip: peer.ip };
}
