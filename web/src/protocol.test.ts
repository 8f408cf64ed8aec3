import { describe, expect, it } from "vitest";
import {
  SESSION_ID_INPUT_PATTERN,
  SESSION_ID_PATTERN,
  compareSegmentIds,
  connectionUrl,
  errorText,
  parseServerMessage,
} from "./protocol";

describe("protocol", () => {
  it("tells the speaker plainly that the deployment carries its maximum of talks", () => {
    const refused = {
      type: "error" as const,
      code: "CAPACITY_REACHED",
      message: "This deployment is carrying its maximum of 8 talks; try again when one ends",
      action: "createSession",
      details: { maxConcurrentTalks: 8 },
    };
    expect(errorText(refused)).toBe("This deployment is carrying its maximum of 8 talks; try again when one ends.");
    expect(errorText({ type: "error", code: "RATE_LIMITED", message: "slow down" })).toBe("RATE_LIMITED: slow down");
  });

  it("tells the speaker plainly that captions wait for a Transcribe stream, and that the audio is kept", () => {
    const throttled = { type: "error" as const, code: "TRANSCRIPTION_THROTTLED", message: "…", action: "sendAudio" };
    expect(errorText(throttled)).toMatch(/^Captions are delayed: .*concurrent streams\..*audio is kept/);
  });

  it("connects a speaker with its token and a listener without one", () => {
    expect(connectionUrl("ws://127.0.0.1:8765/local", "speaker", "a.b.c")).toBe(
      "ws://127.0.0.1:8765/local?role=speaker&token=a.b.c",
    );
    expect(connectionUrl("wss://x.example/prod", "listener", "ignored")).toBe("wss://x.example/prod?role=listener");
  });

  it("orders segment ids as spoken, number by number", () => {
    const ids = ["s120-u0", "s0-u10", "s0-u2", "s8-u0"];
    expect([...ids].sort(compareSegmentIds)).toEqual(["s0-u2", "s0-u10", "s8-u0", "s120-u0"]);
  });

  it("reads server messages and API Gateway's own answers, and ignores what is neither", () => {
    expect(parseServerMessage('{"type": "heartbeatAck", "timestamp": 1}')).toEqual({ type: "heartbeatAck", timestamp: 1 });
    expect(parseServerMessage('{"message": "Forbidden", "connectionId": "x"}')).toEqual({
      type: "gatewayAnswer",
      message: "Forbidden",
    });
    expect(parseServerMessage("not json")).toBeNull();
    expect(parseServerMessage("[1]")).toBeNull();
  });
});

describe("SESSION_ID_PATTERN", () => {
  it("accepts the ids createSession issues and refuses what joinSession refuses", () => {
    expect(SESSION_ID_PATTERN.test("golden-eagle-misty-otter-4271")).toBe(true);
    expect(SESSION_ID_PATTERN.test("golden-eagle-427")).toBe(true);
    expect(SESSION_ID_PATTERN.test("golden-eagle-٤٢٧")).toBe(false);
    expect(SESSION_ID_PATTERN.test("Golden-Eagle-4271")).toBe(false);
  });

  it("is the listener form's input pattern, as browsers compile one", () => {
    const asBrowsersDo = new RegExp(`^(?:${SESSION_ID_INPUT_PATTERN})$`, "v");
    for (const id of ["golden-eagle-misty-otter-4271", "golden-eagle-427", "golden-eagle-٤٢٧", "Golden-Eagle-4271", "x-4271"]) {
      expect(asBrowsersDo.test(id)).toBe(SESSION_ID_PATTERN.test(id));
    }
  });
});
