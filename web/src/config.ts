// What a page reads at start from config.json beside it: where the WebSocket API is and how speakers sign in.
import type { CognitoSignIn } from "./sign-in";

export interface SiteConfig {
  /** wss://<api>/<stage> (docs/PROTOCOL.md, "Connecting"). */
  webSocketUrl: string;
  /**
   * "urlFragment": the speaker page takes its token from `#token=…` (`make dev` has its own issuer).
   * "cognito": the speaker signs in at the user pool's hosted UI (Terraform writes these settings; web/src/sign-in.ts).
   */
  signIn: { mode: "urlFragment" } | CognitoSignIn;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<SiteConfig> {
  const response = await fetchImpl("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as Partial<SiteConfig>;
  if (typeof config.webSocketUrl !== "string" || !/^wss?:\/\//.test(config.webSocketUrl)) {
    throw new Error("config.json: webSocketUrl must be a ws:// or wss:// URL");
  }
  return { webSocketUrl: config.webSocketUrl, signIn: signInSettings(config.signIn) };
}

function signInSettings(signIn: Partial<CognitoSignIn> | { mode: "urlFragment" } | undefined): SiteConfig["signIn"] {
  if (!signIn || signIn.mode === "urlFragment") return { mode: "urlFragment" };
  if (signIn.mode !== "cognito") throw new Error(`config.json: unknown signIn.mode ${String(signIn.mode)}`);
  const { hostedUiUrl, clientId, redirectUri, scope } = signIn;
  if (typeof hostedUiUrl !== "string" || !hostedUiUrl.startsWith("https://")) {
    throw new Error("config.json: signIn.hostedUiUrl must be an https:// URL");
  }
  if (typeof redirectUri !== "string" || !/^https?:\/\//.test(redirectUri)) {
    throw new Error("config.json: signIn.redirectUri must be the speaker page's URL");
  }
  if (typeof clientId !== "string" || clientId === "") throw new Error("config.json: signIn.clientId is missing");
  return { mode: "cognito", hostedUiUrl, clientId, redirectUri, scope: typeof scope === "string" ? scope : "openid" };
}

/** The speaker's token from the page's fragment (`#token=…`); the fragment never reaches a server. */
export function tokenFromFragment(hash: string): string | null {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token");
}

/** The listener page for a session, beside the page at `here`; with a private talk's passcode when given. */
export function listenerLink(here: string, sessionId: string, passcode?: string): string {
  const url = new URL("listener.html", here);
  url.search = new URLSearchParams({ session: sessionId, ...(passcode ? { passcode } : {}) }).toString();
  return url.toString();
}
