import { afterEach, beforeEach, vi } from "vitest";

// A WebSocket the unit tests open, accept, feed and drop by hand (stubbed in as the global WebSocket).
export class FakeSocket {
  static OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  accept() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

/** The actions a fake socket was sent, parsed. */
export const sentActions = (socket: FakeSocket | undefined) => (socket?.sent ?? []).map((data) => JSON.parse(data));

/** Every test of the calling `describe` runs on fake timers with FakeSocket as the global WebSocket. */
export function useFakeSockets(): void {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
}
