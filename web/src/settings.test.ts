import { describe, expect, it } from "vitest";
import { loadSettings, SETTINGS_KEY, saveSettings, systemTheme } from "./settings";

/** localStorage's contract, in memory (node has none). */
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe("systemTheme", () => {
  it("follows prefers-color-scheme, and prefers-contrast: more before it", () => {
    expect(systemTheme((q) => q === "(prefers-color-scheme: dark)")).toBe("dark");
    expect(systemTheme(() => false)).toBe("light");
    expect(systemTheme((q) => q === "(prefers-contrast: more)" || q === "(prefers-color-scheme: dark)")).toBe("contrast");
  });
});

describe("listener settings", () => {
  it("start from the defaults, with the system's theme", () => {
    expect(loadSettings(new MemoryStorage(), "dark")).toEqual({
      textSize: "medium",
      theme: "dark",
      captions: true,
      speech: true,
      volume: 1,
    });
  });

  it("are remembered on the device and read back", () => {
    const storage = new MemoryStorage();
    const chosen = { textSize: "x-large", theme: "contrast", captions: false, speech: false, volume: 0.4 } as const;
    expect(saveSettings(storage, chosen)).toBe(true);
    expect(loadSettings(storage, "light")).toEqual(chosen);
  });

  it("a kept theme wins over the system's", () => {
    const storage = new MemoryStorage();
    saveSettings(storage, { ...loadSettings(storage, "light"), theme: "dark" });
    expect(loadSettings(storage, "light").theme).toBe("dark");
  });

  it("take the default for anything unreadable or out of range", () => {
    const storage = new MemoryStorage();
    storage.setItem(SETTINGS_KEY, JSON.stringify({ textSize: "huge", theme: 3, captions: "no", volume: 7, speech: false }));
    expect(loadSettings(storage, "light")).toEqual({ textSize: "medium", theme: "light", captions: true, speech: false, volume: 1 });
    storage.setItem(SETTINGS_KEY, "not json");
    expect(loadSettings(storage, "dark").theme).toBe("dark");
  });

  it("without storage (disabled, or it refuses) the page still works with the defaults", () => {
    expect(loadSettings(null, "light").textSize).toBe("medium");
    expect(saveSettings(null, loadSettings(null, "light"))).toBe(false);
    const full = { setItem: () => { throw new DOMException("full", "QuotaExceededError"); } };
    expect(saveSettings(full, loadSettings(null, "light"))).toBe(false);
  });
});
