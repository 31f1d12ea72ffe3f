/**
 * Is an SRTP media track a faster agent-to-agent path than the SCTP data channel? Both ride the
 * same ICE + DTLS connection (BUNDLE); a track's packets skip SCTP: no congestion control, no
 * retransmission, no fragmentation, one UDP datagram per RTP packet (docs/bench.md, "An SRTP track
 * instead of the data channel").
 *
 *   node node-agent/dist/link/ndc-rtp-bench.js track|channel [seconds=4] [offeredMbit=0] [payloadBytes=1400]
 *   node node-agent/dist/link/ndc-rtp-bench.js ping [rounds=2000] [payloadBytes=84]
 *
 * Two processes on loopback (this one sends, a forked child receives), one peer connection with a
 * video track (a made-up codec on payload type 96, no media handler: no RTCP, no NACK, no pacing)
 * and a data channel set up like a link's (pre-negotiated, unordered, reliable, 256 KiB high-water
 * mark). `track` and `channel` send numbered payloads on that path for `seconds`: as fast as the
 * stack takes them when `offeredMbit` is 0 (the channel up to its high-water mark, the track until
 * the main thread is busy), else at that fixed rate (a channel over its mark drops, as an agent
 * does). Prints one JSON line: delivered Mbit/s, packets sent, received and lost, each side's CPU
 * seconds per Gbit (all threads) and its main thread's share. `ping` sends one packet and waits for
 * its echo, `rounds` times on each path (after 50 uncounted ones), in alternating blocks so both
 * see the same machine load.
 */
import { fork } from "node:child_process";
import nodeDataChannel from "node-datachannel";
import {
  type CpuSnapshot,
  cpuSince,
  cpuSnapshot,
  pacedSender,
  RTP_HEADER_BYTES,
  RTP_PAYLOAD_TYPE,
  rttSummary,
  SEQ_BYTES,
  StreamCounter,
  udpRcvbufErrors,
  writeRtpHeader,
} from "./rtp-bench-parts.js";

const HIGH_WATER_MARK = 256 * 1024;
const PING_BLOCK = 100;
const PING_TIMEOUT_MS = 1000;
/** Round trips per path run first and not counted: the first ones include JIT compilation. */
const PING_WARMUP = 50;
const DRAIN_MS = 300;
/** ICE + DTLS on loopback take milliseconds; a path that is not open by then never will be. */
const SETUP_TIMEOUT_MS = 10_000;

type Path = "track" | "channel";
type Signal = { sdp: string; type: string } | { candidate: string; mid: string };
interface Result {
  packets: number;
  bytes: number;
  late: number;
  ms: number;
  cpuSeconds: number;
  mainThreadShare: number;
  rcvbufErrors: number;
  maxRssMiB: number;
}
type Message = Signal | { stop: true } | { result: Result };

const mode = process.argv[2] ?? "track";
if (mode !== "track" && mode !== "channel" && mode !== "ping") {
  console.error(`unknown mode ${mode}: expected track, channel or ping`);
  process.exit(2);
}
const numbers = process.argv.slice(3).map(Number);
const ping = mode === "ping";
const [seconds = 4, offeredMbit = 0] = ping ? [] : numbers;
const rounds = ping ? (numbers[0] ?? 2000) : 0;
const payloadBytes = (ping ? numbers[1] : numbers[2]) ?? (ping ? 84 : 1400);
if (payloadBytes < SEQ_BYTES || payloadBytes > 65536) {
  console.error(`payloadBytes ${payloadBytes}: expected ${SEQ_BYTES}-65536`);
  process.exit(2);
}

const receiver = process.env.IPOP_RTP_BENCH_ROLE === "receiver";
const ssrc = receiver ? 0x1b0b0002 : 0x1b0b0001;
const peer = receiver
  ? { send: (m: Message) => process.send?.(m), on: (f: (m: Message) => void) => process.on("message", f) }
  : (() => {
      const child = fork(process.argv[1]!, process.argv.slice(2), {
        env: { ...process.env, IPOP_RTP_BENCH_ROLE: "receiver" },
      });
      return { send: (m: Message) => child.send(m), on: (f: (m: Message) => void) => child.on("message", f) };
    })();

const pc = new nodeDataChannel.PeerConnection(receiver ? "receiver" : "sender", { iceServers: [], mtu: 1500 });
pc.onLocalDescription((sdp, type) => peer.send({ sdp, type }));
pc.onLocalCandidate((candidate, mid) => peer.send({ candidate, mid }));
const openChannel = () => pc.createDataChannel("data", { negotiated: true, id: 1, unordered: true });

/** Where a payload (an IP packet, in an agent) starts in what each path delivers. */
const payloadOffset = (path: Path) => (path === "track" ? RTP_HEADER_BYTES : 0);

