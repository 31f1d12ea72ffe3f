/**
 * How long does a link take to open, and how often does its setup fail? Opens pairs of links of one
 * backend (host candidates, no STUN), `concurrency` pairs at a time, closes each pair once both ends
 * are open, and prints the distribution (docs/bench.md, "Link setup").
 *
 *   node node-agent/dist/link/link-setup-bench.js [--backend ndc] [--pairs 200] [--concurrency 1]
 *       [--processes 1|2] [--signal-delay-ms 0] [--hold on|off] [--offer-setup actpass|active|passive]
 *
 * - `--processes 2`: the answerers live in a forked child, as two agents would; signals go over IPC.
 * - `--signal-delay-ms`: each signal is held that long, as a signaling server would.
 * - `--hold off` (ndc): the offerer signals its candidates at once instead of after the answer.
 * - `--offer-setup`: rewrites the offer's DTLS role, to compare who is the DTLS client.
 * Prints one JSON line: pairs opened and failed (with their close reasons), and open times in ms.
 */
import { fork } from "node:child_process";
import { parseArgs } from "node:util";
import { createLinkFactory, isRealBackendName, type RealBackendName } from "./backends.js";
import { createNdcLinkFactory } from "./ndc-link.js";
import type { LinkRole, LinkSignal, PeerLink, PeerLinkFactory } from "./peer-link.js";

/** A pair that has not opened by then counts as failed (a DTLS retransmission chain is 1+2+4+8 s). */
const PAIR_TIMEOUT_MS = 20_000;
const CHILD_ENV = "IPOP_LINK_SETUP_BENCH_CHILD";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "ndc" },
    pairs: { type: "string", default: "200" },
    concurrency: { type: "string", default: "1" },
    processes: { type: "string", default: "1" },
    "signal-delay-ms": { type: "string", default: "0" },
    hold: { type: "string", default: "on" },
    "offer-setup": { type: "string" },
  },
});
const backendName = values.backend;
const pairs = Number(values.pairs);
const concurrency = Number(values.concurrency);
const signalDelayMs = Number(values["signal-delay-ms"]);
const offerSetup = values["offer-setup"];
if (!isRealBackendName(backendName)) throw new Error(`--backend must be ndc, werift or wrtc, not ${backendName}`);
const backend: RealBackendName = backendName;
if (!Number.isInteger(pairs) || pairs < 1 || pairs > 10_000) throw new Error("--pairs must be 1-10000");
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
  throw new Error("--concurrency must be 1-16");
}
if (values.processes !== "1" && values.processes !== "2") throw new Error("--processes must be 1 or 2");
if (!Number.isInteger(signalDelayMs) || signalDelayMs < 0 || signalDelayMs > 5_000) {
  throw new Error("--signal-delay-ms must be 0-5000");
}
if (values.hold !== "on" && values.hold !== "off") throw new Error("--hold must be on or off");
if (values.hold === "off" && backend !== "ndc") throw new Error("--hold off applies to ndc only");
if (offerSetup !== undefined && !/^(actpass|active|passive)$/.test(offerSetup)) {
  throw new Error("--offer-setup must be actpass, active or passive");
}

/** What goes between the two processes: signals and events of the answerer of pair `pair`. */
type Wire =
  | { readonly pair: number; readonly start: true }
  | { readonly pair: number; readonly signal: LinkSignal }
  | { readonly pair: number; readonly open: true }
  | { readonly pair: number; readonly closed: string }
  | { readonly pair: number; readonly stop: true };

function rewriteOffer(signal: LinkSignal): LinkSignal {
  if (offerSetup === undefined || signal.kind !== "description" || signal.type !== "offer") return signal;
  return { ...signal, sdp: signal.sdp.replace(/^a=setup:\w+(?=\r?$)/gm, `a=setup:${offerSetup}`) };
}

function later(action: () => void): void {
  if (signalDelayMs === 0) setImmediate(action);
  else setTimeout(action, signalDelayMs);
}

async function factory(): Promise<PeerLinkFactory> {
  return backend === "ndc" ? createNdcLinkFactory(process.env, values.hold === "on") : createLinkFactory(backend);
}

function createEnd(
  links: PeerLinkFactory,
  role: LinkRole,
  events: { signal: (s: LinkSignal) => void; open: () => void; closed: (reason: string) => void },
): PeerLink {
  return links.create(
    { role, iceServers: [], isForbiddenAddress: () => false },
    { onSignal: events.signal, onOpen: events.open, onMessage: () => {}, onClose: events.closed },
  );
}

