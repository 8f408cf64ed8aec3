// The microphone through the capture AudioWorklet: 250 ms chunks of 16 kHz 16-bit mono PCM.
import workletUrl from "./capture-worklet.ts?worker&url";
import { CAPTURE_PROCESSOR } from "./pcm";

export interface Microphone {
  /** The AudioContext's own rate (the device's, 44.1 or 48 kHz); chunks are always 16 kHz. */
  readonly contextRate: number;
  stop(): Promise<void>;
}

export async function openMicrophone(onChunk: (samples: Int16Array) => void): Promise<Microphone> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  const context = new AudioContext();
  await context.audioWorklet.addModule(workletUrl);
  const source = context.createMediaStreamSource(stream);
  const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, { numberOfOutputs: 0 });
  capture.port.onmessage = (event: MessageEvent<Int16Array>) => onChunk(event.data);
  source.connect(capture);
  await context.resume();
  return {
    contextRate: context.sampleRate,
    async stop() {
      source.disconnect();
      capture.port.onmessage = null;
      stream.getTracks().forEach((track) => track.stop());
      await context.close();
    },
  };
}
