import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, test } from "vitest";
import { CONSOLE_CSP } from "./console-files.js";
import { OptionError } from "./errors.js";
import { parseCliArgs } from "./options.js";
import { type SignalServer, startSignalServer } from "./server.js";

let dir: string;
let server: SignalServer;
let bare: SignalServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ipop-console-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>IPOP</title>");
  writeFileSync(join(dir, "assets", "index-Bx1_9aZqQ.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "index-Bx1_9aZqQ.css"), "body{}");
  writeFileSync(join(dir, "favicon.svg"), "<svg/>");
  writeFileSync(join(tmpdir(), "ipop-console-secret.txt"), "secret");
  server = await startSignalServer({ consoleDir: dir });
  bare = await startSignalServer({ consoleDir: false });
});

afterAll(async () => {
  await Promise.all([server.close(), bare.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request: the path goes out exactly as written (fetch would normalise `..`). */
function get(s: SignalServer, path: string, method = "GET") {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: s.host, port: s.port, path, method }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}

test("/ and /index.html serve the page with no-cache, a strict CSP and no referrer", async () => {
  for (const path of ["/", "/index.html", "/?network=lab&token=abc"]) {
    const res = await get(server, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
    assert.equal(res.headers["cache-control"], "no-cache");
    assert.equal(res.headers["content-security-policy"], CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /connect-src 'self'/);
    assert.match(CONSOLE_CSP, /default-src 'none'/);
    assert.equal(res.headers["referrer-policy"], "no-referrer");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.equal(res.body, "<!doctype html><title>IPOP</title>");
  }
});

test("hashed assets are cached for a year with their content types; other files are revalidated", async () => {
  const js = await get(server, "/assets/index-Bx1_9aZqQ.js");
  assert.equal(js.status, 200);
  assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
  assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
  const css = await get(server, "/assets/index-Bx1_9aZqQ.css");
  assert.equal(css.headers["content-type"], "text/css; charset=utf-8");
  const svg = await get(server, "/favicon.svg");
  assert.equal(svg.headers["content-type"], "image/svg+xml");
  assert.equal(svg.headers["cache-control"], "no-cache");
  const head = await get(server, "/", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
});

test("unknown paths, traversal attempts and other methods get 404 or 405, never a file outside the build", async () => {
  for (const path of [
    "/nope.js",
    "/../ipop-console-secret.txt",
    "/assets/../../ipop-console-secret.txt",
    "/%2e%2e/ipop-console-secret.txt",
    "/assets%2f..%2f..%2fipop-console-secret.txt",
    "//etc/passwd",
    "/index.html%00.js",
    "/assets/",
  ]) {
    const res = await get(server, path);
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(res.body, /secret/);
  }
  assert.equal((await get(server, "/", "POST")).status, 405);
  assert.equal((await get(server, "/healthz")).status, 200);
});

test("without a console the server serves none", async () => {
  assert.equal((await get(bare, "/")).status, 404);
  assert.equal((await get(bare, "/healthz")).status, 200);
});

test("--console DIR|off: off serves none, a directory without a build is refused at start", async () => {
  const off = parseCliArgs(["--console", "off"]);
  const dirArg = parseCliArgs(["--console", "/srv/console"]);
  assert.ok(off.kind === "run" && dirArg.kind === "run");
  assert.equal(off.consoleDir, false);
  assert.equal(dirArg.consoleDir, "/srv/console");
  await assert.rejects(
    startSignalServer({ consoleDir: join(dir, "assets") }),
    (e: unknown) => e instanceof OptionError,
  );
});
