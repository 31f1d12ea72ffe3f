/**
 * How fast is a bare node-datachannel data channel, without TUN, core or agent? The ceiling of what
 * the ndc backend can carry, to compare the whole agent against (docs/bench.md).
 *
 *   node node-agent/dist/link/ndc-channel-bench.js [messageBytes=16384] [seconds=4] [mtu=1500]
 *
 * Two processes on loopback (this one sends, a forked child receives), one pre-negotiated channel
 * set up like a link's data channel (unordered, maxRetransmits 0), sent as fast as a 256 KiB
 * high-water mark allows. Prints one JSON line: Mbit/s received and each side's CPU seconds per
 * Gbit (all threads: node's and libdatachannel's).
 */
import { fork } from "node:child_process";
import nodeDataChannel from "node-datachannel";

const HIGH_WATER_MARK = 256 * 1024;

type Signal = { sdp: string; type: string } | { candidate: string; mid: string };
interface Result {
  bytes: number;
  ms: number;
  cpuMs: number;
}
type Message = Signal | { stop: true } | { result: Result };

const [size = 16384, seconds = 4, mtu = 1500] = process.argv.slice(2).map(Number);
const receiver = process.env.IPOP_NDC_BENCH_ROLE === "receiver";
const peer = receiver
  ? { send: (m: Message) => process.send?.(m), on: (f: (m: Message) => void) => process.on("message", f) }
  : (() => {
      const child = fork(process.argv[1]!, process.argv.slice(2), {
        env: { ...process.env, IPOP_NDC_BENCH_ROLE: "receiver" },
      });
      return { send: (m: Message) => child.send(m), on: (f: (m: Message) => void) => child.on("message", f) };
    })();

const pc = new nodeDataChannel.PeerConnection(receiver ? "receiver" : "sender", { iceServers: [], mtu });
pc.onLocalDescription((sdp, type) => peer.send({ sdp, type }));
pc.onLocalCandidate((candidate, mid) => peer.send({ candidate, mid }));
let channel: nodeDataChannel.DataChannel | undefined;
const openChannel = () => {
  channel = pc.createDataChannel("data", { negotiated: true, id: 1, unordered: true, maxRetransmits: 0 });
  return channel;
};

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

if (receiver) {
  let bytes = 0;
  let started = 0;
  let cpu0 = process.cpuUsage();
  peer.on((m) => {
    if ("sdp" in m) {
      pc.setRemoteDescription(m.sdp, m.type as "offer");
      openChannel().onMessage((message) => {
        if (bytes === 0) {
          started = performance.now();
          cpu0 = process.cpuUsage();
        }
        bytes += typeof message === "string" ? message.length : message.byteLength;
      });
    } else if ("candidate" in m) pc.addRemoteCandidate(m.candidate, m.mid);
    else if ("stop" in m) {
      peer.send({ result: { bytes, ms: performance.now() - started, cpuMs: cpuMs(cpu0) } });
      setTimeout(() => process.exit(0), 100);
    }
  });
} else {
  let senderCpuMs = 0;
  peer.on((m) => {
    if ("sdp" in m) pc.setRemoteDescription(m.sdp, m.type as "answer");
    else if ("candidate" in m) pc.addRemoteCandidate(m.candidate, m.mid);
    else if ("result" in m) {
      const gbit = (m.result.bytes * 8) / 1e9;
      const line = {
        messageBytes: size,
        mtu,
        mbitPerS: Math.round((m.result.bytes * 8) / (m.result.ms * 1000)),
        senderCpuSPerGbit: +(senderCpuMs / 1000 / gbit).toFixed(2),
        receiverCpuSPerGbit: +(m.result.cpuMs / 1000 / gbit).toFixed(2),
      };
      console.log(JSON.stringify(line));
      pc.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
  const dc = openChannel();
  dc.onOpen(() => {
    const message = Buffer.alloc(size, 7);
    const cpu0 = process.cpuUsage();
    const pump = () => {
      while (dc.bufferedAmount() < HIGH_WATER_MARK) dc.sendMessageBinary(message);
    };
    dc.setBufferedAmountLowThreshold(HIGH_WATER_MARK / 2);
    dc.onBufferedAmountLow(pump);
    const tick = setInterval(pump, 1);
    pump();
    setTimeout(() => {
      clearInterval(tick);
      dc.onBufferedAmountLow(() => {});
      senderCpuMs = cpuMs(cpu0);
      // Let the queue drain before the receiver stops counting.
      setTimeout(() => peer.send({ stop: true }), 300);
    }, seconds * 1000);
  });
}
