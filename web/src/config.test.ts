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

  it("reads the hosted UI sign-in settings Terraform writes", async () => {
    const signIn = {
      mode: "cognito",
      hostedUiUrl: "https://speech-broadcast-dev.auth.eu-west-1.amazoncognito.com",
      clientId: "4example0client0id",
      scope: "openid email",
      redirectUri: "https://d111111abcdef8.cloudfront.net/speaker.html",
    };
    const config = await loadConfig(answer({ webSocketUrl: "wss://abc.execute-api.eu-west-1.amazonaws.com/dev", signIn }));
    expect(config.signIn).toEqual(signIn);
  });

  it("refuses hosted UI settings without a client or an https hosted UI", async () => {
    const url = "wss://abc.execute-api.eu-west-1.amazonaws.com/dev";
    const signIn = { mode: "cognito", hostedUiUrl: "https://x.auth.eu-west-1.amazoncognito.com", redirectUri: "https://d/speaker.html" };
    await expect(loadConfig(answer({ webSocketUrl: url, signIn }))).rejects.toThrow(/clientId/);
    await expect(
      loadConfig(answer({ webSocketUrl: url, signIn: { ...signIn, clientId: "c", hostedUiUrl: "http://x" } })),
    ).rejects.toThrow(/hostedUiUrl/);
    await expect(loadConfig(answer({ webSocketUrl: url, signIn: { mode: "password" } }))).rejects.toThrow(/signIn.mode/);
  });

  it("takes the speaker token from the fragment", () => {
    expect(tokenFromFragment("#token=abc.def.ghi")).toBe("abc.def.ghi");
    expect(tokenFromFragment("")).toBeNull();
  });

  it("links the listener page beside the speaker page, on the session", () => {
    expect(listenerLink("http://127.0.0.1:8765/speaker.html#token=x", "golden-eagle-427")).toBe(
      "http://127.0.0.1:8765/listener.html?session=golden-eagle-427",
    );
    const link = listenerLink("http://127.0.0.1:8765/speaker.html", "golden-eagle-427", "blue harbour&42");
    expect(link).toBe("http://127.0.0.1:8765/listener.html?session=golden-eagle-427&passcode=blue+harbour%2642");
    expect(new URL(link).searchParams.get("passcode")).toBe("blue harbour&42");
  });
});
