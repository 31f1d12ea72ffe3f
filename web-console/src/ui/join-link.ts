/** What a join link carries: `/?network=NAME&token=...&signal=wss://...`, each part optional. */
export interface JoinLink {
  readonly network?: string;
  readonly token?: string;
  readonly signalUrl?: string;
}

/** The two parts of `window` the link reader touches, so tests can hand in their own. */
export interface AddressBar {
  readonly location: { readonly href: string };
  readonly history: Pick<History, "replaceState" | "state">;
}

/**
 * Reads a join link from the address bar and scrubs the token from it at once (history.replaceState,
 * so no history entry, bookmark or screenshot keeps the secret). The network and signaling URL stay:
 * they are not secret and make a reload show what the page joined.
 */
export function readJoinLink(bar: AddressBar): JoinLink {
  const url = new URL(bar.location.href);
  const params = url.searchParams;
  const link: { network?: string; token?: string; signalUrl?: string } = {};
  const network = params.get("network")?.trim();
  const token = params.get("token")?.trim();
  const signalUrl = params.get("signal")?.trim();
  if (network) link.network = network;
  if (token) link.token = token;
  if (signalUrl) link.signalUrl = signalUrl;
  if (params.has("token")) {
    params.delete("token");
    const search = params.toString();
    bar.history.replaceState(bar.history.state, "", `${url.pathname}${search ? `?${search}` : ""}${url.hash}`);
  }
  return link;
}

/** A link to share: the network and token in the query (the receiving page scrubs the token). */
export function joinLinkFor(origin: string, link: JoinLink): string {
  const url = new URL("/", origin);
  if (link.network) url.searchParams.set("network", link.network);
  if (link.token) url.searchParams.set("token", link.token);
  if (link.signalUrl) url.searchParams.set("signal", link.signalUrl);
  return url.toString();
}
