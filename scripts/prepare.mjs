// Runs after `npm ci` / `npm install`: builds every package, then links the workspace CLIs (`ipop`,
// `ipop-signal`) into node_modules/.bin so `npx ipop ...` works at once. npm links bins before this
// script runs, when dist/cli.js does not exist yet in a fresh clone, and silently skips them;
// `npm rebuild --ignore-scripts` links them now (and makes them executable) without rerunning install
// scripts such as node-agent's node-gyp build.
import { execFileSync } from "node:child_process";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
execFileSync(npm, ["run", "build", "--silent"], { stdio: "inherit" });
execFileSync(npm, ["rebuild", "--ignore-scripts", "@ipop/agent", "@ipop/signaling"], { stdio: "inherit" });
