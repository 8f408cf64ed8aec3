import { describe, expect, it } from "vitest";
import type { Action, ServerMessage } from "./protocol";
import { ReadAbandoned, TranscriptReader } from "./transcript-pages";

const page = (language: string, ids: string[], nextToken?: string): ServerMessage => ({
  type: "transcriptPage",
  sessionId: "golden-eagle-misty-otter-4271",
  language,
  segments: ids.map((id, i) => ({ segmentId: id, text: `${language} ${id}`, startTime: i * 2, endTime: i * 2 + 1.5, translated: true })),
  ...(nextToken ? { nextToken } : {}),
});

function reader(connected = true) {
  const sent: Action[] = [];
  return { sent, reader: new TranscriptReader((action) => (sent.push(action), connected)) };
}

describe("TranscriptReader", () => {
  it("follows nextToken until the last page and gives every final once, in order, with its audio times", async () => {
    const { sent, reader: r } = reader();
    const read = r.read("fr");
    expect(r.handle(page("fr", ["s0-u0", "s0-u1"], "000000002000#s0-u1"))).toBe(true);
    expect(r.handle(page("fr", ["s0-u2"]))).toBe(true);
    const finals = await read;
    expect(finals.map((f) => f.segmentId)).toEqual(["s0-u0", "s0-u1", "s0-u2"]);
    expect(finals[1]).toMatchObject({ language: "fr", start: 2, end: 3.5, text: "fr s0-u1" });
    expect(sent).toEqual([
      { action: "getTranscript", language: "fr" },
      { action: "getTranscript", language: "fr", nextToken: "000000002000#s0-u1" },
    ]);
  });

  it("asks for the connection's own language when none is named", () => {
    const { sent, reader: r } = reader();
    void r.read();
    expect(sent).toEqual([{ action: "getTranscript" }]);
  });

  it("reads one language at a time, the next after the first is complete", async () => {
    const { sent, reader: r } = reader();
    const es = r.read("es");
    const fr = r.read("fr");
    expect(sent).toHaveLength(1);
    r.handle(page("es", ["s0-u0"]));
    expect(sent[1]).toEqual({ action: "getTranscript", language: "fr" });
    r.handle(page("fr", ["s0-u0", "s0-u1"]));
    expect((await es).map((f) => f.text)).toEqual(["es s0-u0"]);
    expect((await fr).map((f) => f.text)).toEqual(["fr s0-u0", "fr s0-u1"]);
  });

  it("fails a read the server refuses, and leaves other errors to the page", async () => {
    const { reader: r } = reader();
    const read = r.read("de");
    expect(r.handle({ type: "error", code: "RATE_LIMITED", message: "slow down", action: "heartbeat" })).toBe(false);
    expect(r.handle({ type: "error", code: "FORBIDDEN", message: "not yours", action: "getTranscript" })).toBe(true);
    await expect(read).rejects.toThrow("FORBIDDEN: not yours");
  });

  it("gives up reads in flight when the connection drops, and ignores pages nobody asked for", async () => {
    const { reader: r } = reader();
    const read = r.read();
    r.abandon("dropped");
    await expect(read).rejects.toBeInstanceOf(ReadAbandoned);
    expect(r.handle(page("es", ["s0-u0"]))).toBe(false);
  });

  it("fails at once when nothing can be sent", async () => {
    const { reader: r } = reader(false);
    await expect(r.read("es")).rejects.toThrow("not connected");
  });
});
