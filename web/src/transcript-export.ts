// The transcript received so far as TXT, SRT and WebVTT (subsrt-ts writes the subtitle formats).
import subsrt from "subsrt-ts";
import type { ContentCaption } from "subsrt-ts/dist/types/handler";
import type { Caption } from "./captions";
import { saveFile } from "./dom";
import type { TalkTitle } from "./protocol";

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

/**
 * The talk's title and presenter as a file's header lines, `Title: …` and `Presenter: …` (only those given): one
 * line each, and never a WebVTT cue arrow (`-->` ends a NOTE).
 */
export function headerLines(talk: TalkTitle): string[] {
  const oneLine = (text: string) => text.replace(/\s+/g, " ").replaceAll("-->", "→").trim();
  return [
    ...(talk.title ? [`Title: ${oneLine(talk.title)}`] : []),
    ...(talk.presenter ? [`Presenter: ${oneLine(talk.presenter)}`] : []),
  ];
}

/**
 * The file: TXT opens with the header lines and a blank line; WebVTT carries them in a NOTE block after its
 * signature (players do not show it); SRT has no header at all (any text there would be a cue on screen), so it
 * holds the captions only.
 */
export function transcriptText(finals: Caption[], format: ExportFormat, talk: TalkTitle = {}): string {
  const header = headerLines(talk);
  if (format === "txt") {
    const lines = [...(header.length ? [...header, ""] : []), ...finals.map((c) => c.text)];
    return lines.join("\n") + (lines.length ? "\n" : "");
  }
  const body = subsrt.build(cues(finals), { format });
  if (format !== "vtt" || !header.length) return body;
  return body.replace(/^WEBVTT\r?\n/, (signature) => `${signature}\r\nNOTE\r\n${header.join("\r\n")}\r\n`);
}

/** Offers the transcript as a file download named `<session>-<language>.<format>`, headed by the talk's title. */
export function downloadTranscript(finals: Caption[], format: ExportFormat, name: string, talk: TalkTitle = {}): void {
  saveFile(transcriptText(finals, format, talk), MIME[format], `${name}.${format}`);
}
