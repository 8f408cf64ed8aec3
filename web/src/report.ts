// The report after the talk (the `sessionReport` message): its figures, a chart of listeners over time per
// language (inline SVG), and its JSON and CSV downloads.
import type { SessionReport } from "./protocol";

const SVG = "http://www.w3.org/2000/svg";
/** Line colours per language, in the order languages appear in the legend (distinct in light and dark). */
const COLOURS = ["#2557d6", "#d04a02", "#1a7f37", "#8250df", "#b3261e", "#0a7b83", "#9a6700", "#bf3989"];

export function formatDuration(seconds: number): string {
  const s = Math.max(Math.round(seconds), 0);
  const [h, m, rest] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(rest)}` : `${m}:${pad(rest)}`;
}

/** Each language's listeners, largest first: `es 2 · fr 1`. */
export function languageMix(counts: Record<string, number>): string {
  const mix = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return mix.length ? mix.map(([code, n]) => `${code} ${n}`).join(" · ") : "none";
}

/** The report's figures as the page shows them, by the id of the element each goes in. */
export function reportFigures(report: SessionReport): Record<string, string> {
  const usage = report.usage;
  const count = (value: number) => value.toLocaleString("en");
  return {
    "report-duration": formatDuration(report.durationSeconds),
    "report-peak": String(report.peakListeners),
    "report-languages": languageMix(report.peakListenersByLanguage),
    "report-audio": `${(report.audioSeconds / 60).toFixed(1)} min`,
    "report-translated": count(usage.translatedCharacters),
    "report-spoken": count(usage.spokenCharacters),
    "report-messages": count(usage.messagesSent),
    "report-cost": `$${report.estimatedCostUsd.toFixed(2)}`,
  };
}

/** The report as a JSON file: what the server sent. */
export function reportJson(report: SessionReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** One CSV field, quoted as RFC 4180 says when it holds a comma, a quote or a line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows of fields as RFC 4180 CSV: CRLF after every row. */
export function csv(rows: (string | number)[][]): string {
  return rows.map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

/**
 * The report as one CSV table, a figure a row (`metric,language,minute,value`): the totals (language and minute
 * empty), each language's peak, then the listeners of every sample (all, then per language).
 */
export function reportCsv(report: SessionReport): string {
  const usage = report.usage;
  const rows: (string | number)[][] = [
    ["metric", "language", "minute", "value"],
    ["sessionId", "", "", report.sessionId],
    ["sourceLanguage", "", "", report.sourceLanguage],
    ["startedAt", "", "", new Date(report.startedAt * 1000).toISOString()],
    ["endedAt", "", "", new Date(report.endedAt * 1000).toISOString()],
    ["durationSeconds", "", "", report.durationSeconds],
    ["audioSeconds", "", "", report.audioSeconds],
    ["peakListeners", "", "", report.peakListeners],
    ...Object.entries(report.peakListenersByLanguage).map(([code, n]) => ["peakListeners", code, "", n]),
    ["recognisedAudioSeconds", "", "", usage.audioSeconds],
    ["translatedCharacters", "", "", usage.translatedCharacters],
    ["spokenCharacters", "", "", usage.spokenCharacters],
    ["messagesSent", "", "", usage.messagesSent],
    ["estimatedCostUsd", "", "", report.estimatedCostUsd],
  ];
  for (const sample of report.listenersOverTime) {
    rows.push(["listeners", "", sample.minute, sample.listeners]);
    for (const [code, n] of Object.entries(sample.languages)) rows.push(["listeners", code, sample.minute, n]);
  }
  return csv(rows);
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/**
 * Listeners over time, one line per language (a dot at each sample), minutes from the start along the bottom and
 * the largest count up the side; its legend names each language with its peak.
 */
export function listenersChart(report: SessionReport): SVGSVGElement {
  const [width, height, left, right, top, bottom] = [600, 220, 36, 12, 12, 28];
  const samples = report.listenersOverTime;
  const languages = Object.keys(report.peakListenersByLanguage);
  const span = Math.max(report.durationSeconds, ...samples.map((s) => s.at), 60);
  const most = Math.max(report.peakListeners, 1);
  const x = (at: number) => left + (at / span) * (width - left - right);
  const y = (n: number) => top + (1 - n / most) * (height - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  chart.setAttribute("aria-label", `Listeners over time per language: ${languageMix(report.peakListenersByLanguage)} at most`);
  chart.append(
    svg("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), class: "axis" }),
    svg("line", { x1: left, y1: top, x2: left, y2: y(0), class: "axis" }),
  );
  const label = (text: string, attributes: Record<string, string | number>) => {
    const element = svg("text", attributes);
    element.textContent = text;
    chart.append(element);
  };
  label(String(most), { x: left - 6, y: y(most) + 4, "text-anchor": "end" });
  label("0", { x: left - 6, y: y(0) + 4, "text-anchor": "end" });
  label("0 min", { x: left, y: height - 8, "text-anchor": "start" });
  label(`${Math.round(span / 60)} min`, { x: width - right, y: height - 8, "text-anchor": "end" });
  languages.forEach((code, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = samples.map((s) => [x(s.at), y(s.languages[code] ?? 0)] as const);
    const line = svg("polyline", { points: points.map((p) => p.join(",")).join(" "), stroke: colour, class: "series" });
    line.dataset.language = code;
    chart.append(line);
    for (const [cx, cy] of points) chart.append(svg("circle", { cx, cy, r: 3.5, fill: colour }));
  });
  return chart;
}

/** The legend under the chart: each language's colour, code and peak. */
export function chartLegend(report: SessionReport): HTMLUListElement {
  const legend = document.createElement("ul");
  legend.className = "legend";
  Object.entries(report.peakListenersByLanguage).forEach(([code, peak], i) => {
    const item = document.createElement("li");
    item.style.setProperty("--series", COLOURS[i % COLOURS.length]);
    item.textContent = `${code}: ${peak} at most`;
    legend.append(item);
  });
  return legend;
}
