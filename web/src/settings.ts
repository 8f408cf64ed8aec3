// The listener's reading comfort, remembered on the device (localStorage): text size, theme, captions on/off,
// speech on/off and volume. The one place a page (and the join: no partials with captions off) reads them.

export const TEXT_SIZES = ["small", "medium", "large", "x-large"] as const;
export const THEMES = ["light", "dark", "contrast"] as const;
export type TextSize = (typeof TEXT_SIZES)[number];
export type Theme = (typeof THEMES)[number];

export interface ListenerSettings {
  textSize: TextSize;
  theme: Theme;
  /** Captions shown. Off: the page joins with `captions: false` and the server sends it no partials. */
  captions: boolean;
  /** Translated speech played. */
  speech: boolean;
  volume: number;
}

export const SETTINGS_KEY = "broadcast.listener.settings";

/** What the system asks for: `prefers-contrast: more` gives the high-contrast theme, else `prefers-color-scheme`. */
export function systemTheme(matches: (query: string) => boolean): Theme {
  if (matches("(prefers-contrast: more)")) return "contrast";
  return matches("(prefers-color-scheme: dark)") ? "dark" : "light";
}

const oneOf = <T extends string>(values: readonly T[], value: unknown, fallback: T): T =>
  values.includes(value as T) ? (value as T) : fallback;

/**
 * The settings kept on this device, each one checked: a missing, unreadable or out-of-range value takes its
 * default (the theme's default is the system's).
 */
export function loadSettings(storage: Pick<Storage, "getItem"> | null, defaultTheme: Theme): ListenerSettings {
  let kept: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(SETTINGS_KEY) ?? "{}");
    if (typeof parsed === "object" && parsed !== null) kept = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (written by something else): the defaults.
  }
  const volume = typeof kept.volume === "number" && kept.volume >= 0 && kept.volume <= 1 ? kept.volume : 1;
  return {
    textSize: oneOf(TEXT_SIZES, kept.textSize, "medium"),
    theme: oneOf(THEMES, kept.theme, defaultTheme),
    captions: typeof kept.captions === "boolean" ? kept.captions : true,
    speech: typeof kept.speech === "boolean" ? kept.speech : true,
    volume,
  };
}

/** Keeps the settings; a browser that refuses storage (private mode, quota) keeps them for this page only. */
export function saveSettings(storage: Pick<Storage, "setItem"> | null, settings: ListenerSettings): boolean {
  try {
    storage?.setItem(SETTINGS_KEY, JSON.stringify(settings));
    return storage !== null;
  } catch {
    return false;
  }
}

/** The page's storage, or null where reading it throws (storage disabled). */
export function deviceStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Text size and theme as attributes of the root element, which the stylesheet follows. */
export function applyLook(root: HTMLElement, settings: Pick<ListenerSettings, "textSize" | "theme">): void {
  root.dataset.textSize = settings.textSize;
  root.dataset.theme = settings.theme;
}
