import { describe, expect, it } from "vitest";
import { SpeechQueue } from "./playback";

const piece = (data: string, chunkIndex = 0, final = true) => ({
  format: "audio/ogg",
  data: btoa(data),
  chunkIndex,
  final,
});

/** A player whose clips end only when the test says so, recording what overlapped. */
function controlledPlayer() {
  const started: string[] = [];
  const finish: (() => void)[] = [];
  let active = 0;
  let maxActive = 0;
  const player = async (clip: Blob) => {
    started.push(await clip.text());
    active += 1;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((resolve) => finish.push(resolve));
    active -= 1;
  };
  return { player, started, finish, maxActive: () => maxActive };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SpeechQueue", () => {
  it("plays one segment at a time, the earliest spoken first", async () => {
    const p = controlledPlayer();
    const played: string[] = [];
    const queue = new SpeechQueue(p.player, (id) => played.push(id));
    queue.add("s0-u0", piece("one"));
    queue.add("s9-u0", piece("three"));
    queue.add("s4-u0", piece("two"));
    await settle();
    expect(p.started).toEqual(["one"]);
    p.finish.shift()!();
    await settle();
    p.finish.shift()!();
    await settle();
    p.finish.shift()!();
    await settle();
    expect(p.started).toEqual(["one", "two", "three"]);
    expect(played).toEqual(["s0-u0", "s4-u0", "s9-u0"]);
    expect(p.maxActive()).toBe(1);
  });

  it("waits for every piece of a segment and plays them joined in chunkIndex order", async () => {
    const p = controlledPlayer();
    const queue = new SpeechQueue(p.player);
    queue.add("s0-u0", piece("-end", 1, true));
    await settle();
    expect(p.started).toEqual([]);
    queue.add("s0-u0", piece("start", 0, false));
    await settle();
    expect(p.started).toEqual(["start-end"]);
  });

  it("skips speech while muted locally and never plays a segment twice", async () => {
    const p = controlledPlayer();
    const queue = new SpeechQueue(p.player);
    queue.muted = true;
    queue.add("s0-u0", piece("muted"));
    await settle();
    queue.muted = false;
    queue.add("s0-u0", piece("muted"));
    queue.add("s1-u0", piece("heard"));
    await settle();
    expect(p.started).toEqual(["heard"]);
  });
});
