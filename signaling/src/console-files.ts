/**
 * The web console's static build (web-console/dist/app), served at `/` by `ipop-signal`.
 *
 * Every file is read once when the server starts and kept in memory (a Vite build is a few hundred
 * KiB): a request can only ever name a file of that index, so no path in a URL reaches the file
 * system, and `..`, encoded slashes or NUL bytes simply name nothing. Hashed assets (Vite's
 * `assets/NAME-HASH.ext`) are cached for a year; everything else, above all index.html, is
 * revalidated on each load so a new build is picked up at once.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run build` puts the console, seen from this module in src/ or dist/. */
export const DEFAULT_CONSOLE_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "web-console",
  "dist",
  "app",
);

/** Most files and bytes the index holds; a build is far below both, a wrong directory is refused. */
const MAX_FILES = 512;
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

/**
 * What the page may do, and nothing more: its own scripts, styles, images and fonts, and
 * connections (fetch, and the WebSocket to this server: CSP3's 'self' covers ws:/wss: to the same
 * host) to its own origin only. Web workers from its own scripts or blobs (graph layout runs in one).
 * No inline scripts, no plugins, no framing, no form posts elsewhere. WebRTC is not governed by CSP.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  ico: "image/x-icon",
  woff2: "font/woff2",
  txt: "text/plain; charset=utf-8",
  wasm: "application/wasm",
};

/** Vite's hashed asset names: `assets/index-B1x_9aZq.js`. */
const HASHED = /^\/assets\/.+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

interface ConsoleFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
}

/** The console's files by URL path. */
export class ConsoleFiles {
  private constructor(private readonly files: ReadonlyMap<string, ConsoleFile>) {}

  /**
   * Indexes `dir`; undefined when it does not exist or holds no index.html (the console is not
   * built: the server runs without it). Throws when it is too large to be a console build.
   */
  static load(dir: string): ConsoleFiles | undefined {
    let names: string[];
    try {
      if (!statSync(join(dir, "index.html")).isFile()) return undefined;
      names = readdirSync(dir, { recursive: true, encoding: "utf8" });
    } catch {
      return undefined;
    }
    const files = new Map<string, ConsoleFile>();
    let total = 0;
    for (const name of names) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      const body = readFileSync(path);
      total += body.length;
      if (files.size >= MAX_FILES || total > MAX_TOTAL_BYTES)
        throw new RangeError(
          `${dir} holds more than ${MAX_FILES} files or ${MAX_TOTAL_BYTES} bytes: not a console build`,
        );
      const url = `/${relative(dir, path).split(sep).join("/")}`;
      const extension = url.slice(url.lastIndexOf(".") + 1).toLowerCase();
      files.set(url, {
        body,
        contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
        cacheControl: HASHED.test(url) ? "public, max-age=31536000, immutable" : "no-cache",
      });
    }
    return new ConsoleFiles(files);
  }

  /** Answers a GET or HEAD for a console file; false when `path` names none (the caller 404s). */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const file = this.files.get(path === "/" ? "/index.html" : path);
    if (file === undefined) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-length": 0 });
      res.end();
      return true;
    }
    res.writeHead(200, {
      "content-type": file.contentType,
      "content-length": file.body.length,
      "cache-control": file.cacheControl,
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      // A join link carries its token in the query: never hand it to another site as a referrer.
      "referrer-policy": "no-referrer",
    });
    res.end(req.method === "HEAD" ? undefined : file.body);
    return true;
  }
}
