// Speaker sign-in at the Cognito hosted UI: OAuth 2.0 authorization code with PKCE (RFC 7636, S256).
// The page keeps no secret: the code verifier never leaves the browser until the token exchange, and the state
// ties the redirect back to the sign-in this tab began. The ID token (it carries cognito:groups, which the
// $connect authorizer checks) is kept in sessionStorage: it ends with the tab.

/** The sign-in settings Terraform writes into config.json (infrastructure/main.tf, module "site"). */
export interface CognitoSignIn {
  mode: "cognito";
  /** https://<prefix>.auth.<region>.amazoncognito.com */
  hostedUiUrl: string;
  clientId: string;
  /** The speaker page's URL, registered as the app client's callback URL. */
  redirectUri: string;
  scope: string;
}

/** What sign-in keeps in sessionStorage (the Storage interface, so tests pass their own). */
export type KeyValueStore = Pick<Storage, "getItem" | "setItem" | "removeItem">;

const PENDING_KEY = "broadcast.signIn.pending";
const TOKEN_KEY = "broadcast.signIn.token";
/** A token this close to its expiry is not used: it could expire before $connect checks it. */
const EXPIRY_MARGIN_MS = 60_000;

export class SignInError extends Error {}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random string of `bytes` random bytes, base64url (32 bytes: a 43-character verifier, as RFC 7636 advises). */
export function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The S256 code challenge: BASE64URL(SHA-256(ASCII(code_verifier))). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export function authorizeUrl(settings: CognitoSignIn, state: string, challenge: string): string {
  const url = new URL("/oauth2/authorize", settings.hostedUiUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    scope: settings.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  return url.toString();
}

/** Starts a sign-in: keeps a new verifier and state for this tab and returns the hosted UI URL to go to. */
export async function beginSignIn(settings: CognitoSignIn, storage: KeyValueStore): Promise<string> {
  const verifier = randomString();
  const state = randomString(16);
  storage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  return authorizeUrl(settings, state, await codeChallenge(verifier));
}

/**
 * Finishes a sign-in when `pageUrl` is the hosted UI's redirect back (`?code=…&state=…`): checks the state against
 * the one this tab began with, exchanges the code and the verifier at /oauth2/token and keeps the ID token.
 * Returns the ID token, or null when `pageUrl` carries no code. A wrong state, an error from the hosted UI or a
 * refused exchange throws SignInError.
 */
export async function completeSignIn(
  settings: CognitoSignIn,
  pageUrl: string,
  storage: KeyValueStore,
  fetchImpl: typeof fetch = fetch,
  now: number = Date.now(),
): Promise<string | null> {
  const query = new URL(pageUrl).searchParams;
  if (query.has("error")) {
    throw new SignInError(`Sign-in failed: ${query.get("error_description") ?? query.get("error")}`);
  }
  const code = query.get("code");
  if (!code) return null;
  const { verifier, state } = JSON.parse(storage.getItem(PENDING_KEY) ?? "{}") as { verifier?: string; state?: string };
  storage.removeItem(PENDING_KEY);
  if (!verifier || !state || query.get("state") !== state) {
    throw new SignInError("Sign-in failed: the answer does not belong to a sign-in this tab began. Sign in again.");
  }
  const response = await fetchImpl(new URL("/oauth2/token", settings.hostedUiUrl).toString(), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: settings.clientId,
      code,
      redirect_uri: settings.redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  const answer = (await response.json().catch(() => ({}))) as { id_token?: string; expires_in?: number; error?: string };
  if (!response.ok || typeof answer.id_token !== "string") {
    throw new SignInError(`Sign-in failed: the token exchange answered ${answer.error ?? `HTTP ${response.status}`}`);
  }
  const expiresAt = now + (answer.expires_in ?? 3600) * 1000;
  storage.setItem(TOKEN_KEY, JSON.stringify({ idToken: answer.id_token, expiresAt }));
  return answer.id_token;
}

/** The ID token this tab signed in with, unless it expires within a minute. */
export function storedToken(storage: KeyValueStore, now: number = Date.now()): string | null {
  const kept = storage.getItem(TOKEN_KEY);
  if (!kept) return null;
  const { idToken, expiresAt } = JSON.parse(kept) as { idToken: string; expiresAt: number };
  if (expiresAt - EXPIRY_MARGIN_MS <= now) {
    storage.removeItem(TOKEN_KEY);
    return null;
  }
  return idToken;
}

/** Drops the kept token (the authorizer refused it: the next sign-in gets a new one). */
export function forgetToken(storage: KeyValueStore): void {
  storage.removeItem(TOKEN_KEY);
}
