// Keeps the screen on while a page is listening or showing captions (Screen Wake Lock API, where the browser
// has it). The browser releases the lock when the page is hidden; it is asked for again when the page shows.

interface WakeLockSentinelLike {
  released: boolean;
  release(): Promise<void>;
}
export interface WakeLockLike {
  request(type: "screen"): Promise<WakeLockSentinelLike>;
}

export type WakeState = "unsupported" | "held" | "refused" | "released";

export class ScreenWake {
  private sentinel: WakeLockSentinelLike | null = null;
  private wanted = false;
  state: WakeState;

  constructor(
    private readonly wakeLock: WakeLockLike | undefined,
    private readonly isVisible: () => boolean,
    private readonly onState: (state: WakeState) => void = () => {},
  ) {
    this.state = wakeLock ? "released" : "unsupported";
  }

  /** The browser's wake lock, if it has one (feature detection). */
  static forPage(onState?: (state: WakeState) => void): ScreenWake {
    const wakeLock = "wakeLock" in navigator ? (navigator.wakeLock as WakeLockLike) : undefined;
    const wake = new ScreenWake(wakeLock, () => document.visibilityState === "visible", onState);
    document.addEventListener("visibilitychange", () => void wake.resume());
    return wake;
  }

  async keepOn(): Promise<void> {
    this.wanted = true;
    await this.resume();
  }

  async letGo(): Promise<void> {
    this.wanted = false;
    const sentinel = this.sentinel;
    this.sentinel = null;
    await sentinel?.release();
    if (this.wakeLock) this.set("released");
  }

  /** Asks again after the page was hidden (the browser let the lock go then). */
  async resume(): Promise<void> {
    if (!this.wakeLock || !this.wanted || !this.isVisible()) return;
    if (this.sentinel && !this.sentinel.released) return;
    try {
      const sentinel = await this.wakeLock.request("screen");
      if (!this.wanted) {
        await sentinel.release(); // let go while the request was on its way
        return;
      }
      this.sentinel = sentinel;
      this.set("held");
    } catch {
      // Refused (battery saver, a page not allowed to): the page works; the screen may sleep.
      this.sentinel = null;
      this.set("refused");
    }
  }

  private set(state: WakeState): void {
    this.state = state;
    this.onState(state);
  }
}
