// The AudioWorklet that turns the microphone into 16 kHz 16-bit mono chunks (runs on the audio thread).
import { CAPTURE_PROCESSOR, Chunker, Resampler, toPcm16 } from "./pcm";

declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler = new Resampler(sampleRate);
  private readonly chunker = new Chunker();

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      // Mono: the mean of the input's channels.
      const mono = new Float32Array(channels[0].length);
      for (const channel of channels) channel.forEach((s, i) => (mono[i] += s / channels.length));
      for (const chunk of this.chunker.push(toPcm16(this.resampler.push(mono)))) {
        this.port.postMessage(chunk, [chunk.buffer]);
      }
    }
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
