import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { Writable } from "node:stream";
import { test } from "vitest";
import { OutgoingMessage } from "./wire.js";

// ws's frame parser is exported at runtime but not in its type definitions.
const { Receiver } = createRequire(import.meta.url)("ws") as {
  Receiver: new (options: { isServer: boolean }) => Writable;
};

/** What ws's own frame parser (a client's) reads from `frames`. */
function receive(frames: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const texts: string[] = [];
    const receiver = new Receiver({ isServer: false });
    receiver.on("message", (data: Buffer, isBinary: boolean) => {
      assert.equal(isBinary, false, "a text frame");
      texts.push(data.toString());
    });
    receiver.on("error", reject);
    receiver.write(frames, () => resolve(texts));
  });
}

test("a message's frame is one valid text frame at every length class, built once", async () => {
  const texts = ["", "x", "é".repeat(62), "y".repeat(125), "z".repeat(126), "€".repeat(30_000), "w".repeat(70_000)];
  const messages = texts.map((text) => new OutgoingMessage(text));
  assert.equal(messages[1]!.frame(), messages[1]!.frame(), "the same buffer for every recipient");
  assert.deepEqual(await receive(Buffer.concat(messages.map((m) => m.frame()))), texts);
});