/** The forked child: answers every pair the parent starts, over IPC. */
async function runAnswerers(): Promise<void> {
  const links = await factory();
  const answerers = new Map<number, PeerLink>();
  const send = (message: Wire) => process.send?.(message);
  process.on("message", (message: Wire) => {
    const { pair } = message;
    if ("start" in message) {
      answerers.set(
        pair,
        createEnd(links, "answerer", {
          signal: (signal) => later(() => send({ pair, signal })),
          open: () => send({ pair, open: true }),
          closed: (reason) => send({ pair, closed: reason }),
        }),
      );
    } else if ("signal" in message) {
      answerers.get(pair)?.handleSignal(message.signal);
    } else if ("stop" in message) {
      answerers.get(pair)?.close();
      answerers.delete(pair);
    }
  });
  process.on("disconnect", () => process.exit(0));
}

/** An answerer: in this process, or the child's one for `pair`. */
interface RemoteEnd {
  handleSignal(signal: LinkSignal): void;
  close(): void;
}

async function runPairs(): Promise<void> {
  const links = await factory();
  const child =
    values.processes === "2"
      ? fork(process.argv[1] ?? "", process.argv.slice(2), { env: { ...process.env, [CHILD_ENV]: "1" } })
      : undefined;
  const childEvents = new Map<number, (message: Wire) => void>();
  child?.on("message", (message: Wire) => childEvents.get(message.pair)?.(message));

  let nextPair = 0;
  const openPair = (): Promise<number | string> =>
    new Promise((resolve) => {
      const pair = nextPair++;
      const started = performance.now();
      let opened = 0;
      let settled = false;
      let offerer: PeerLink | undefined;
      let answerer: RemoteEnd | undefined;
      const settle = (result: number | string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        childEvents.delete(pair);
        offerer?.close();
        answerer?.close();
        resolve(result);
      };
      const timer = setTimeout(() => settle(`not open after ${PAIR_TIMEOUT_MS} ms`), PAIR_TIMEOUT_MS);
      const opens = () => {
        if (++opened === 2) settle(performance.now() - started);
      };
      if (child === undefined) {
        const local = createEnd(links, "answerer", {
          signal: (signal) => later(() => offerer?.handleSignal(signal)),
          open: opens,
          closed: settle,
        });
        answerer = local;
      } else {
        childEvents.set(pair, (message) => {
          if ("signal" in message) offerer?.handleSignal(message.signal);
          else if ("open" in message) opens();
          else if ("closed" in message) settle(message.closed);
        });
        child.send({ pair, start: true } satisfies Wire);
        answerer = {
          handleSignal: (signal) => child.send({ pair, signal } satisfies Wire),
          close: () => child.send({ pair, stop: true } satisfies Wire),
        };
      }
      offerer = createEnd(links, "offerer", {
        signal: (signal) => {
          const relayed = rewriteOffer(signal);
          later(() => answerer?.handleSignal(relayed));
        },
        open: opens,
        closed: settle,
      });
    });

  const openMs: number[] = [];
  const failures = new Map<string, number>();
  const worker = async (): Promise<void> => {
    while (nextPair < pairs) {
      const result = await openPair();
      if (typeof result === "number") openMs.push(result);
      else failures.set(result, (failures.get(result) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  openMs.sort((a, b) => a - b);
  const quantile = (q: number) =>
    Math.round(openMs[Math.min(openMs.length - 1, Math.floor(q * openMs.length))] ?? Number.NaN);
  console.log(
    JSON.stringify({
      backend,
      processes: Number(values.processes),
      signalDelayMs,
      hold: values.hold,
      offerSetup: offerSetup ?? "as the backend writes it",
      concurrency,
      opened: openMs.length,
      failed: Object.fromEntries(failures),
      openMs: { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), max: quantile(1) },
      // A setup that waited for a DTLS retransmission: 1 s past the signalling it needs.
      overOneSecond: openMs.filter((ms) => ms >= 900 + 2 * signalDelayMs).length,
    }),
  );
  child?.disconnect();
  // Native stacks may keep threads alive a moment after their last close.
  process.exit(0);
}

if (process.env[CHILD_ENV] === "1") await runAnswerers();
else await runPairs();