/** One outgoing packet per path, reused: the stacks copy what they are given. */
function packetFor(path: Path): Buffer {
  const packet = Buffer.alloc(payloadOffset(path) + payloadBytes, 7);
  return packet;
}

let rtpSeq = 0;
function sendOn(
  path: Path,
  packet: Buffer,
  seq: number,
  track: nodeDataChannel.Track,
  dc: nodeDataChannel.DataChannel,
) {
  packet.writeUInt32BE(seq >>> 0, payloadOffset(path));
  if (path === "channel") {
    if (dc.bufferedAmount() >= HIGH_WATER_MARK) return false;
    // false from a data channel means "queued behind the congestion window", not "refused".
    dc.sendMessageBinary(packet);
    return true;
  }
  writeRtpHeader(packet, rtpSeq++, ssrc);
  return track.sendMessageBinary(packet);
}

if (receiver) runReceiver();
else runSender();

function runReceiver(): void {
  // The sender ends the run; without it (done, or killed) this side has nothing left to do.
  process.on("disconnect", () => process.exit(0));
  const counter = new StreamCounter();
  let first = 0;
  let last = 0;
  let cpu0: CpuSnapshot = cpuSnapshot();
  let rcvbuf0 = 0;
  let track: nodeDataChannel.Track | undefined;
  let dc: nodeDataChannel.DataChannel | undefined;
  const count = (message: Buffer, path: Path) => {
    const now = performance.now();
    if (counter.packets === 0) {
      first = now;
      cpu0 = cpuSnapshot();
      rcvbuf0 = udpRcvbufErrors();
    }
    last = now;
    const offset = payloadOffset(path);
    counter.add(message.readUInt32BE(offset), message.byteLength - offset);
  };
  const onTrackMessage = (message: Buffer) => {
    if (message.byteLength < RTP_HEADER_BYTES + SEQ_BYTES || (message[1]! & 0x7f) !== RTP_PAYLOAD_TYPE) return;
    if (!ping) return count(message, "track");
    // Echo under this side's own SSRC and sequence numbers, as a second sender would.
    writeRtpHeader(message, rtpSeq++, ssrc);
    track?.sendMessageBinary(message);
  };
  pc.onTrack((t) => {
    track = t;
    t.onMessage(onTrackMessage);
  });
  peer.on((m) => {
    if ("sdp" in m) {
      pc.setRemoteDescription(m.sdp, m.type as "offer");
      dc = openChannel();
      dc.onMessage((message) => {
        if (typeof message === "string" || message instanceof ArrayBuffer) return;
        if (ping) dc?.sendMessageBinary(message);
        else count(message, "channel");
      });
    } else if ("candidate" in m) pc.addRemoteCandidate(m.candidate, m.mid);
    else if ("stop" in m) {
      const cpu = cpuSince(cpu0);
      peer.send({
        result: {
          packets: counter.packets,
          bytes: counter.bytes,
          late: counter.late,
          ms: last - first,
          cpuSeconds: cpu.seconds,
          mainThreadShare: cpu.mainThreadShare,
          rcvbufErrors: counter.packets > 0 ? udpRcvbufErrors() - rcvbuf0 : 0,
          maxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
        },
      });
      setTimeout(() => process.exit(0), 100);
    }
  });
}

function runSender(): void {
  const video = new nodeDataChannel.Video("ipop", "SendRecv");
  video.addVideoCodec(RTP_PAYLOAD_TYPE, "ipop-ip");
  video.addSSRC(ssrc, "ipop");
  const track = pc.addTrack(video);
  // Created after the track: creating a data channel starts negotiation, and the offer must carry both.
  const dc = openChannel();
  let opened = 0;
  const setupTimer = setTimeout(() => {
    console.error(`track and channel not both open after ${SETUP_TIMEOUT_MS} ms (ICE state ${pc.iceState()})`);
    process.exit(1);
  }, SETUP_TIMEOUT_MS);
  const onOpen = () => {
    if (++opened < 2) return;
    clearTimeout(setupTimer);
    (ping ? pingPong : throughput)(track, dc);
  };
  track.onOpen(onOpen);
  dc.onOpen(onOpen);
  peer.on((m) => {
    if ("sdp" in m) pc.setRemoteDescription(m.sdp, m.type as "answer");
    else if ("candidate" in m) pc.addRemoteCandidate(m.candidate, m.mid);
  });
}

function finish(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
  pc.close();
  setTimeout(() => process.exit(0), 100);
}

