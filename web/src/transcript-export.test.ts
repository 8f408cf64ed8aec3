import subsrt from "subsrt-ts";
import { describe, expect, it } from "vitest";
import type { Caption } from "./captions";
import { cues, headerLines, transcriptText } from "./transcript-export";

const finals: Caption[] = [
  { segmentId: "s0-u0", text: "Buenos días a todos", language: "es", start: 0.5, end: 2.0 },
  { segmentId: "s0-u1", text: "El equipo ha trabajado", language: "es", start: 1.8, end: 3.1 },
  { segmentId: "s9-u0", text: "Gracias", language: "es", start: 7.25, end: 7.25 },
];

describe("transcript export", () => {
  it("writes one line per final as text", () => {
    expect(transcriptText(finals, "txt")).toBe("Buenos días a todos\nEl equipo ha trabajado\nGracias\n");
  });

  it.each(["srt", "vtt"] as const)("writes %s that parses back to the finals in order", (format) => {
    const parsed = subsrt.parse(transcriptText(finals, format), { format });
    const captions = parsed.filter((c) => c.type === "caption");
    expect(captions.map((c) => ("text" in c ? c.text : ""))).toEqual(finals.map((c) => c.text));
    expect(captions[2]).toMatchObject({ start: 7250, end: 8250 });
  });

  it("never lets a cue overlap the next or last under a second unless the next begins sooner", () => {
    const [first, second, third] = cues(finals);
    expect(first).toMatchObject({ start: 500, end: 1800 });
    expect(second).toMatchObject({ start: 1800, end: 3100 });
    expect(third.end - third.start).toBe(1000);
  });

  it("never lets a cue start before the one spoken before it, when the earlier segment arrived later", () => {
    const late: Caption[] = [
      { segmentId: "s0-u0", text: "uno", language: "es", start: 9, end: 9 },
      { segmentId: "s8-u0", text: "dos", language: "es", start: 4, end: 4.5 },
      { segmentId: "s9-u0", text: "tres", language: "es", start: 12, end: 12 },
    ];
    const starts = cues(late).map((c) => c.start);
    expect(starts).toEqual([9000, 9001, 12000]);
    cues(late).slice(0, -1).forEach((c, i) => expect(c.end).toBeLessThanOrEqual(starts[i + 1]));
    cues(late).forEach((c) => expect(c.end).toBeGreaterThan(c.start));
  });

  it("starts a WebVTT file with its signature", () => {
    expect(transcriptText(finals, "vtt").startsWith("WEBVTT")).toBe(true);
  });

  const talk = { title: "Puertos --> futuro", presenter: "Ana\nNúñez" };

  it("heads a TXT file with the talk's title and presenter, one line each, then a blank line", () => {
    expect(transcriptText(finals, "txt", talk).split("\n").slice(0, 4)).toEqual([
      "Title: Puertos → futuro",
      "Presenter: Ana Núñez",
      "",
      "Buenos días a todos",
    ]);
    expect(transcriptText([], "txt", { presenter: "Ana" })).toBe("Presenter: Ana\n\n");
    expect(headerLines({})).toEqual([]);
  });

  it("carries the title in a WebVTT NOTE that players skip, and keeps SRT to the captions", () => {
    const vtt = transcriptText(finals, "vtt", talk);
    expect(vtt.startsWith("WEBVTT\r\n\r\nNOTE\r\nTitle: Puertos → futuro\r\nPresenter: Ana Núñez\r\n\r\n1\r\n")).toBe(true);
    const parsed = subsrt.parse(vtt, { format: "vtt" }).filter((c) => c.type === "caption");
    expect(parsed.map((c) => ("text" in c ? c.text : ""))).toEqual(finals.map((c) => c.text));
    expect(transcriptText(finals, "srt", talk)).toBe(transcriptText(finals, "srt"));
  });
});
