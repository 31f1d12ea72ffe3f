import type { ConsoleApi, ConsoleEvent, PeerRow } from "../api.js";
import { ConnectionBar } from "./connection-bar.js";
import { el } from "./dom.js";
import { EventLog } from "./event-log.js";
import { InjectPanel } from "./inject/inject-panel.js";
import { MEMBER_LIST_ID } from "./inject/target-input.js";
import { JoinForm } from "./join-form.js";
import { type AddressBar, readJoinLink } from "./join-link.js";
import { LinkCharts } from "./link-charts.js";
import { LinkHistory } from "./link-history.js";
import { NodeDetails } from "./node-details.js";
import { OverlayGraph } from "./overlay-graph.js";
import { PeerTable } from "./peer-table.js";
import { TopologyWatcher } from "./topology-watcher.js";
import "./styles.css";

/** Knobs for tests; the page uses the defaults. */
export interface MountOptions {
  /** Where the join link is read from and scrubbed; the window by default. */
  readonly addressBar?: AddressBar;
  /** How often the peer table and charts refresh, ms. */
  readonly peerIntervalMs?: number;
  /** How often every member is asked for its status, ms. */
  readonly topologyIntervalMs?: number;
  /** The wall clock the charts' time axis uses; Date.now by default. */
  readonly now?: () => number;
}

/** The mounted console, for tests and scripts. */
export interface MountedUi {
  /** Refreshes the table, the charts and (with `topology`) the graph now, rather than on the next tick. */
  refresh(topology?: boolean): Promise<void>;
  /** Selects a node as a click would. */
  select(nodeId: string): Promise<void>;
  /** The join attempt a join link started, if any. */
  readonly autoJoin: Promise<void>;
  destroy(): void;
}

/**
 * Draws the console into `root` over `api` and keeps it current: the API's events drive the header
 * and the log; a timer samples the page's own peer table each second; every few seconds each member
 * is asked for its status to learn the whole overlay.
 */
export function mountUi(root: HTMLElement, api: ConsoleApi, options: MountOptions = {}): MountedUi {
  const log = new EventLog();
  const bar = new ConnectionBar(() => {
    api.leave().catch((error: unknown) => log.write("error", `leave: ${String(error)}`));
  });
  const history = new LinkHistory();
  const watcher = new TopologyWatcher(api);
  const charts = new LinkCharts();
  const details = new NodeDetails(api);
  const inject = new InjectPanel(api, (level, text) => log.write(level, text));
  const memberList = el("datalist", { id: MEMBER_LIST_ID });
  let selected: string | undefined;

  const select = async (nodeId: string): Promise<void> => {
    selected = nodeId;
    table.select(nodeId);
    const self = api.self();
    // Members the page knows, then nodes only other members' reports named.
    const member =
      api.members().find((m) => m.nodeId === nodeId) ?? watcher.snapshot().nodes.find((n) => n.nodeId === nodeId);
    if (!member) return;
    const peer = api.peers().find((p) => p.nodeId === nodeId);
    charts.show(peer?.name, peer ? history.series(nodeId) : undefined);
    if (nodeId !== self?.nodeId) inject.target(member.ip);
    await details.show(member.name, nodeId === self?.nodeId ? undefined : member.ip);
  };
  const table = new PeerTable((peer: PeerRow) => void select(peer.nodeId));
  const graph = new OverlayGraph((nodeId) => void select(nodeId));
  const join = new JoinForm(api, (self) => {
    bar.showSelf(self);
    graph.reset(self.network);
  });

  const dashboard = el(
    "main",
    { class: "dashboard" },
    el("div", { class: "area-graph" }, graph.element),
    el("div", { class: "area-peers" }, table.element),
    el("div", { class: "area-details" }, details.element),
    el("div", { class: "area-charts" }, charts.element),
    el("div", { class: "area-inject" }, inject.element),
    el("div", { class: "area-log" }, log.element),
  );
  root.replaceChildren(el("div", { class: "console" }, bar.element, join.element, dashboard, memberList));
  graph.start();
  charts.start();

  const refreshPeers = (): void => {
    const peers = api.peers();
    table.update(peers);
    history.record((options.now ?? Date.now)(), peers);
    // Until a link is picked, the charts follow the first one rather than stand empty.
    const peer = peers.find((p) => p.nodeId === selected) ?? peers[0];
    charts.show(peer?.name, peer ? history.series(peer.nodeId) : undefined);
  };
  const refreshTopology = async (): Promise<void> => {
    const topology = await watcher.refresh();
    graph.update(topology);
    memberList.replaceChildren(
      ...topology.nodes.filter((n) => !n.self).map((n) => el("option", { value: n.ip }, n.name)),
    );
  };
  const showJoined = (joined: boolean): void => {
    join.element.hidden = joined;
    dashboard.dataset.joined = String(joined);
  };

  const onEvent = (event: ConsoleEvent): void => {
    log.add(event);
    if (event.kind === "state") {
      bar.showState(event.state, event.message);
      const self = api.self();
      if (event.state === "joined" && self) {
        bar.showSelf(self);
        graph.reset(self.network);
      }
      if (event.state === "left" || event.state === "failed") bar.showSelf(undefined);
      showJoined(event.state === "joined" || event.state === "reconnecting");
      if (event.state === "joined") void refreshTopology();
    } else if (event.kind === "link-up" || event.kind === "link-down") {
      refreshPeers();
      graph.update(watcher.snapshot());
    }
  };
  const unsubscribe = api.on(onEvent);
  bar.showState(api.state(), "");
  bar.showSelf(api.self());
  showJoined(api.state() === "joined" || api.state() === "reconnecting");

  const peerTimer = setInterval(refreshPeers, options.peerIntervalMs ?? 1000);
  const topologyTimer = setInterval(() => {
    if (api.state() === "joined") void refreshTopology();
  }, options.topologyIntervalMs ?? 5000);

  const link = readJoinLink(options.addressBar ?? window);
  join.fill(link);
  const autoJoin = link.network && link.token && api.state() === "idle" ? join.join() : Promise.resolve();

  return {
    async refresh(topology = false) {
      refreshPeers();
      if (topology) await refreshTopology();
    },
    select,
    autoJoin,
    destroy() {
      clearInterval(peerTimer);
      clearInterval(topologyTimer);
      unsubscribe();
      graph.destroy();
      charts.destroy();
      root.replaceChildren();
    },
  };
}
