import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "vitest";
import { parseCli } from "./cli-args.js";
import { AgentError } from "./errors.js";
import { iceServersFor, loadTurnCredentials, parseTurnCredentials } from "./ice-config.js";

const REST = { username: "1795986185:h1", credential: "q2v+AbC/xyz=" };

describe("TURN credentials", () => {
  test("come from a JSON file, a REST username's colon included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipop-turn-"));
    try {
      const file = join(dir, "turn.json");
      writeFileSync(file, JSON.stringify(REST), { mode: 0o600 });
      assert.deepEqual(await loadTurnCredentials(file, {}), REST);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("come from the environment when no file is named", async () => {
    const env = { IPOP_TURN_USERNAME: REST.username, IPOP_TURN_CREDENTIAL: REST.credential };
    assert.deepEqual(await loadTurnCredentials(undefined, env), REST);
    assert.equal(await loadTurnCredentials(undefined, {}), undefined);
    await assert.rejects(loadTurnCredentials(undefined, { IPOP_TURN_USERNAME: "u" }), AgentError);
  });

  test("a malformed file is refused without repeating what it holds", () => {
    for (const text of ["user:secret-pass", "{}", '{"username": "", "credential": "secret-pass"}', "null"]) {
      assert.throws(
        () => parseTurnCredentials(text, "the file f"),
        (e: unknown) => e instanceof AgentError && e.code === "IPOP_USAGE" && !e.message.includes("secret-pass"),
      );
    }
  });

  test("go to TURN URLs only, and a TURN URL without them is a usage error", () => {
    assert.deepEqual(iceServersFor(["stun:198.51.100.1:3478", "turn:198.51.100.1:3478?transport=udp"], REST), [
      { urls: "stun:198.51.100.1:3478" },
      { urls: "turn:198.51.100.1:3478?transport=udp", ...REST },
    ]);
    assert.throws(() => iceServersFor(["turn:198.51.100.1:3478"], undefined), /--turn-credentials-file/);
    assert.deepEqual(iceServersFor(["stun:x:1"], undefined), [{ urls: "stun:x:1" }]);
  });

  test("the old turn:user:pass@host form is refused, and the password is not echoed", () => {
    const base = ["up", "--signal", "ws://x:1", "--token-file", "/t"];
    assert.throws(
      () => parseCli([...base, "--ice-server", "turn:alice:hunter22@198.51.100.1:3478"], {}),
      (e: unknown) => e instanceof Error && /never in argv/.test(e.message) && !e.message.includes("hunter22"),
    );
    const ok = parseCli([...base, "--ice-server", "turn:198.51.100.1:3478", "--turn-credentials-file", "/c"], {});
    assert.equal(ok.command, "up");
    if (ok.command === "up") assert.equal(ok.turnCredentialsFile, "/c");
  });
});
