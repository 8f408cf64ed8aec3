import { describe, expect, it } from "vitest";
import { displayLink, parseDisplayParams } from "./display-params";

const session = "golden-eagle-misty-otter-4271";

describe("parseDisplayParams", () => {
  it("reads the session, one or two languages and a dark background by default", () => {
    expect(parseDisplayParams(`?session=${session}&languages=es,fr`)).toEqual({
      ok: true,
      params: { sessionId: session, languages: ["es", "fr"], background: "dark" },
    });
    expect(parseDisplayParams(`?session=${session.toUpperCase()}&languages=ES&background=transparent`)).toEqual({
      ok: true,
      params: { sessionId: session, languages: ["es"], background: "transparent" },
    });
  });

  it("takes a language named twice once", () => {
    const parsed = parseDisplayParams(`?session=${session}&languages=es,%20es`);
    expect(parsed.ok && parsed.params.languages).toEqual(["es"]);
  });

  it.each([
    ["no session", "?languages=es", /session/],
    ["a malformed session", `?session=not a session&languages=es`, /session/],
    ["no languages", `?session=${session}`, /one or two languages/],
    ["an unknown language", `?session=${session}&languages=es,xx`, /Unknown language xx/],
    ["three languages", `?session=${session}&languages=es,fr,de`, /At most 2 languages/],
    ["an unknown background", `?session=${session}&languages=es&background=green`, /not green/],
    ["a passcode too short", `?session=${session}&languages=es&passcode=abc`, /passcode holds 4 to 64/],
  ])("refuses %s with a sentence saying what to fix", (_, search, problem) => {
    const parsed = parseDisplayParams(search);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe("displayLink", () => {
  it("opens the display beside the page, on the session and languages, and parses back", () => {
    const link = displayLink("http://127.0.0.1:8765/speaker.html#token=x", session, ["es", "fr"]);
    expect(link).toBe(`http://127.0.0.1:8765/display.html?session=${session}&languages=es,fr`);
    expect(parseDisplayParams(new URL(link).search)).toMatchObject({ ok: true, params: { languages: ["es", "fr"] } });
  });

  it("carries a private talk's passcode, which the display reads back", () => {
    const link = displayLink("http://127.0.0.1:8765/speaker.html", session, ["es"], "blue harbour&42");
    expect(link).toBe(`http://127.0.0.1:8765/display.html?session=${session}&languages=es&passcode=blue+harbour%2642`);
    expect(parseDisplayParams(new URL(link).search)).toMatchObject({ ok: true, params: { passcode: "blue harbour&42" } });
  });
});
