import { describe, expect, it } from "vitest";
import { ScreenWake, type WakeLockLike } from "./wake-lock";

/** The Screen Wake Lock API's contract: request("screen") gives a sentinel; the browser releases it when hidden. */
class FakeWakeLock implements WakeLockLike {
  requests = 0;
  refuse = false;
  sentinels: { released: boolean; release(): Promise<void> }[] = [];
  async request(): Promise<{ released: boolean; release(): Promise<void> }> {
    this.requests += 1;
    if (this.refuse) throw new DOMException("not allowed", "NotAllowedError");
    const sentinel = {
      released: false,
      async release() {
        sentinel.released = true;
      },
    };
    this.sentinels.push(sentinel);
    return sentinel;
  }
}

describe("ScreenWake", () => {
  it("does nothing where the browser has no wake lock", async () => {
    const wake = new ScreenWake(undefined, () => true);
    await wake.keepOn();
    expect(wake.state).toBe("unsupported");
  });

  it("holds the lock while listening and lets it go after", async () => {
    const lock = new FakeWakeLock();
    const wake = new ScreenWake(lock, () => true);
    await wake.keepOn();
    expect(wake.state).toBe("held");
    await wake.keepOn();
    expect(lock.requests).toBe(1);
    await wake.letGo();
    expect(wake.state).toBe("released");
    expect(lock.sentinels[0]?.released).toBe(true);
  });

  it("asks again when the page shows after the browser released it, and not while hidden", async () => {
    const lock = new FakeWakeLock();
    let visible = false;
    const wake = new ScreenWake(lock, () => visible);
    await wake.keepOn();
    expect(lock.requests).toBe(0);
    visible = true;
    await wake.resume();
    expect(lock.requests).toBe(1);
    lock.sentinels[0]!.released = true; // hidden: the browser let it go
    await wake.resume();
    expect(lock.requests).toBe(2);
    expect(wake.state).toBe("held");
  });

  it("carries on when the browser refuses", async () => {
    const lock = new FakeWakeLock();
    lock.refuse = true;
    const wake = new ScreenWake(lock, () => true);
    await wake.keepOn();
    expect(wake.state).toBe("refused");
  });
});
