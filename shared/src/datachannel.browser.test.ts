/**
 * Sanity check of the page the console will run in: Chromium's own WebRTC delivers a packet-sized
 * message on an unordered, no-retransmit data channel (the kind the overlay carries packets on)
 * between two peer connections in one page, with no STUN server.
 */
import { expect, test } from "vitest";

/** Resolves with the first value `register` hands to its callback. */
function first<T>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

test("an unordered, maxRetransmits 0 data channel carries a 1400-byte message", { timeout: 20_000 }, async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
    b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
    const channel = a.createDataChannel("data", { ordered: false, maxRetransmits: 0 });
    channel.binaryType = "arraybuffer";
    const incoming = first<RTCDataChannel>((resolve) => {
      b.ondatachannel = (e) => resolve(e.channel);
    });
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription!);
    await first((resolve) => channel.addEventListener("open", resolve));
    const remote = await incoming;
    remote.binaryType = "arraybuffer";
    const message = new Uint8Array(1400).map((_, i) => i % 251);
    const received = first<ArrayBuffer>((resolve) => {
      remote.onmessage = (e: MessageEvent<ArrayBuffer>) => resolve(e.data);
    });
    channel.send(message);
    expect(remote.ordered).toBe(false);
    expect(remote.maxRetransmits).toBe(0);
    expect([...new Uint8Array(await received)]).toEqual([...message]);
  } finally {
    a.close();
    b.close();
  }
});
