import { errorMessage } from "@ipop/shared";
import { LinkError } from "../errors.js";
import type { PeerLinkFactory, WebRtcBackendName } from "./peer-link.js";

/** The backends an agent can run (the fake one lives in `fake-link.ts`; "browser" is the web console's). */
export type RealBackendName = Exclude<WebRtcBackendName, "fake" | "browser">;

export const REAL_BACKENDS: readonly RealBackendName[] = ["ndc", "werift", "wrtc"];

/** True if `name` names a real backend (for validating `--backend`). */
export function isRealBackendName(name: string): name is RealBackendName {
  return (REAL_BACKENDS as readonly string[]).includes(name);
}

/**
 * Loads one backend and returns its link factory. Each backend module is imported only when asked
 * for, so choosing one never loads another's native code (wrtc's libwebrtc alone is ~40 MB).
 *
 * No backend needs a shutdown call: every link releases its native objects when it closes, and once
 * all links are closed the process can exit. (node-datachannel's global `cleanup()` is deliberately
 * not used: it blocks for 10 s and throws if a connection was closed by the remote but not by us.)
 *
 * @throws LinkError `IPOP_LINK_BACKEND_UNKNOWN` for another name, `IPOP_LINK_BACKEND_UNAVAILABLE` when
 *   the backend's package or native binary cannot be loaded.
 */
export async function createLinkFactory(name: RealBackendName): Promise<PeerLinkFactory> {
  switch (name) {
    case "ndc":
      return (await load(name, "node-datachannel", () => import("./ndc-link.js"))).createNdcLinkFactory();
    case "werift":
      return (await load(name, "werift", () => import("./werift-link.js"))).createWeriftLinkFactory();
    case "wrtc":
      return (await load(name, "@roamhq/wrtc", () => import("./wrtc-link.js"))).createWrtcLinkFactory();
    default:
      throw new LinkError(
        "IPOP_LINK_BACKEND_UNKNOWN",
        `unknown WebRTC backend "${String(name)}"; choose one of ${REAL_BACKENDS.join(", ")}`,
      );
  }
}

async function load<T>(name: RealBackendName, pkg: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw new LinkError(
      "IPOP_LINK_BACKEND_UNAVAILABLE",
      `the ${name} WebRTC backend could not be loaded (package ${pkg}): ${errorMessage(error)}; ` +
        `run \`npm ci\` in the repository, or choose another backend (${REAL_BACKENDS.filter((b) => b !== name).join(", ")})`,
      { cause: error },
    );
  }
}
