/**
 * How long does a link take to open, and how often does its setup fail? Opens pairs of links of one
 * backend in this process (host candidates, signals handed over directly), `concurrency` pairs at a
 * time, closing each pair once both ends are open, and prints the distribution (docs/bench.md,
 * "Link setup").
 *
 *   node node-agent/dist/link/link-setup-bench.js [--backend ndc] [--pairs 200] [--concurrency 1]
 *                                                 [--offer-setup actpass]
 *
 * `--offer-setup actpass` rewrites each offer's DTLS role back to what the stack itself wrote, so the
 * offerer-as-DTLS-client choice of ndc-link.ts can be compared with the stack's default in one run.
 * Prints one JSON line: pairs opened and failed (with their close reasons), and open times in ms.
 */
import { parseArgs } from "node:util";
import { createLinkFactory, isRealBackendName } from "./backends.js";
import type { LinkSignal, PeerLink, PeerLinkFactory } from "./peer-link.js";

/** A pair that has not opened by then counts as failed (a DTLS retransmission chain is 1+2+4+8 s). */
const PAIR_TIMEOUT_MS = 20_000;

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "ndc" },
    pairs: { type: "string", default: "200" },
    concurrency: { type: "string", default: "1" },
    "offer-setup": { type: "string" },
  },
});
const backend = values.backend;
const pairs = Number(values.pairs);
const concurrency = Number(values.concurrency);
const offerSetup = values["offer-setup"];
if (!isRealBackendName(backend)) throw new Error(`--backend must be ndc, werift or wrtc, not ${backend}`);
if (!Number.isInteger(pairs) || pairs < 1 || pairs > 10_000) throw new Error("--pairs must be 1-10000");
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16)
  throw new Error("--concurrency must be 1-16");
if (offerSetup !== undefined && !/^(actpass|active|passive)$/.test(offerSetup)) {
  throw new Error("--offer-setup must be actpass, active or passive");
}

function rewriteOffer(signal: LinkSignal): LinkSignal {
  if (offerSetup === undefined || signal.kind !== "description" || signal.type !== "offer") return signal;
  return { ...signal, sdp: signal.sdp.replace(/^a=setup:\w+(?=\r?$)/gm, `a=setup:${offerSetup}`) };
}

/** Opens one pair; resolves with its open time in ms, or the reason it failed. */
function openOnePair(factory: PeerLinkFactory): Promise<number | string> {
  return new Promise((resolve) => {
    const started = performance.now();
    const ends: PeerLink[] = [];
    let opened = 0;
    let settled = false;
    const settle = (result: number | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const end of ends) end.close();
      resolve(result);
    };
    const timer = setTimeout(() => settle(`not open after ${PAIR_TIMEOUT_MS} ms`), PAIR_TIMEOUT_MS);
    for (const role of ["offerer", "answerer"] as const) {
      const index = ends.length;
      ends.push(
        factory.create(
          { role, iceServers: [], isForbiddenAddress: () => false },
          {
            onSignal: (signal) => {
              const relayed = rewriteOffer(signal);
              setImmediate(() => ends[1 - index]?.handleSignal(relayed));
            },
            onOpen: () => {
              if (++opened === 2) settle(performance.now() - started);
            },
            onMessage: () => {},
            onClose: (reason) => settle(reason),
          },
        ),
      );
    }
  });
}

const factory = await createLinkFactory(backend);
const openMs: number[] = [];
const failures = new Map<string, number>();
let started = 0;
async function worker(): Promise<void> {
  while (started < pairs) {
    started++;
    const result = await openOnePair(factory);
    if (typeof result === "number") openMs.push(result);
    else failures.set(result, (failures.get(result) ?? 0) + 1);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));

openMs.sort((a, b) => a - b);
const quantile = (q: number) =>
  Math.round(openMs[Math.min(openMs.length - 1, Math.floor(q * openMs.length))] ?? Number.NaN);
console.log(
  JSON.stringify({
    backend,
    offerSetup: offerSetup ?? "as the backend writes it",
    concurrency,
    opened: openMs.length,
    failed: Object.fromEntries(failures),
    openMs: { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), max: quantile(1) },
    overOneSecond: openMs.filter((ms) => ms >= 900).length,
  }),
);
// Native stacks may keep threads alive a moment after their last close.
process.exit(0);
