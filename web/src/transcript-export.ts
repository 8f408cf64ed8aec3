// The transcript received so far as TXT, SRT and WebVTT (subsrt-ts writes the subtitle formats).
import subsrt from "subsrt-ts";
import type { ContentCaption } from "subsrt-ts/dist/types/handler";
import type { Caption } from "./captions";
import { saveFile } from "./dom";

export type ExportFormat = "txt" | "srt" | "vtt";

const MIME: Record<ExportFormat, string> = { txt: "text/plain", srt: "application/x-subrip", vtt: "text/vtt" };

/**
 * Cues in spoken order with start times that never go backwards (a segment can arrive after one spoken later:
 * it starts just after the cue before it), each at least a second long and never overlapping the next.
 */
export function cues(finals: Caption[]): ContentCaption[] {
  const starts: number[] = [];
  finals.forEach((caption, i) => starts.push(Math.max(Math.round(caption.start * 1000), i ? starts[i - 1] + 1 : 0)));
  return finals.map((caption, i): ContentCaption => {
    const start = starts[i];
    let end = Math.max(Math.round(caption.end * 1000), start + 1000);
    if (i + 1 < finals.length) end = Math.max(start + 1, Math.min(end, starts[i + 1]));
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
  saveFile(transcriptText(finals, format), MIME[format], `${name}.${format}`);
}
