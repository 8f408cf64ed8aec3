// The stage display's address: `display.html?session=<id>&languages=es,fr&background=transparent`, and
// `&passcode=` for a private talk (the display has no controls to type it in).
import { validPasscode } from "./passcode";
import { PASSCODE_MAX, PASSCODE_MIN, SESSION_ID_PATTERN, TARGET_LANGUAGES, type TargetLanguage } from "./protocol";

/** Side by side, one column each: two stay readable from the back of a hall at 1920×1080. */
export const MAX_DISPLAY_LANGUAGES = 2;
export const BACKGROUNDS = ["dark", "transparent"] as const;
export type Background = (typeof BACKGROUNDS)[number];

export interface DisplayParams {
  sessionId: string;
  languages: TargetLanguage[];
  background: Background;
  /** A private talk's passcode. */
  passcode?: string;
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
  const given = query.get("passcode");
  const passcode = validPasscode(given);
  if (given !== null && passcode === null) {
    return { ok: false, problem: `The passcode holds ${PASSCODE_MIN} to ${PASSCODE_MAX} characters, with no spaces around it` };
  }
  return {
    ok: true,
    params: { sessionId, languages, background: background as Background, ...(passcode ? { passcode } : {}) },
  };
}

/** The stage display for a session, beside the page at `here`; with a private talk's passcode when given. */
export function displayLink(here: string, sessionId: string, languages: readonly string[], passcode?: string): string {
  const url = new URL("display.html", here);
  const query = { session: sessionId, languages: languages.join(","), ...(passcode ? { passcode } : {}) };
  url.search = new URLSearchParams(query).toString();
  return url.toString().replace(/%2C/g, ",");
}
