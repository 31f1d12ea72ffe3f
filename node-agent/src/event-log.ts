import type { NodeEvent } from "@ipop/shared";
import type { Logger } from "pino";

/** Drop reasons of link envelopes that normal operation produces (races, restarts); not worth a warning. */
const ROUTINE_SIGNAL_DROPS = new Set(["glare", "stale-session", "duplicate-open", "session-mismatch"]);

/** Logs one of the core's events at the level it deserves. Events never carry packet contents or secrets. */
export function logEvent(logger: Logger, event: NodeEvent): void {
  switch (event.kind) {
    case "link-up":
      logger.info({ peer: event.peer, linkId: event.linkId, setupMs: Math.round(event.setupMs) }, "link up");
      return;
    case "link-down":
      logger.info({ peer: event.peer, linkId: event.linkId, reason: event.reason }, "link down");
      return;
    case "link-opening":
      logger.debug({ peer: event.peer, linkId: event.linkId, role: event.role }, "opening link");
      return;
    case "address-conflict":
      logger.warn(event, "two nodes claim one address; the newer claim wins");
      return;
    case "signal-dropped":
      // Glare and stale sessions are part of normal operation; envelopes that fail checks are not.
      if (ROUTINE_SIGNAL_DROPS.has(event.reason)) logger.debug(event, "dropped link envelope");
      else logger.warn(event, "refused link envelope");
      return;
    case "relay-up":
      logger.info({ peer: event.peer, via: event.via, role: event.role }, "relayed path up");
      return;
    case "relay-down":
      logger.info({ peer: event.peer, reason: event.reason }, "relayed path down");
      return;
    case "revocations-updated":
      logger.info(event, "revocation list updated");
      return;
  }
}
