import { describe, expect, it } from "vitest";
import {
  authorizeUrl,
  beginSignIn,
  codeChallenge,
  type CognitoSignIn,
  completeSignIn,
  type KeyValueStore,
  SignInError,
  storedToken,
} from "./sign-in";

const settings: CognitoSignIn = {
  mode: "cognito",
  hostedUiUrl: "https://speech-broadcast-dev.auth.eu-west-1.amazoncognito.com",
  clientId: "4example0client0id",
  redirectUri: "https://d111111abcdef8.cloudfront.net/speaker.html",
  scope: "openid email",
};

function memoryStore(): KeyValueStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

type Exchange = { url: string; body: URLSearchParams };

function tokenEndpoint(answer: unknown, status = 200): { fetch: typeof fetch; calls: Exchange[] } {
  const calls: Exchange[] = [];
  const fake = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), body: new URLSearchParams(String(init?.body)) });
    return new Response(JSON.stringify(answer), { status });
  };
  return { fetch: fake as typeof fetch, calls };
}

/** Begins a sign-in and returns the redirect back the hosted UI would send, with the state it was given. */
async function signInRedirect(storage: KeyValueStore, state?: string): Promise<string> {
  const authorize = new URL(await beginSignIn(settings, storage));
  return `${settings.redirectUri}?code=the-code&state=${state ?? authorize.searchParams.get("state")}`;
}

describe("sign-in with PKCE", () => {
  it("derives the S256 challenge of RFC 7636's example verifier", async () => {
    expect(await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("asks the hosted UI for a code, with the client, redirect, scope, state and S256 challenge", () => {
    const url = new URL(authorizeUrl(settings, "the-state", "the-challenge"));
    expect(url.origin + url.pathname).toBe(`${settings.hostedUiUrl}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: settings.clientId,
      redirect_uri: settings.redirectUri,
      scope: "openid email",
      state: "the-state",
      code_challenge: "the-challenge",
      code_challenge_method: "S256",
    });
  });

  it("sends a fresh verifier whose challenge went to the hosted UI, and keeps the ID token", async () => {
    const storage = memoryStore();
    const authorize = new URL(await beginSignIn(settings, storage));
    const back = `${settings.redirectUri}?code=the-code&state=${authorize.searchParams.get("state")}`;
    const endpoint = tokenEndpoint({ id_token: "id.token.jwt", access_token: "a", expires_in: 3600 });

    expect(await completeSignIn(settings, back, storage, endpoint.fetch, 1_000)).toBe("id.token.jwt");

    const [{ url, body }] = endpoint.calls;
    expect(url).toBe(`${settings.hostedUiUrl}/oauth2/token`);
    expect(body.get("grant_type")).toBe("authorization_code");
    expect(body.get("code")).toBe("the-code");
    expect(body.get("client_id")).toBe(settings.clientId);
    expect(body.get("redirect_uri")).toBe(settings.redirectUri);
    const verifier = body.get("code_verifier") ?? "";
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await codeChallenge(verifier)).toBe(authorize.searchParams.get("code_challenge"));
    expect(storedToken(storage, 1_000)).toBe("id.token.jwt");
    expect(storedToken(storage, 1_000 + 3600_000 - 30_000)).toBeNull();
  });

  it("rejects a redirect whose state is not the one this tab began with, without exchanging the code", async () => {
    const storage = memoryStore();
    const back = await signInRedirect(storage, "someone-elses-state");
    const endpoint = tokenEndpoint({ id_token: "id.token.jwt" });
    await expect(completeSignIn(settings, back, storage, endpoint.fetch)).rejects.toBeInstanceOf(SignInError);
    expect(endpoint.calls).toHaveLength(0);
    expect(storedToken(storage)).toBeNull();
  });

  it("rejects a code when this tab began no sign-in", async () => {
    const endpoint = tokenEndpoint({ id_token: "id.token.jwt" });
    const back = `${settings.redirectUri}?code=the-code&state=any`;
    await expect(completeSignIn(settings, back, memoryStore(), endpoint.fetch)).rejects.toThrow(/does not belong/);
    expect(endpoint.calls).toHaveLength(0);
  });

  it("reports a refused exchange and the hosted UI's own errors", async () => {
    const storage = memoryStore();
    const back = await signInRedirect(storage);
    await expect(
      completeSignIn(settings, back, storage, tokenEndpoint({ error: "invalid_grant" }, 400).fetch),
    ).rejects.toThrow(/invalid_grant/);
    const denied = `${settings.redirectUri}?error=access_denied&error_description=User+is+disabled`;
    await expect(completeSignIn(settings, denied, storage)).rejects.toThrow(/User is disabled/);
  });

  it("does nothing on a page without a code", async () => {
    expect(await completeSignIn(settings, settings.redirectUri, memoryStore())).toBeNull();
  });
});
