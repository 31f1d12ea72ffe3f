import assert from "node:assert/strict";
import { test } from "vitest";
import { findCommand, readmeCommands, shCommands } from "./commands.js";

test("commands come from sh blocks only, without comments or blank lines", () => {
  const md = [
    "text `npx no`",
    "```sh",
    "npx ipop status            # peers",
    "",
    "npx ipop token create --ttl 1h > token   # secret",
    "```",
    "```",
    "not sh",
    "```",
    "```sh",
    "npm run sim -- --nodes 10",
    "```",
  ].join("\n");
  assert.deepEqual(shCommands(md), [
    "npx ipop status",
    "npx ipop token create --ttl 1h > token",
    "npm run sim -- --nodes 10",
  ]);
});

test("findCommand wants exactly one match and names the shape when it fails", () => {
  const commands = ["npx ipop status", "npx ipop status --json"];
  assert.equal(findCommand(commands, /^npx ipop status$/), "npx ipop status");
  assert.throws(() => findCommand(commands, /^npx ipop status/), /2 commands of the shape/);
  assert.throws(() => findCommand(commands, /^ipop up/), /0 commands of the shape \/\^ipop up\//);
});

test("the README's commands run the project's own bins through npx", () => {
  const commands = readmeCommands();
  assert.ok(commands.length >= 10, commands.join("\n"));
  for (const c of commands) assert.match(c, /^(npx ipop(-signal)? |npm (ci|run|test)\b)/, c);
});
