import { connect, type Socket } from "node:net";
import {
  CLOSE_FRAME,
  FrameReader,
  OPCODE_CLOSE,
  OPCODE_PING,
  pongFrame,
  textFrame,
  upgradeRequest,
} from "./raw-frames.js";

/** What one member's join cost, in milliseconds from the bench's monotonic clock. */
export interface JoinTiming {
  /** From starting the connection to the WebSocket being open (TCP + HTTP upgrade). */
  readonly connectMs: number;
  /** From starting the connection to TCP being connected (the handshake alone). */
  readonly tcpMs: number;
  /** From sending `join` to receiving `welcome`: the server's join latency as a client sees it. */
  readonly joinMs: number;
  /** Members the welcome listed. */
  readonly listed: number;
}

/** Where the server listens: from its `ws://host:port` URL, with the upgrade request built once. */
export interface LoadTarget {
  readonly host: string;
  readonly port: number;
  readonly upgrade: Buffer;
}

/** The target of `url` (`ws://127.0.0.1:PORT`; the load test never leaves loopback). */
export function loadTarget(url: string): LoadTarget {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, "");
  return { host, port: Number(port), upgrade: upgradeRequest(host, Number(port)) };
}

const HEADERS_END = Buffer.from("\r\n\r\n");
/**
 * One read buffer for every member: with `onread`, Node reads into it and hands it to the callback
 * (no stream machinery, no new Buffer per read). Safe because each callback is done with it when it
 * returns (the frame reader copies what it keeps), and there is one thread.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const SWITCHING = Buffer.from("HTTP/1.1 101 ");

/**
 * One simulated member: a raw TCP socket speaking just enough WebSocket to join with a pre-built
 * `join` frame and then count what it hears (frames are counted, never parsed, after the welcome).
 * The client shares the machine's two cores with the server, so it spends as little as possible per
 * member: no HTTP client, no masking per frame, one socket and one frame reader. The server does the
 * full work of a real join.
 */
export class LoadMember {
  private socket: Socket | undefined;
  private closedByUs = false;
  /** The upgrade is done: frames may be sent. */
  private upgraded = false;
  /** Server messages after the welcome: member-joined and member-left notices. */
  notices = 0;
  /** Set when the server closed the connection or it failed: the member is no longer in. */
  lost: string | undefined;
  /** Called once if the join fails (refused, closed or an error before the welcome). */
  onJoinFailed: (() => void) | undefined;
  private readonly joinFrame: Buffer;

  constructor(
    private readonly target: LoadTarget,
    joinText: string,
  ) {
    this.joinFrame = textFrame(joinText);
  }

  /**
   * Connects and joins; resolves with the timing once the welcome arrives, rejects on an error, a refusal
   * or a close before it. Call once.
   */
  join(now: () => number): Promise<JoinTiming> {
    const started = now();
    const joined = new Promise<JoinTiming>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        if (head === undefined) {
          frames.push(chunk);
          return;
        }
        // The upgrade answer, then frames (which may share its chunk).
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf(HEADERS_END);
        if (end < 0) return;
        if (!head.subarray(0, SWITCHING.length).equals(SWITCHING)) {
          fail(`upgrade refused: ${head.subarray(0, head.indexOf("\r\n")).toString()}`);
          socket.destroy();
          return;
        }
        const rest = head.subarray(end + HEADERS_END.length);
        head = undefined;
        this.upgraded = true;
        connectMs = now() - started;
        joinSentAt = now();
        socket.write(this.joinFrame);
        if (rest.length > 0) frames.push(rest);
      };
      const socket = connect({
        host: this.target.host,
        port: this.target.port,
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (bytes: number, buffer: Uint8Array) => {
            onData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
            return true;
          },
        },
      });
      this.socket = socket;
      let joinSentAt = 0;
      let connectMs = 0;
      let tcpMs = 0;
      let welcomed = false;
      let head: Buffer | undefined = Buffer.alloc(0);
      const fail = (why: string) => {
        this.lost ??= why;
        if (!welcomed) reject(new Error(why));
      };
      const frames = new FrameReader(
        (opcode) => !welcomed || opcode === OPCODE_PING || opcode === OPCODE_CLOSE,
        (opcode, payload) => {
          if (opcode === OPCODE_PING) {
            socket.write(pongFrame(payload ?? Buffer.alloc(0)));
            return;
          }
          if (opcode === OPCODE_CLOSE) {
            // The server's close frame: it ends the TCP connection next; ours follows its FIN.
            const code = payload !== undefined && payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
            if (!this.closedByUs) fail(`closed by the server with ${code}`);
            return;
          }
          if (welcomed) {
            this.notices++;
            return;
          }
          const text = payload?.toString() ?? "";
          const reply = JSON.parse(text) as { t?: string; members?: unknown[] };
          if (reply.t !== "welcome") {
            fail(`join answered with ${text.slice(0, 200)}`);
            socket.destroy();
            return;
          }
          welcomed = true;
          resolve({ connectMs, tcpMs, joinMs: now() - joinSentAt, listed: reply.members?.length ?? 0 });
        },
      );
      socket.write(this.target.upgrade);
      socket.once("connect", () => {
        tcpMs = now() - started;
      });
      socket.on("error", (err) => fail(err.message));
      socket.on("close", () => {
        if (!this.closedByUs) fail("connection closed");
      });
    });
    joined.catch(() => this.onJoinFailed?.());
    return joined;
  }

  /**
   * Leaves the way an agent does: a close frame (the server announces the departure to the
   * neighbourhood and answers with its own close frame and FIN; the socket's end follows that FIN).
   */
  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    if (!this.upgraded || socket.writableEnded) {
      socket.destroy();
      return;
    }
    socket.write(CLOSE_FRAME);
  }
}

/** The `join` text of member `index` of `network`: a node id, a name and a distinct address in 10.0.0.0/8. */
export function joinTextFor(network: string, index: number): string {
  const ip = `10.${(index >>> 16) & 0xff}.${(index >>> 8) & 0xff}.${index & 0xff}`;
  const id = `load-${index.toString(16).padStart(8, "0")}`;
  return JSON.stringify({ v: 1, t: "join", network, member: { nodeId: id, name: id, ip } });
}
