// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { CaptionStore, renderCaptions, SPEECH_SKIPPED } from "./captions";

const msg = (segmentId: string, text: string, isPartial: boolean, start = 0, end = 1) => ({
  segmentId,
  text,
  isPartial,
  language: "es",
  start,
  end,
});

describe("CaptionStore", () => {
  it("orders finals by segment, whatever order they arrive in", () => {
    const store = new CaptionStore();
    store.apply(msg("s40-u0", "tercero", false));
    store.apply(msg("s0-u1", "segundo", false));
    store.apply(msg("s0-u0", "primero", false));
    expect(store.orderedFinals.map((c) => c.text)).toEqual(["primero", "segundo", "tercero"]);
  });

  it("drops a repeated final and a partial that comes after its final", () => {
    const store = new CaptionStore();
    expect(store.apply(msg("s0-u0", "hola", false))).toBe(true);
    expect(store.apply(msg("s0-u0", "hola otra vez", false))).toBe(false);
    expect(store.apply(msg("s0-u0", "ho", true))).toBe(false);
    expect(store.orderedFinals.map((c) => c.text)).toEqual(["hola"]);
    expect(store.openPartials).toEqual([]);
  });

  it("keeps the time a segment began from its first partial", () => {
    const store = new CaptionStore();
    store.apply(msg("s0-u0", "el", true, 2, 2));
    store.apply(msg("s0-u0", "el equipo", false, 5, 5));
    expect(store.orderedFinals[0]).toMatchObject({ start: 2, end: 5 });
  });
});

describe("renderCaptions", () => {
  it("grows a partial in place and replaces it with its final", () => {
    const list = document.createElement("ol");
    const store = new CaptionStore();
    store.apply(msg("s0-u0", "el", true));
    renderCaptions(list, store);
    const item = list.firstElementChild;
    store.apply(msg("s0-u0", "el equipo", true));
    renderCaptions(list, store);
    expect(list.firstElementChild).toBe(item);
    expect(item?.textContent).toBe("el equipo");
    store.apply(msg("s0-u0", "el equipo ha trabajado", false));
    store.apply(msg("s9-u0", "muy", true));
    renderCaptions(list, store);
    expect(list.children).toHaveLength(2);
    expect(list.firstElementChild).toBe(item);
    expect(item?.className).toBe("caption final");
    expect(list.lastElementChild?.className).toBe("caption partial");
  });

  it("puts a late final before the segments spoken after it", () => {
    const list = document.createElement("ol");
    const store = new CaptionStore();
    store.apply(msg("s8-u0", "dos", false));
    renderCaptions(list, store);
    store.apply(msg("s0-u0", "uno", false));
    renderCaptions(list, store);
    expect(Array.from(list.children).map((li) => li.textContent)).toEqual(["uno", "dos"]);
  });

  it("keeps partials out of the live list when given their own element, so only finals are announced", () => {
    const list = document.createElement("ol");
    const partial = document.createElement("p");
    const store = new CaptionStore();
    store.apply(msg("s0-u0", "el equipo", false));
    store.apply(msg("s9-u0", "ha", true));
    renderCaptions(list, store, { partial });
    expect(Array.from(list.children).map((li) => li.textContent)).toEqual(["el equipo"]);
    expect(partial.textContent).toBe("ha");
    store.apply(msg("s9-u0", "ha trabajado", false));
    renderCaptions(list, store, { partial });
    expect(Array.from(list.children).map((li) => li.className)).toEqual(["caption final", "caption final"]);
    expect(partial.textContent).toBe("");
  });

  it("shows only the last finals when asked (the stage display)", () => {
    const list = document.createElement("ol");
    const store = new CaptionStore();
    for (const n of [1, 2, 3, 4]) store.apply(msg(`s${n}-u0`, `línea ${n}`, false));
    renderCaptions(list, store, { lastFinals: 2 });
    expect(Array.from(list.children).map((li) => li.textContent)).toEqual(["línea 3", "línea 4"]);
  });

  it("marks a final whose speech was skipped, on the listener page only", () => {
    const store = new CaptionStore();
    store.apply({ ...msg("s0-u0", "uno", false), speechSkipped: true });
    store.apply(msg("s0-u1", "dos", false));
    store.apply({ ...msg("s0-u2", "tr", true), speechSkipped: true });
    const listener = document.createElement("ol");
    renderCaptions(listener, store, { speechMarks: true });
    const marks = Array.from(listener.children).map((li) => li.querySelector(".speech-skipped")?.textContent ?? null);
    expect(marks).toEqual([SPEECH_SKIPPED, null, null]);
    expect(listener.children[0]?.textContent).toBe(`uno ${SPEECH_SKIPPED}`);
    renderCaptions(listener, store, { speechMarks: true });
    expect(listener.children[0]?.querySelectorAll(".speech-skipped")).toHaveLength(1);
    const stage = document.createElement("ol");
    renderCaptions(stage, store);
    expect(Array.from(stage.children).map((li) => li.textContent)).toEqual(["uno", "dos", "tr"]);
  });
});
