// Translated speech: a final's pieces (chunkIndex) put together, segments played one at a time, in spoken
// order, never overlapping; a local volume and mute that only this listener hears.
import { compareSegmentIds, type SpeechAudio } from "./protocol";

/** Plays one clip and resolves when it has ended (or failed: one bad clip never stops the queue). */
export type Player = (clip: Blob, volume: number) => Promise<void>;

export const playWithAudioElement: Player = (clip, volume) =>
  new Promise((resolve) => {
    const url = URL.createObjectURL(clip);
    const audio = new Audio(url);
    audio.volume = volume;
    const done = () => {
      URL.revokeObjectURL(url);
      resolve();
    };
    audio.onended = done;
    audio.onerror = done;
    audio.play().catch(done);
  });

function decodeBase64(data: string): Uint8Array<ArrayBuffer> {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export class SpeechQueue {
  private readonly pieces = new Map<string, Map<number, SpeechAudio>>();
  private readonly ready = new Map<string, Blob>();
  private readonly done = new Set<string>();
  private playing = false;
  volume = 1;
  muted = false;

  constructor(
    private readonly player: Player = playWithAudioElement,
    private readonly onPlayed: (segmentId: string) => void = () => {},
  ) {}

  /** A piece of a segment's speech (from a `translation` final or an `audio` message). */
  add(segmentId: string, audio: SpeechAudio): void {
    if (this.done.has(segmentId) || this.ready.has(segmentId)) return;
    const pieces = this.pieces.get(segmentId) ?? new Map<number, SpeechAudio>();
    pieces.set(audio.chunkIndex, audio);
    this.pieces.set(segmentId, pieces);
    const last = [...pieces.values()].find((p) => p.final);
    if (!last) return;
    const ordered = [...Array(last.chunkIndex + 1).keys()].map((i) => pieces.get(i));
    if (ordered.some((p) => p === undefined)) return;
    this.pieces.delete(segmentId);
    this.ready.set(segmentId, new Blob(ordered.map((p) => decodeBase64(p!.data)), { type: last.format }));
    void this.next();
  }

  get pending(): number {
    return this.ready.size;
  }

  private async next(): Promise<void> {
    if (this.playing) return;
    this.playing = true;
    try {
      while (this.ready.size > 0) {
        const [segmentId] = [...this.ready.keys()].sort(compareSegmentIds);
        const clip = this.ready.get(segmentId)!;
        this.ready.delete(segmentId);
        this.done.add(segmentId);
        if (this.muted) continue; // muted here: the speech is skipped, not saved up for later
        await this.player(clip, this.volume);
        this.onPlayed(segmentId);
      }
    } finally {
      this.playing = false;
    }
  }
}
