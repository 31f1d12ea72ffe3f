// The console is built into dist/app, which ipop-signal serves at `/`. The shared core is bundled
// from its TypeScript sources (the `ipop-source` export condition), like the tests use it.
import { defaultClientConditions, defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ["ipop-source", ...defaultClientConditions] },
  build: { outDir: "dist/app", emptyOutDir: true, sourcemap: true },
});
