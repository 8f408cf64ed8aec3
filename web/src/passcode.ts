// A private talk's passcode on this device: from the listener link (`&passcode=`) or typed once at the prompt,
// kept per session (localStorage) so that a reload or a rejoin after a drop joins without asking again, and
// forgotten when the talk ends or the passcode is refused.
import { PASSCODE_MAX, PASSCODE_MIN } from "./protocol";

const KEY_PREFIX = "broadcast.passcode.";

type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** A passcode as createSession and joinSession take it (4 to 64 characters, no spaces around it), else null. */
export function validPasscode(value: string | null | undefined): string | null {
  if (!value) return null;
  const length = [...value].length;
  return value === value.trim() && length >= PASSCODE_MIN && length <= PASSCODE_MAX ? value : null;
}

export function rememberedPasscode(storage: Store | null, sessionId: string): string | null {
  try {
    return validPasscode(storage?.getItem(KEY_PREFIX + sessionId));
  } catch {
    return null;
  }
}

/** Keeps the passcode a join was admitted with; a browser that refuses storage asks again after a reload. */
export function rememberPasscode(storage: Store | null, sessionId: string, passcode: string): void {
  try {
    storage?.setItem(KEY_PREFIX + sessionId, passcode);
  } catch {
    // Storage refused (private mode, quota): this page still rejoins with it.
  }
}

export function forgetPasscode(storage: Store | null, sessionId: string): void {
  try {
    storage?.removeItem(KEY_PREFIX + sessionId);
  } catch {
    // Nothing kept.
  }
}
