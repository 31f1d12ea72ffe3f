// The console is built into dist/app, which ipop-signal serves at `/`. The shared core is bundled
// from its TypeScript sources (the `ipop-source` export condition), like the tests use it.
//
// `npm run console` runs this config's dev server in front of a running ipop-signal: the page, with
// hot reload, from Vite; its signaling WebSocket and /healthz passed through to the server named by
// IPOP_SIGNAL (default ws://127.0.0.1:7000). So the page's default signaling URL (the server that
// served it) works in development exactly as it does when ipop-signal serves the build.
import { defaultClientConditions, defineConfig } from "vite";

/** Vite's own hot-reload socket; every other WebSocket upgrade is the page's signaling connection. */
const HMR_PATH = "/__vite_hmr";

function signalTargets(text: string): { ws: string; http: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`IPOP_SIGNAL="${text}" is not a URL; use ws://HOST:PORT or wss://HOST:PORT`);
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) {
    throw new Error(`IPOP_SIGNAL="${text}" must start with ws://, wss://, http:// or https://`);
  }
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  return { ws: `${secure ? "wss" : "ws"}://${url.host}`, http: `${secure ? "https" : "http"}://${url.host}` };
}

const signal = signalTargets(process.env.IPOP_SIGNAL ?? "ws://127.0.0.1:7000");

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ["ipop-source", ...defaultClientConditions] },
  build: { outDir: "dist/app", emptyOutDir: true, sourcemap: true },
  server: {
    hmr: { path: HMR_PATH },
    proxy: {
      "/healthz": { target: signal.http, changeOrigin: true },
      [`^/(?!${HMR_PATH.slice(1)})`]: {
        target: signal.ws,
        ws: true,
        changeOrigin: true,
        // Plain HTTP requests (the page, its modules) stay with Vite; only upgrades reach the server.
        bypass: (req, res) => (res ? req.url : undefined),
      },
    },
  },
});
