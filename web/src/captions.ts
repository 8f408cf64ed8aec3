// Captions and transcripts as they arrive: a segment's partial grows in place, its final replaces it once,
// finals are kept in spoken order (by segmentId) with repeats dropped, and a partial after its final is ignored.
import { compareSegmentIds } from "./protocol";

export interface Caption {
  segmentId: string;
  text: string;
  language: string;
  /** Seconds: from the speaker's audio (`startTime`/`endTime`) or, for a listener, when it arrived. */
  start: number;
  end: number;
  /** A final whose speech was wanted but skipped (the speech service throttled past the line's budget). */
  speechSkipped?: boolean;
}

export interface Incoming {
  segmentId: string;
  text: string;
  isPartial: boolean;
  language: string;
  start: number;
  end: number;
  speechSkipped?: boolean;
}

/** The mark a final without its speech carries on the listener page. */
export const SPEECH_SKIPPED = "speech unavailable for this line";

export class CaptionStore {
  private readonly finals = new Map<string, Caption>();
  private readonly partials = new Map<string, Caption>();

  /** True when what is shown changed. */
  apply(message: Incoming): boolean {
    const { segmentId } = message;
    if (this.finals.has(segmentId)) return false; // a repeat, or a partial after its final
    const earlier = this.partials.get(segmentId);
    const caption: Caption = {
      segmentId,
      text: message.text,
      language: message.language,
      start: earlier?.start ?? message.start,
      end: Math.max(message.end, earlier?.start ?? message.start),
      ...(message.speechSkipped && !message.isPartial ? { speechSkipped: true } : {}),
    };
    if (message.isPartial) {
      if (earlier && earlier.text === caption.text) return false;
      this.partials.set(segmentId, caption);
    } else {
      this.partials.delete(segmentId);
      this.finals.set(segmentId, caption);
    }
    return true;
  }

  get orderedFinals(): Caption[] {
    return [...this.finals.values()].sort((a, b) => compareSegmentIds(a.segmentId, b.segmentId));
  }

  /** Segments still being spoken, in order. */
  get openPartials(): Caption[] {
    return [...this.partials.values()].sort((a, b) => compareSegmentIds(a.segmentId, b.segmentId));
  }
}

export interface RenderOptions {
  /**
   * Where the segments still being spoken go, apart from the finals: an element outside the ARIA live
   * region (`aria-hidden`), so a screen reader announces each final once and not every partial. Not given:
   * partials are items of the list, after the finals.
   */
  partial?: HTMLElement;
  /** Only the last `lastFinals` finals are shown (the stage display); all of them when not given. */
  lastFinals?: number;
  /** Finals whose speech was skipped carry a small mark saying so (the listener page, which plays speech). */
  speechMarks?: boolean;
}

/**
 * Shows a store in a list: one item per final segment in spoken order, a partial updated in place until its
 * final replaces it. On the listener page the list is the ARIA live region (role="log").
 */
export function renderCaptions(list: HTMLElement, store: CaptionStore, options: RenderOptions = {}): void {
  const finals = store.orderedFinals;
  const shown = options.lastFinals === undefined ? finals : finals.slice(-options.lastFinals);
  const wanted = shown.map((c) => ({ caption: c, partial: false }));
  if (options.partial) {
    const open = store.openPartials;
    const text = open.map((c) => c.text).join(" ");
    if (options.partial.textContent !== text) options.partial.textContent = text;
    options.partial.lang = open[0]?.language ?? "";
  } else {
    wanted.push(...store.openPartials.map((c) => ({ caption: c, partial: true })));
  }
  const existing = new Map<string, HTMLElement>();
  for (const item of Array.from(list.children) as HTMLElement[]) existing.set(item.dataset.segmentId ?? "", item);
  wanted.forEach(({ caption, partial }, index) => {
    let item = existing.get(caption.segmentId);
    existing.delete(caption.segmentId);
    if (!item) {
      item = document.createElement("li");
      item.dataset.segmentId = caption.segmentId;
    }
    item.className = partial ? "caption partial" : "caption final";
    item.lang = caption.language;
    const mark = options.speechMarks && caption.speechSkipped ? SPEECH_SKIPPED : "";
    const shown = mark ? `${caption.text}\u0000${mark}` : caption.text;
    if (item.dataset.shown !== shown) {
      item.textContent = caption.text;
      if (mark) {
        const note = document.createElement("span");
        note.className = "speech-skipped";
        note.textContent = mark;
        item.append(" ", note);
      }
      item.dataset.shown = shown;
    }
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
  });
  existing.forEach((item) => item.remove());
}
