// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import type { SessionReport } from "./protocol";
import {
  csv,
  csvField,
  formatDuration,
  listenersChart,
  reportCsv,
  reportFigures,
  reportJson,
} from "./report";

const report: SessionReport = {
  type: "sessionReport",
  sessionId: "golden-eagle-misty-otter-4271",
  sourceLanguage: "en",
  startedAt: 1795394987,
  endedAt: 1795395152,
  durationSeconds: 165,
  audioSeconds: 150.4,
  peakListeners: 3,
  peakListenersByLanguage: { es: 2, fr: 1 },
  listenersOverTime: [
    { minute: 0, at: 12.5, listeners: 3, languages: { es: 2, fr: 1 } },
    { minute: 2, at: 150, listeners: 1, languages: { es: 1 } },
  ],
  usage: { audioSeconds: 150, translatedCharacters: 12345, spokenCharacters: 12000, messagesSent: 40 },
  estimatedCostUsd: 0.456,
};

/** RFC 4180 read back: fields, quoted or not, rows ending in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") row.push(field), (field = "");
    else if (char === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), i++;
    else field += char;
  }
  return rows;
}

describe("the report after the talk", () => {
  it("shows the figures", () => {
    expect(reportFigures(report)).toEqual({
      "report-duration": "2:45",
      "report-peak": "3",
      "report-languages": "es 2 · fr 1",
      "report-audio": "2.5 min",
      "report-translated": "12,345",
      "report-spoken": "12,000",
      "report-messages": "40",
      "report-cost": "$0.46",
    });
    expect(formatDuration(3725)).toBe("1:02:05");
  });

  it("downloads as JSON: what the server sent", () => {
    const parsed = JSON.parse(reportJson(report));
    expect(parsed).toEqual(report);
  });

  it("quotes CSV fields as RFC 4180 says", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField(3.5)).toBe("3.5");
    expect(csvField('say "hi", then')).toBe('"say ""hi"", then"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    const rows = [["a", 'b"c', "d,e"], ["line\r\nbreak", "", "f"]];
    expect(csv(rows)).toBe('a,"b""c","d,e"\r\n"line\r\nbreak",,f\r\n');
    expect(parseCsv(csv(rows))).toEqual(rows);
  });

  it("downloads as CSV holding the peaks and every sample per language", () => {
    const rows = parseCsv(reportCsv(report));
    expect(rows[0]).toEqual(["metric", "language", "minute", "value"]);
    expect(rows.every((row) => row.length === 4)).toBe(true);
    const value = (metric: string, language = "", minute = "") =>
      rows.find((r) => r[0] === metric && r[1] === language && r[2] === minute)?.[3];
    expect(value("peakListeners")).toBe("3");
    expect(value("peakListeners", "es")).toBe("2");
    expect(value("peakListeners", "fr")).toBe("1");
    expect(value("durationSeconds")).toBe("165");
    expect(value("translatedCharacters")).toBe("12345");
    expect(value("estimatedCostUsd")).toBe("0.456");
    expect(value("listeners", "", "0")).toBe("3");
    expect(value("listeners", "fr", "0")).toBe("1");
    expect(value("listeners", "es", "2")).toBe("1");
    expect(value("startedAt")).toBe("2026-11-23T00:49:47.000Z");
  });

  it("draws one line per language through its samples, scaled to the peak", () => {
    const chart = listenersChart(report);
    const lines = [...chart.querySelectorAll("polyline")];
    expect(lines.map((line) => line.dataset.language)).toEqual(["es", "fr"]);
    const ys = (line: SVGPolylineElement) => line.getAttribute("points")!.split(" ").map((p) => Number(p.split(",")[1]));
    const [es, fr] = lines.map(ys);
    // es: 2 then 1; fr: 1 then 0 (absent from the second sample); the top of the chart is the peak, 3.
    expect(es[0]).toBeLessThan(es[1]);
    expect(fr[1]).toBeGreaterThan(fr[0]);
    expect(es[1]).toBeCloseTo(fr[0]);
    expect(chart.querySelectorAll("circle")).toHaveLength(4);
    expect(chart.getAttribute("aria-label")).toContain("es 2 · fr 1");
  });
});
