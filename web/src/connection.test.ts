import { describe, expect, it, vi } from "vitest";
import { BroadcastSocket, HEARTBEAT_MS, backoffDelay } from "./connection";
import { FakeSocket, useFakeSockets } from "./testing/fake-socket";

describe("backoffDelay", () => {
  it("doubles from the first delay up to the ceiling, with jitter", () => {
    expect(backoffDelay(0, 500, 15_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 15_000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 500, 15_000, () => 1)).toBe(15_000);
    expect(backoffDelay(3, 500, 15_000, () => 0)).toBe(2000);
  });
});

describe("BroadcastSocket", () => {
  useFakeSockets();

  const socket = (reconnect: boolean, joined: string[]) =>
    new BroadcastSocket({
      url: () => "ws://api/local?role=listener",
      onOpen: (s) => {
        joined.push("join");
        s.send({ action: "joinSession", sessionId: "golden-eagle-427", targetLanguage: "es" });
      },
      onMessage: () => {},
      reconnect,
      random: () => 1,
      createWebSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    });

  it("reconnects after a drop and joins again", () => {
    const joined: string[] = [];
    socket(true, joined).start();
    FakeSocket.all[0].accept();
    FakeSocket.all[0].drop();
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].accept();
    expect(joined).toEqual(["join", "join"]);
    expect(JSON.parse(FakeSocket.all[1].sent[0])).toEqual({
      action: "joinSession",
      sessionId: "golden-eagle-427",
      targetLanguage: "es",
    });
  });

  it("heartbeats so a listener who only listens is not idle", () => {
    const joined: string[] = [];
    socket(true, joined).start();
    FakeSocket.all[0].accept();
    vi.advanceTimersByTime(HEARTBEAT_MS - 1);
    expect(FakeSocket.all[0].sent.map((s) => JSON.parse(s).action)).toEqual(["joinSession"]);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all[0].sent.map((s) => JSON.parse(s).action)).toEqual(["joinSession", "heartbeat"]);
  });

  it("does not reconnect a speaker, whose session ends with its connection", () => {
    const s = socket(false, []);
    s.start();
    FakeSocket.all[0].accept();
    FakeSocket.all[0].drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(s.state).toBe("closed");
  });

  it("answers connectionRefresh with a new connection and closes the old one only after rejoining", () => {
    const joined: string[] = [];
    socket(true, joined).start();
    FakeSocket.all[0].accept();
    FakeSocket.all[0].onmessage?.({ data: JSON.stringify({ type: "connectionRefresh", secondsRemaining: 300 }) });
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[0].readyState).toBe(1);
    FakeSocket.all[1].accept();
    expect(FakeSocket.all[0].readyState).toBe(3);
    expect(joined).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("reconnects when a refresh's new connection fails and the old one is gone", () => {
    const joined: string[] = [];
    socket(true, joined).start();
    FakeSocket.all[0].accept();
    FakeSocket.all[0].onmessage?.({ data: JSON.stringify({ type: "connectionRefresh", secondsRemaining: 300 }) });
    FakeSocket.all[0].drop();
    FakeSocket.all[1].drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].accept();
    expect(joined).toHaveLength(2);
  });
});