function throughput(track: nodeDataChannel.Track, dc: nodeDataChannel.DataChannel): void {
  const path = mode as Path;
  const packet = packetFor(path);
  let seq = 0;
  let refused = 0;
  const sendOne = () => sendOn(path, packet, seq++, track, dc);
  const cpu0 = cpuSnapshot();
  let stopSending: () => number;
  if (offeredMbit > 0) {
    const paced = pacedSender(offeredMbit, payloadBytes, sendOne);
    stopSending = () => {
      const sent = paced.stop();
      refused = paced.refused();
      return sent;
    };
  } else {
    // As fast as the stack takes them: the channel up to its high-water mark (then on the
    // buffered-amount-low event), the track in bursts that yield to the event loop between them.
    let sent = 0;
    let running = true;
    const pump = () => {
      if (path === "channel") {
        while (running && sendOne()) sent++;
      } else {
        for (let i = 0; running && i < 256; i++) {
          if (sendOne()) sent++;
          else refused++;
        }
        if (running) setImmediate(pump);
      }
    };
    if (path === "channel") {
      dc.setBufferedAmountLowThreshold(HIGH_WATER_MARK / 2);
      dc.onBufferedAmountLow(pump);
    }
    const tick = path === "channel" ? setInterval(pump, 1) : undefined;
    pump();
    stopSending = () => {
      running = false;
      clearInterval(tick);
      dc.onBufferedAmountLow(() => {});
      return sent;
    };
  }
  setTimeout(() => {
    const sentPackets = stopSending();
    const cpu = cpuSince(cpu0);
    peer.on((m) => {
      if (!("result" in m)) return;
      const r = m.result;
      const sentGbit = (sentPackets * payloadBytes * 8) / 1e9;
      const receivedGbit = (r.bytes * 8) / 1e9;
      const lost = sentPackets - r.packets;
      finish({
        path,
        payloadBytes,
        seconds,
        offeredMbit: offeredMbit || "max",
        mbitPerS: r.ms > 0 ? Math.round((r.bytes * 8) / (r.ms * 1000)) : 0,
        sentPackets,
        refusedBySender: refused,
        receivedPackets: r.packets,
        lostPackets: lost,
        lossPct: +((100 * lost) / Math.max(1, sentPackets)).toFixed(2),
        latePackets: r.late,
        udpRcvbufErrors: r.rcvbufErrors,
        senderCpuSPerGbitSent: +(cpu.seconds / sentGbit).toFixed(2),
        receiverCpuSPerGbit: +(r.cpuSeconds / receivedGbit).toFixed(2),
        totalCpuSPerGbitDelivered: +((cpu.seconds + r.cpuSeconds) / receivedGbit).toFixed(2),
        senderMainThreadShare: cpu.mainThreadShare,
        receiverMainThreadShare: r.mainThreadShare,
        receiverMaxRssMiB: r.maxRssMiB,
      });
    });
    // Let what is queued arrive before the receiver stops counting.
    setTimeout(() => peer.send({ stop: true }), DRAIN_MS);
  }, seconds * 1000);
}

function pingPong(track: nodeDataChannel.Track, dc: nodeDataChannel.DataChannel): void {
  const packets = { track: packetFor("track"), channel: packetFor("channel") };
  const rtts: Record<Path, number[]> = { track: [], channel: [] };
  const lost: Record<Path, number> = { track: 0, channel: 0 };
  const warm: Record<Path, number> = { track: 0, channel: 0 };
  let path: Path = "track";
  let inBlock = 0;
  let seq = 0;
  let sentAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    if (inBlock === Math.min(PING_BLOCK, rounds)) {
      inBlock = 0;
      path = path === "track" ? "channel" : "track";
    }
    if (rtts.track.length + lost.track >= rounds && rtts.channel.length + lost.channel >= rounds) {
      clearTimeout(timer);
      return finish({
        mode: "ping",
        payloadBytes,
        rounds,
        track: { ...rttSummary(rtts.track), lost: lost.track },
        channel: { ...rttSummary(rtts.channel), lost: lost.channel },
      });
    }
    inBlock++;
    seq++;
    sentAt = performance.now();
    timer = setTimeout(() => {
      lost[path]++;
      next();
    }, PING_TIMEOUT_MS);
    sendOn(path, packets[path], seq, track, dc);
  };
  const onEcho = (from: Path) => (message: string | Buffer | ArrayBuffer) => {
    if (typeof message === "string" || message instanceof ArrayBuffer) return;
    const offset = payloadOffset(from);
    if (from !== path || message.byteLength < offset + SEQ_BYTES || message.readUInt32BE(offset) !== seq) return;
    if (warm[from] < PING_WARMUP) warm[from]++;
    else rtts[from].push(performance.now() - sentAt);
    clearTimeout(timer);
    next();
  };
  track.onMessage(onEcho("track"));
  dc.onMessage(onEcho("channel"));
  next();
}
