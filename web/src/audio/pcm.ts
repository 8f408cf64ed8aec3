// Microphone samples to what `sendAudio` carries: 16 kHz, 16-bit little-endian mono PCM, in chunks.

/** The AudioWorklet processor name (capture-worklet.ts registers it). */
export const CAPTURE_PROCESSOR = "pcm16-capture";
export const TARGET_RATE = 16_000;
/** 250 ms a chunk: 8,000 PCM bytes, about 10.7 KB of base64 in a frame far under API Gateway's 32 KB. */
export const CHUNK_SAMPLES = TARGET_RATE / 4;

/**
 * Streaming resampler from the AudioContext's rate (44.1 or 48 kHz) down to 16 kHz. Each output sample is the
 * mean of the input samples in its own period (a box filter that keeps what aliasing would fold into speech
 * low), read with linear interpolation at the fractional edges. State carries across blocks, so a stream cut
 * into any block sizes gives the same output.
 */
export class Resampler {
  private readonly step: number;
  private pending: number[] = [];
  private position = 0; // where the next output period starts, in input samples from pending[0]

  constructor(inputRate: number, outputRate: number = TARGET_RATE) {
    if (!(inputRate > 0 && outputRate > 0)) throw new RangeError("sample rates must be positive");
    this.step = inputRate / outputRate;
  }

  push(input: Float32Array): Float32Array {
    for (const sample of input) this.pending.push(sample);
    const out: number[] = [];
    while (this.position + this.step <= this.pending.length) {
      out.push(this.average(this.position, this.position + this.step));
      this.position += this.step;
    }
    const drop = Math.floor(this.position);
    if (drop > 0) {
      this.pending = this.pending.slice(drop);
      this.position -= drop;
    }
    return Float32Array.from(out);
  }

  private average(start: number, end: number): number {
    let sum = 0;
    let i = Math.floor(start);
    let t = start;
    while (t < end) {
      const next = Math.min(end, i + 1);
      sum += (this.pending[i] ?? 0) * (next - t);
      t = next;
      i += 1;
    }
    return sum / (end - start);
  }
}

/** [-1, 1] floats to 16-bit signed integers, clipped. */
export function toPcm16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    out[i] = Math.round(s < 0 ? s * 0x8000 : s * 0x7fff);
  }
  return out;
}

/** Collects samples and hands out whole chunks of `size` samples, in order. */
export class Chunker {
  private buffer: Int16Array;
  private filled = 0;

  constructor(private readonly size: number = CHUNK_SAMPLES) {
    this.buffer = new Int16Array(size);
  }

  push(samples: Int16Array): Int16Array[] {
    const chunks: Int16Array[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.size - this.filled, samples.length - offset);
      this.buffer.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.size) {
        chunks.push(this.buffer);
        this.buffer = new Int16Array(this.size);
        this.filled = 0;
      }
    }
    return chunks;
  }
}

/** Base64 of the samples as little-endian bytes (what `sendAudio`'s `audio` holds). */
export function pcmToBase64(samples: Int16Array): string {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  samples.forEach((s, i) => view.setInt16(i * 2, s, true));
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Peak level of a chunk, 0..1, for the input meter. */
export function peakLevel(samples: Int16Array): number {
  let peak = 0;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  return peak / 0x8000;
}
