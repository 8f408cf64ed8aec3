// The transcript received so far as TXT, SRT and WebVTT (subsrt-ts writes the subtitle formats).
import subsrt from "subsrt-ts";
import type { ContentCaption } from "subsrt-ts/dist/types/handler";
import type { Caption } from "./captions";

export type ExportFormat = "txt" | "srt" | "vtt";

const MIME: Record<ExportFormat, string> = { txt: "text/plain", srt: "application/x-subrip", vtt: "text/vtt" };

/** Cues in order, each at least a second long and never overlapping the next. */
export function cues(finals: Caption[]): ContentCaption[] {
  return finals.map((caption, i): ContentCaption => {
    const start = Math.round(caption.start * 1000);
    const next = finals[i + 1];
    let end = Math.max(Math.round(caption.end * 1000), start + 1000);
    if (next) end = Math.max(start + 1, Math.min(end, Math.round(next.start * 1000)));
    return {
      type: "caption",
      index: i + 1,
      start,
      end,
      duration: end - start,
      content: caption.text,
      text: caption.text,
    };
  });
}

export function transcriptText(finals: Caption[], format: ExportFormat): string {
  if (format === "txt") return finals.map((c) => c.text).join("\n") + (finals.length ? "\n" : "");
  return subsrt.build(cues(finals), { format });
}

/** Offers the transcript as a file download named `<session>-<language>.<format>`. */
export function downloadTranscript(finals: Caption[], format: ExportFormat, name: string): void {
  const blob = new Blob([transcriptText(finals, format)], { type: `${MIME[format]};charset=utf-8` });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${name}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
