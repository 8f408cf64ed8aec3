import { describe, expect, it, vi } from "vitest";
import { JOIN_RETRY_MS, Listening, type ListeningEvents } from "./listening";
import { FakeSocket, sentActions, useFakeSockets } from "./testing/fake-socket";

const SESSION = "golden-eagle-misty-otter-4271";
const state = { isPaused: false, isMuted: false, volume: 1 };
const joined = { type: "sessionJoined", sessionId: SESSION, targetLanguage: "es", sourceLanguage: "en", broadcastState: state };
const receive = (socket: FakeSocket | undefined, message: object) => socket?.onmessage?.({ data: JSON.stringify(message) });
const piece = { format: "mp3", data: "AAAA", chunkIndex: 0, final: true };

describe("Listening", () => {
  useFakeSockets();

  const listen = (events: Partial<ListeningEvents> = {}) => {
    const listening = new Listening("ws://api/local", SESSION, "es", { onCaptions: () => {}, ...events });
    listening.start();
    FakeSocket.all[0]?.accept();
    return listening;
  };

  it("joins as a listener, then reads the talk so far", () => {
    listen();
    const socket = FakeSocket.all[0];
    expect(socket?.url).toBe("ws://api/local?role=listener");
    receive(socket, joined);
    expect(sentActions(socket)).toEqual([
      { action: "joinSession", sessionId: SESSION, targetLanguage: "es" },
      { action: "getTranscript" },
    ]);
  });

  it("turning captions off joins again without partials on a new connection, then lets the old one go", () => {
    const listening = listen();
    receive(FakeSocket.all[0], joined);
    listening.setCaptions(false);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]?.accept();
    expect(sentActions(FakeSocket.all[1])[0]).toEqual({ action: "joinSession", sessionId: SESSION, targetLanguage: "es", captions: false });
    expect(FakeSocket.all[0]?.readyState).toBe(3);
    listening.setCaptions(false); // no change: no new connection
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("a page that starts with captions off joins without partials", () => {
    new Listening("ws://api/local", SESSION, "es", { onCaptions: () => {} }, undefined, false).start();
    FakeSocket.all[0]?.accept();
    expect(sentActions(FakeSocket.all[0])[0]).toMatchObject({ captions: false });
  });

  it("sends an unanswered join again, and takes the two answers as one join", () => {
    const joins: number[] = [];
    listen({ onJoined: (_, n) => joins.push(n) });
    vi.advanceTimersByTime(JOIN_RETRY_MS);
    const socket = FakeSocket.all[0];
    expect(sentActions(socket).filter((a) => a.action === "joinSession")).toHaveLength(2);
    receive(socket, joined);
    receive(socket, joined); // the server answers a join repeated in the same session again
    expect(joins).toEqual([1]);
    expect(sentActions(socket).filter((a) => a.action === "getTranscript")).toHaveLength(1);
    vi.advanceTimersByTime(JOIN_RETRY_MS);
    expect(sentActions(socket).filter((a) => a.action === "joinSession")).toHaveLength(2);
  });

  it("keeps captions, and hands speech only to a page that plays it", () => {
    const shown: string[][] = [];
    const spoken: string[] = [];
    const onCaptions: ListeningEvents["onCaptions"] = (store) => shown.push(store.orderedFinals.map((c) => c.text));
    listen({ onCaptions, onSpeech: (segmentId) => spoken.push(segmentId) });
    listen({ onCaptions }); // the stage display: no onSpeech
    for (const socket of FakeSocket.all) {
      receive(socket, { type: "translation", sessionId: SESSION, segmentId: "s0-u0", language: "es", text: "hola", isPartial: false, translated: true, audio: piece });
      receive(socket, { type: "audio", sessionId: SESSION, segmentId: "s0-u0", language: "es", ...piece, chunkIndex: 1 });
    }
    expect(shown).toEqual([["hola"], ["hola"]]);
    expect(spoken).toEqual(["s0-u0", "s0-u0"]);
  });

  it("a refused join is reported and closes the connection (no reconnecting to a session that is not there)", () => {
    const problems: [string, boolean][] = [];
    listen({ onProblem: (text, refused) => problems.push([text, refused]) });
    receive(FakeSocket.all[0], { type: "error", code: "SESSION_NOT_FOUND", message: "No such session", action: "joinSession" });
    expect(problems).toEqual([["SESSION_NOT_FOUND: No such session", true]]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("sends a private talk's passcode with the join and every rejoin, and says which code refused it", () => {
    const codes: (string | undefined)[] = [];
    const listening = new Listening("ws://api/local", SESSION, "es", {
      onCaptions: () => {},
      onProblem: (_, refused, code) => refused && codes.push(code),
    }, "harbour-42");
    listening.start();
    FakeSocket.all[0]?.accept();
    receive(FakeSocket.all[0], joined);
    FakeSocket.all[0]?.drop();
    vi.advanceTimersByTime(60_000);
    FakeSocket.all[1]?.accept();
    const joins = FakeSocket.all.flatMap((socket) => sentActions(socket).filter((a) => a.action === "joinSession"));
    expect(joins).toEqual([
      { action: "joinSession", sessionId: SESSION, targetLanguage: "es", passcode: "harbour-42" },
      { action: "joinSession", sessionId: SESSION, targetLanguage: "es", passcode: "harbour-42" },
    ]);
    receive(FakeSocket.all[1], { type: "error", code: "PASSCODE_INCORRECT", message: "wrong", action: "joinSession" });
    expect(codes).toEqual(["PASSCODE_INCORRECT"]);
  });

  it("asks a question and reports its receipt or its refusal, not as a join problem", () => {
    const received: string[] = [];
    const refused: string[] = [];
    const problems: string[] = [];
    const listening = listen({
      onQuestionReceived: (id) => received.push(id),
      onQuestionRefused: (code) => refused.push(code),
      onProblem: (text) => problems.push(text),
    });
    const socket = FakeSocket.all[0];
    receive(socket, joined);
    expect(listening.ask("¿Puede repetir?")).toBe(true);
    expect(sentActions(socket).at(-1)).toEqual({ action: "askQuestion", text: "¿Puede repetir?" });
    receive(socket, { type: "questionReceived", sessionId: SESSION, questionId: "1795395012345-9f3a0c1e" });
    receive(socket, { type: "error", code: "QUESTIONS_CLOSED", message: "closed", action: "askQuestion" });
    expect(received).toEqual(["1795395012345-9f3a0c1e"]);
    expect(refused).toEqual(["QUESTIONS_CLOSED"]);
    expect(problems).toEqual([]);
    expect(socket?.readyState).toBe(1); // a refused question does not close the connection
  });
});
