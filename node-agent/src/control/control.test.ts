import assert from "node:assert/strict";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "vitest";
import { ControlError, NotRunningError } from "../errors.js";
import { controlRequest } from "./control-client.js";
import { ControlServer } from "./control-server.js";

const path = join(tmpdir(), `ipop-control-test-${process.pid}.sock`);

function raw(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path, () => socket.write(request));
    let data = "";
    socket.on("data", (d) => {
      data += d;
    });
    socket.on("close", () => resolve(data));
  });
}

test("control socket answers requests, refuses bad ones, and reports a missing agent", async ({ onTestFinished }) => {
  await assert.rejects(controlRequest(path, { op: "status" }), NotRunningError);
  const server = await ControlServer.listen(path, async (request) => {
    if (request.op === "status") return { hello: "world" };
    if (request.op === "echo") return request.text;
    throw new Error(`unknown op "${request.op}"`);
  });
  onTestFinished(() => server.close());
  assert.deepEqual(await controlRequest(path, { op: "status" }), { hello: "world" });
  assert.equal(await controlRequest(path, { op: "echo", text: "hi" }), "hi");
  await assert.rejects(
    controlRequest(path, { op: "reboot" }),
    (e: unknown) => e instanceof ControlError && /unknown op/.test(e.message),
  );
  assert.deepEqual(JSON.parse(await raw("not json\n")), { ok: false, error: "request is not JSON" });
  assert.deepEqual(JSON.parse(await raw('{"x":1}\n')), { ok: false, error: "request needs an op" });
  assert.deepEqual(JSON.parse(await raw("x".repeat(10_000))), { ok: false, error: "request too large" });
  // The server is still fine after all that.
  assert.deepEqual(await controlRequest(path, { op: "status" }), { hello: "world" });
});
