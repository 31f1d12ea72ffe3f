import type { SignalErrorCode } from "@ipop/shared";
import { Counter, Gauge, Registry } from "prom-client";

/** What a session reports as it works; each call is one counter increment. */
export interface SessionMetrics {
  /** A member joined `network` (a rejoin that replaces an old connection counts too). */
  joined(network: string): void;
  /** A `send` was forwarded to a member of `network`. */
  relayed(network: string): void;
  /** The server answered with an `error` of this code (join refusals, rate limits, bad messages, ...). */
  refused(code: SignalErrorCode): void;
}

/** What the collectors read at scrape time. */
export interface SignalMetricsSource {
  /** Open WebSocket connections. */
  connections(): number;
  /** Each network with members, and how many. */
  networkSizes(): Iterable<[network: string, members: number]>;
}

/**
 * Networks that get a label of their own; the rest are counted under {@link OTHER_NETWORKS}. Without a CA
 * anyone may join any network name, and every name would otherwise become a series that lives until the
 * process ends. With a CA there is one network.
 */
export const MAX_NETWORK_LABELS = 64;
/** The `network` label of networks beyond {@link MAX_NETWORK_LABELS}. */
export const OTHER_NETWORKS = "_other";

/** Refusal reason for a WebSocket upgrade turned away because the server is full or shutting down. */
export const SERVER_FULL = "server-full";

/**
 * The signaling server's Prometheus metrics (docs/metrics.md), in a registry of their own so tests
 * can run several servers in one process. Counters move as sessions report; gauges are read from
 * the server's state at scrape time.
 */
export class SignalMetrics implements SessionMetrics {
  readonly registry = new Registry();
  private readonly labelled = new Set<string>();
  private readonly joins: Counter<"network">;
  private readonly relayedMessages: Counter<"network">;
  private readonly refusals: Counter<"reason">;
  private readonly accepted: Counter;

  constructor(source: SignalMetricsSource) {
    const registers = [this.registry];
    const label = (network: string) => this.networkLabel(network);
    new Gauge({
      name: "ipop_signal_connections",
      help: "Open WebSocket connections, joined or not.",
      registers,
      collect() {
        this.set(source.connections());
      },
    });
    new Gauge({
      name: "ipop_signal_networks",
      help: "Networks with at least one member.",
      registers,
      collect() {
        let count = 0;
        for (const _ of source.networkSizes()) count++;
        this.set(count);
      },
    });
    new Gauge({
      name: "ipop_signal_members",
      help: "Members of each network.",
      labelNames: ["network"],
      registers,
      collect() {
        this.reset();
        for (const [network, members] of source.networkSizes()) this.inc({ network: label(network) }, members);
      },
    });
    this.accepted = new Counter({
      name: "ipop_signal_connections_total",
      help: "WebSocket connections accepted.",
      registers,
    });
    this.joins = new Counter({
      name: "ipop_signal_joins_total",
      help: "Successful joins, per network.",
      labelNames: ["network"],
      registers,
    });
    this.relayedMessages = new Counter({
      name: "ipop_signal_messages_relayed_total",
      help: "Messages forwarded from one member to another, per network.",
      labelNames: ["network"],
      registers,
    });
    this.refusals = new Counter({
      name: "ipop_signal_refusals_total",
      help: "Requests refused, by reason: the error code sent to the client, or server-full for a refused connection.",
      labelNames: ["reason"],
      registers,
    });
  }

  /** A WebSocket connection was accepted. */
  connected(): void {
    this.accepted.inc();
  }

  /** A WebSocket upgrade was refused (server full or shutting down). */
  connectionRefused(): void {
    this.refusals.inc({ reason: SERVER_FULL });
  }

  joined(network: string): void {
    this.joins.inc({ network: this.networkLabel(network) });
  }

  relayed(network: string): void {
    this.relayedMessages.inc({ network: this.networkLabel(network) });
  }

  refused(code: SignalErrorCode): void {
    this.refusals.inc({ reason: code });
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async render(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The first {@link MAX_NETWORK_LABELS} networks seen keep their names as labels for the process's life. */
  private networkLabel(network: string): string {
    if (this.labelled.has(network)) return network;
    if (this.labelled.size >= MAX_NETWORK_LABELS) return OTHER_NETWORKS;
    this.labelled.add(network);
    return network;
  }
}
