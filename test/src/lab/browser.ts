/**
 * Debian's Chromium inside a lab namespace, driven by playwright: the browser's sockets (the page's
 * HTTP, WebSocket and WebRTC traffic) are the namespace's, while playwright talks to it over the
 * pipe it inherits. No browser is ever downloaded: playwright starts /usr/bin/chromium through a
 * two-line wrapper that enters the namespace first.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright";
import type { Lab } from "./netns.js";

export const CHROMIUM = "/usr/bin/chromium";

export interface LabBrowser {
  readonly browser: Browser;
  /** Closes the browser and removes the wrapper. */
  close(): Promise<void>;
}

/** Starts headless Chromium in `host`'s namespace. */
export async function launchChromiumIn(lab: Lab, host: string): Promise<LabBrowser> {
  const dir = mkdtempSync(join(tmpdir(), "ipop-lab-chromium-"));
  const wrapper = join(dir, "chromium-in-netns");
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.nsName(host)} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  try {
    const browser = await chromium.launch({
      executablePath: wrapper,
      headless: true,
      // Root in a container has no user namespaces for the sandbox; /dev/shm may be tiny. With no GPU,
      // the console's graph (WebGL, sigma) runs on SwiftShader, which Chromium wants allowed explicitly.
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--enable-unsafe-swiftshader"],
    });
    return {
      browser,
      close: async () => {
        await browser.close().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
