import { describe, expect, it } from "vitest";
import { CHUNK_SAMPLES, Chunker, Resampler, TARGET_RATE, pcmToBase64, peakLevel, toPcm16 } from "./pcm";

function sine(rate: number, hz: number, seconds: number): Float32Array {
  return Float32Array.from({ length: rate * seconds }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
}

describe("Resampler", () => {
  it.each([44_100, 48_000])("turns one second at %i Hz into one second at 16 kHz", (rate) => {
    const out = new Resampler(rate).push(sine(rate, 440, 1));
    expect(Math.abs(out.length - TARGET_RATE)).toBeLessThanOrEqual(1);
  });

  it("keeps a speech-band tone's frequency and level", () => {
    const out = new Resampler(48_000).push(sine(48_000, 440, 1));
    let crossings = 0;
    for (let i = 1; i < out.length; i++) if (out[i - 1] < 0 && out[i] >= 0) crossings++;
    expect(crossings).toBeGreaterThanOrEqual(439);
    expect(crossings).toBeLessThanOrEqual(441);
    expect(Math.max(...out)).toBeGreaterThan(0.48);
  });

  it("gives the same samples however the input is split into blocks", () => {
    const input = sine(44_100, 300, 1);
    const whole = new Resampler(44_100).push(input);
    const split = new Resampler(44_100);
    const pieces: number[] = [];
    for (let i = 0; i < input.length; i += 128) pieces.push(...split.push(input.subarray(i, i + 128)));
    expect(pieces.length).toBe(whole.length);
    pieces.forEach((s, i) => expect(s).toBeCloseTo(whole[i], 5));
  });
});

describe("PCM chunks", () => {
  it("clips floats outside [-1, 1] to the 16-bit range", () => {
    expect(Array.from(toPcm16(Float32Array.from([-2, -1, 0, 1, 2])))).toEqual([-32768, -32768, 0, 32767, 32767]);
  });

  it("hands out whole 250 ms chunks in order and keeps the rest for the next push", () => {
    const chunker = new Chunker();
    const ramp = Int16Array.from({ length: CHUNK_SAMPLES + 10 }, (_, i) => i % 30000);
    const first = chunker.push(ramp);
    expect(first).toHaveLength(1);
    expect(first[0][CHUNK_SAMPLES - 1]).toBe((CHUNK_SAMPLES - 1) % 30000);
    const second = chunker.push(new Int16Array(CHUNK_SAMPLES - 10));
    expect(second).toHaveLength(1);
    expect(second[0][0]).toBe(CHUNK_SAMPLES % 30000);
  });

  it("keeps a sendAudio frame far under API Gateway's 32 KB", () => {
    const audio = pcmToBase64(new Int16Array(CHUNK_SAMPLES).fill(-1234));
    const frame = JSON.stringify({ action: "sendAudio", audio, sequence: 123456 });
    expect(new TextEncoder().encode(frame).length).toBeLessThan(12 * 1024);
  });

  it("encodes samples little-endian", () => {
    expect(pcmToBase64(Int16Array.from([1, -2]))).toBe(btoa(String.fromCharCode(1, 0, 0xfe, 0xff)));
  });

  it("measures the peak level", () => {
    expect(peakLevel(Int16Array.from([0, -16384, 100]))).toBe(0.5);
  });
});
