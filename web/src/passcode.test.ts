import { describe, expect, it } from "vitest";
import { forgetPasscode, rememberedPasscode, rememberPasscode, validPasscode } from "./passcode";

function memory(): Storage {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
    clear: () => items.clear(),
    key: () => null,
    get length() {
      return items.size;
    },
  };
}

describe("passcode", () => {
  it("takes what joinSession takes: 4 to 64 characters, no spaces around", () => {
    expect(validPasscode("1234")).toBe("1234");
    expect(validPasscode("ñandú")).toBe("ñandú");
    expect(validPasscode("123")).toBeNull();
    expect(validPasscode("x".repeat(65))).toBeNull();
    expect(validPasscode(" 1234")).toBeNull();
    expect(validPasscode(null)).toBeNull();
  });

  it("is remembered per session on the device until forgotten", () => {
    const storage = memory();
    rememberPasscode(storage, "golden-eagle-misty-otter-4271", "harbour-42");
    expect(rememberedPasscode(storage, "golden-eagle-misty-otter-4271")).toBe("harbour-42");
    expect(rememberedPasscode(storage, "calm-owl-bold-yak-1234")).toBeNull();
    forgetPasscode(storage, "golden-eagle-misty-otter-4271");
    expect(rememberedPasscode(storage, "golden-eagle-misty-otter-4271")).toBeNull();
  });

  it("does without storage when the browser refuses it", () => {
    const refusing = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
      removeItem: () => {
        throw new Error("denied");
      },
    };
    expect(() => rememberPasscode(refusing, "a-b-123", "1234")).not.toThrow();
    expect(rememberedPasscode(refusing, "a-b-123")).toBeNull();
    expect(rememberedPasscode(null, "a-b-123")).toBeNull();
  });
});
