import { resolve } from "node:path";
import { defineConfig } from "vitest/config";

// Three static pages (speaker, listener, stage display); relative asset URLs so the site works under any path (make dev, CloudFront).
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: {
        speaker: resolve(import.meta.dirname, "speaker.html"),
        listener: resolve(import.meta.dirname, "listener.html"),
        display: resolve(import.meta.dirname, "display.html"),
      },
    },
  },
  test: { environment: "node" },
});
