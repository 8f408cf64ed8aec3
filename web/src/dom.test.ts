import { describe, expect, it } from "vitest";
import { describeState } from "./dom";

describe("describeState", () => {
  const live = { isPaused: false, isMuted: false, volume: 1 };

  it("says the talk is live, muted or paused", () => {
    expect(describeState(live)).toBe("live");
    expect(describeState({ ...live, isMuted: true })).toBe("muted (captions only)");
    expect(describeState({ ...live, isPaused: true, isMuted: true })).toBe("paused");
  });

  it("says captions are delayed while speech recognition holds them back, and that they follow", () => {
    expect(describeState({ ...live, captionsDelayed: true })).toBe(
      "live · captions delayed: speech recognition is busy, they follow in order",
    );
    expect(describeState({ ...live, isMuted: true, captionsDelayed: true })).toMatch(/^muted .* captions delayed/);
    expect(describeState({ ...live, isPaused: true, captionsDelayed: true })).toBe("paused");
  });
});
