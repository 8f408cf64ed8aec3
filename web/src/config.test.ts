import { describe, expect, it } from "vitest";
import { listenerLink, loadConfig, tokenFromFragment } from "./config";

const answer = (body: unknown, status = 200) =>
  (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

describe("config", () => {
  it("reads the WebSocket URL from config.json", async () => {
    const config = await loadConfig(answer({ webSocketUrl: "ws://127.0.0.1:8765/local" }));
    expect(config.webSocketUrl).toBe("ws://127.0.0.1:8765/local");
    expect(config.signIn.mode).toBe("urlFragment");
  });

  it("refuses a config.json without a WebSocket URL", async () => {
    await expect(loadConfig(answer({ webSocketUrl: "http://x" }))).rejects.toThrow(/webSocketUrl/);
    await expect(loadConfig(answer({}, 404))).rejects.toThrow(/404/);
  });

  it("takes the speaker token from the fragment", () => {
    expect(tokenFromFragment("#token=abc.def.ghi")).toBe("abc.def.ghi");
    expect(tokenFromFragment("")).toBeNull();
  });

  it("links the listener page beside the speaker page, on the session", () => {
    expect(listenerLink("http://127.0.0.1:8765/speaker.html#token=x", "golden-eagle-427")).toBe(
      "http://127.0.0.1:8765/listener.html?session=golden-eagle-427",
    );
  });
});
