// The size budget: each page, with everything it loads (HTML, scripts, styles, the worklet), at most
// 150 KB gzipped. Builds the site into a temporary folder and measures what a browser would fetch.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

export const BUDGET_BYTES = 150 * 1024;

interface ManifestEntry {
  file: string;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  assets?: string[];
}

const root = resolve(import.meta.dirname, "..");
let outDir = "";
let manifest: Record<string, ManifestEntry> = {};

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "web-budget-"));
  await build({ root, logLevel: "silent", build: { outDir, emptyOutDir: true, manifest: "manifest.json" } });
  manifest = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8"));
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function filesOf(key: string, seen: Set<string>): Set<string> {
  const entry = manifest[key];
  if (!entry || seen.has(entry.file)) return seen;
  seen.add(entry.file);
  for (const file of [...(entry.css ?? []), ...(entry.assets ?? [])]) seen.add(file);
  for (const child of [...(entry.imports ?? []), ...(entry.dynamicImports ?? [])]) filesOf(child, seen);
  return seen;
}

/** Adds what the scripts load by URL (the AudioWorklet module is fetched by addModule, not imported). */
function withReferenced(files: Set<string>): Set<string> {
  const assets = readdirSync(join(outDir, "assets")).map((name) => `assets/${name}`);
  for (const file of [...files].filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(join(outDir, file), "utf8");
    for (const asset of assets) if (text.includes(basename(asset))) files.add(asset);
  }
  return files;
}

const gzipped = (file: string) => gzipSync(readFileSync(join(outDir, file)), { level: 9 }).length;

describe("size budget", () => {
  it.each(["speaker.html", "listener.html", "display.html"])("%s loads at most 150 KB gzipped", (page) => {
    const files = withReferenced(filesOf(page, new Set([page])));
    expect(files.size).toBeGreaterThan(1);
    const bytes = [...files].reduce((sum, file) => sum + gzipped(file), 0);
    console.log(`${page}: ${files.size} files, ${(bytes / 1024).toFixed(1)} KB gzipped`);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
