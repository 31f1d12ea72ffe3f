/**
 * The setup most overlay lab suites begin with: a fresh lab, an overlay on it, perhaps waited up; and
 * the teardown that leaves nothing behind whatever failed.
 */
import { type Overlay, type OverlayOptions, startOverlay, stopOverlay, waitForOverlayUp } from "./agents.js";
import { Lab } from "./netns.js";

/** A lab and the overlay running on it. */
export interface LabOverlay {
  readonly lab: Lab;
  readonly overlay: Overlay;
}

/**
 * Creates a lab with `hosts` agent namespaces and starts an overlay on all of them ({@link startOverlay});
 * with `upTimeoutMs`, also waits until every agent sees all the others up. On any failure it stops
 * what it started and destroys the lab before rethrowing, since a `beforeAll` that throws leaves its
 * suite nothing to tear down.
 */
export async function startLabOverlay(
  hosts: number,
  options: OverlayOptions,
  upTimeoutMs?: number,
): Promise<LabOverlay> {
  const lab = await Lab.create({ hosts });
  let overlay: Overlay | undefined;
  try {
    overlay = await startOverlay(lab, options);
    if (upTimeoutMs !== undefined) await waitForOverlayUp(lab, overlay, upTimeoutMs);
    return { lab, overlay };
  } catch (error) {
    await stopLabOverlay(lab, overlay);
    throw error;
  }
}

/**
 * Stops the overlay's processes that still run and destroys the lab; never throws, for `afterAll`
 * (either may be undefined when the setup failed). Safe after a test has stopped them itself.
 */
export async function stopLabOverlay(lab: Lab | undefined, overlay: Overlay | undefined): Promise<void> {
  if (overlay !== undefined) await stopOverlay(overlay).catch(() => undefined);
  await lab?.destroy().catch(() => undefined);
}
