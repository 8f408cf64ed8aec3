// The stage display's address: `display.html?session=<id>&languages=es,fr&background=transparent`.
import { SESSION_ID_PATTERN, TARGET_LANGUAGES, type TargetLanguage } from "./protocol";

/** Side by side, one column each: two stay readable from the back of a hall at 1920×1080. */
export const MAX_DISPLAY_LANGUAGES = 2;
export const BACKGROUNDS = ["dark", "transparent"] as const;
export type Background = (typeof BACKGROUNDS)[number];

export interface DisplayParams {
  sessionId: string;
  languages: TargetLanguage[];
  background: Background;
}

export type ParsedDisplay = { ok: true; params: DisplayParams } | { ok: false; problem: string };

export function parseDisplayParams(search: string): ParsedDisplay {
  const query = new URLSearchParams(search);
  const sessionId = (query.get("session") ?? "").trim().toLowerCase();
  if (!SESSION_ID_PATTERN.test(sessionId)) {
    return { ok: false, problem: "Add the session to the address: display.html?session=golden-eagle-misty-otter-4271&languages=es" };
  }
  const wanted = (query.get("languages") ?? "")
    .split(",")
    .map((code) => code.trim().toLowerCase())
    .filter((code) => code !== "");
  if (wanted.length === 0) return { ok: false, problem: "Add one or two languages to the address: &languages=es or &languages=es,fr" };
  const unknown = wanted.filter((code) => !(TARGET_LANGUAGES as readonly string[]).includes(code));
  if (unknown.length > 0) {
    return { ok: false, problem: `Unknown language ${unknown.join(", ")}: one of ${TARGET_LANGUAGES.join(", ")}` };
  }
  const languages = [...new Set(wanted)] as TargetLanguage[];
  if (languages.length > MAX_DISPLAY_LANGUAGES) {
    return { ok: false, problem: `At most ${MAX_DISPLAY_LANGUAGES} languages side by side, not ${languages.length}` };
  }
  const background = query.get("background") ?? "dark";
  if (!(BACKGROUNDS as readonly string[]).includes(background)) {
    return { ok: false, problem: `background is dark (the default) or transparent, not ${background}` };
  }
  return { ok: true, params: { sessionId, languages, background: background as Background } };
}

/** The stage display for a session, beside the page at `here`. */
export function displayLink(here: string, sessionId: string, languages: readonly string[]): string {
  const url = new URL("display.html", here);
  url.search = new URLSearchParams({ session: sessionId, languages: languages.join(",") }).toString();
  return url.toString().replace(/%2C/g, ",");
}
