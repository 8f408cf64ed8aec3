// The WebSocket protocol of docs/PROTOCOL.md: every action a page sends and every message it reads,
// with the names exactly as documented there. Nothing else in web/ spells a message or field name.

export const SOURCE_LANGUAGES = ["de", "en", "es", "fr", "hi", "it", "ja", "ko", "pt", "zh"] as const;
export const TARGET_LANGUAGES = [
  "ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "tr", "zh",
] as const;
export type SourceLanguage = (typeof SOURCE_LANGUAGES)[number];
export type TargetLanguage = (typeof TARGET_LANGUAGES)[number];

/** `sessionId` as `joinSession` accepts it: words and digits, `golden-eagle-misty-otter-4271` (older `word-word-NNN` too). */
export const SESSION_ID_PATTERN = /^[a-z]+(-[a-z]+){1,3}-[0-9]{3,4}$/;
/** The same pattern as an input's `pattern` attribute, which browsers anchor themselves (`^(?:…)$`). */
export const SESSION_ID_INPUT_PATTERN = SESSION_ID_PATTERN.source.replace(/^\^/, "").replace(/\$$/, "");

export type Role = "speaker" | "listener";

/** createSession's limits (docs/PROTOCOL.md), in characters: the pages' inputs say the same. */
export const TITLE_MAX = 120;
export const PRESENTER_MAX = 80;
export const PASSCODE_MIN = 4;
export const PASSCODE_MAX = 64;
/** The codes a private talk's join is refused with: the listener page asks for the passcode. */
export const PASSCODE_CODES: readonly string[] = ["PASSCODE_REQUIRED", "PASSCODE_INCORRECT"];

/** What the speaker gave the talk: shown on the pages and at the head of a transcript file. */
export interface TalkTitle {
  title?: string;
  presenter?: string;
}

// --- client → server -------------------------------------------------------------------------
export type Action =
  | ({ action: "createSession"; sourceLanguage: SourceLanguage; qualityTier?: "standard"; passcode?: string } & TalkTitle)
  /** `captions: false`: finals only (with their speech), never partials; absent means true. */
  | { action: "joinSession"; sessionId: string; targetLanguage: TargetLanguage; passcode?: string; captions?: boolean }
  | { action: "changeLanguage"; targetLanguage: TargetLanguage }
  | { action: "heartbeat" }
  | { action: "pauseBroadcast" }
  | { action: "resumeBroadcast" }
  | { action: "muteBroadcast" }
  | { action: "unmuteBroadcast" }
  | { action: "setVolume"; volume: number }
  | { action: "endSession" }
  | { action: "getSessionStatus" }
  | { action: "getTranscript"; language?: string; nextToken?: string }
  | { action: "askQuestion"; text: string }
  | { action: "markQuestion"; questionId: string; status: QuestionStatus }
  | { action: "setQuestions"; open: boolean }
  | { action: "sendAudio"; audio: string; sequence: number };

// --- server → client -------------------------------------------------------------------------
/** A question's length limit (characters), as `askQuestion` checks it. */
export const MAX_QUESTION_CHARACTERS = 500;

export type QuestionStatus = "answered" | "dismissed";

export interface BroadcastState {
  isPaused: boolean;
  isMuted: boolean;
  volume: number;
  /** Present (true) only while the speaker has closed the session to questions. */
  questionsClosed?: boolean;
  /** Present (true) only while captions are held back: speech recognition is at its limit of concurrent streams;
   * they follow in order once a stream opens. */
  captionsDelayed?: boolean;
}

export interface SpeechAudio {
  format: string;
  data: string;
  chunkIndex: number;
  final: boolean;
}

/** One kept final of a `transcriptPage`. */
export interface TranscriptLine {
  segmentId: string;
  text: string;
  startTime: number;
  endTime?: number;
  translated: boolean;
}

/** One minute of a `sessionReport`: the audience at its largest in that minute. */
export interface AudienceSample {
  minute: number;
  at: number;
  listeners: number;
  languages: Record<string, number>;
}

/** What a session was billed on (the `usage` of `sessionStatus` and `sessionReport`). */
export interface SessionUsage {
  audioSeconds: number;
  translatedCharacters: number;
  spokenCharacters: number;
  messagesSent: number;
}

/** The talk in figures, to the speaker after `endSession`. */
export interface SessionReport {
  type: "sessionReport";
  sessionId: string;
  sourceLanguage: string;
  startedAt: number;
  endedAt: number;
  durationSeconds: number;
  audioSeconds: number;
  peakListeners: number;
  peakListenersByLanguage: Record<string, number>;
  listenersOverTime: AudienceSample[];
  usage: SessionUsage;
  estimatedCostUsd: number;
}

export type ServerMessage =
  | ({
      type: "sessionCreated";
      sessionId: string;
      sourceLanguage: string;
      qualityTier: string;
      broadcastState: BroadcastState;
      createdAt: number;
      private?: boolean;
    } & TalkTitle)
  | ({ type: "sessionJoined"; sessionId: string; targetLanguage: string; sourceLanguage: string; broadcastState: BroadcastState } & TalkTitle)
  | { type: "languageChanged"; sessionId: string; targetLanguage: string }
  | { type: "listenerCountChanged"; sessionId: string; listenerCount: number }
  | { type: "heartbeatAck"; timestamp: number }
  | { type: "connectionRefresh"; secondsRemaining: number; message: string }
  | { type: "broadcastStateChanged"; sessionId: string; broadcastState: BroadcastState; timestamp: number }
  | { type: "sessionEnded"; sessionId: string; reason: "speakerEnded" | "speakerDisconnected"; timestamp: number }
  | SessionReport
  | {
      type: "sessionStatus";
      sessionId: string;
      listenerCount: number;
      languageDistribution: Record<string, number>;
      sessionDuration: number;
      broadcastState: BroadcastState;
      timestamp: number;
      updateReason: "requested" | "periodic" | "newLanguage" | "listenerCountChange";
      /** What the session has been billed on so far (docs/PROTOCOL.md sessionStatus). */
      usage: { audioSeconds: number; translatedCharacters: number; spokenCharacters: number; messagesSent: number };
      /** `usage` priced with the deployment's price file, USD. */
      estimatedCostUsd: number;
    }
  | {
      type: "transcript";
      sessionId: string;
      segmentId: string;
      text: string;
      isPartial: boolean;
      stability: number;
      startTime: number;
      endTime: number;
    }
  | { type: "audioQualityWarning"; issue: "clipping" | "silence" | "sampleRate"; message: string; sequence: number }
  | {
      type: "translation";
      sessionId: string;
      segmentId: string;
      language: string;
      text: string;
      isPartial: boolean;
      translated: boolean;
      audio?: SpeechAudio;
      /** A final's speech: the neural voice, the standard (fallback) voice, or skipped (no audio); absent when none was wanted. */
      speech?: "neural" | "standard" | "skipped";
      /** The segment's span in the session's audio, in seconds. */
      startTime?: number;
      endTime?: number;
    }
  | ({ type: "transcriptPage"; sessionId: string; language: string; segments: TranscriptLine[]; nextToken?: string } & TalkTitle)
  | ({ type: "audio"; sessionId: string; segmentId: string; language: string } & SpeechAudio)
  | {
      type: "question";
      sessionId: string;
      questionId: string;
      language: string;
      text: string;
      translatedText: string;
      translated: boolean;
      askedAt: number;
    }
  | { type: "questionReceived"; sessionId: string; questionId: string }
  | { type: "questionMarked"; sessionId: string; questionId: string; status: QuestionStatus }
  | { type: "error"; code: string; message: string; action?: string; details?: Record<string, unknown> };

/** API Gateway's own answer (no `type`): `{"message": "Forbidden"}` or `{"message": "Internal server error"}`. */
export interface GatewayAnswer {
  type: "gatewayAnswer";
  message: string;
}

export type MessageOf<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

export function parseServerMessage(data: string): ServerMessage | GatewayAnswer | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.type === "string") return record as unknown as ServerMessage;
  if (typeof record.message === "string") return { type: "gatewayAnswer", message: record.message };
  return null;
}

export function encodeAction(action: Action): string {
  return JSON.stringify(action);
}

/** The connection URL of docs/PROTOCOL.md ("Connecting"). */
export function connectionUrl(base: string, role: Role, token?: string): string {
  const url = new URL(base);
  url.searchParams.set("role", role);
  if (role === "speaker" && token) url.searchParams.set("token", token);
  return url.toString();
}

/** Segments in the order they were spoken: `s<chunk>-u<utterance>` compared number by number. */
export function compareSegmentIds(a: string, b: string): number {
  const numbers = (id: string) => (id.match(/\d+/g) ?? []).map(Number);
  const [x, y] = [numbers(a), numbers(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An error as the speaker reads it: a talk refused at the deployment's capacity (`CAPACITY_REACHED`) and captions
 * held back by Transcribe's stream quota (`TRANSCRIPTION_THROTTLED`) in plain words, anything else with its code. */
export function errorText(message: MessageOf<"error">): string {
  if (message.code === "CAPACITY_REACHED") {
    const talks = message.details?.maxConcurrentTalks;
    return `This deployment is carrying its maximum of ${String(talks)} talks; try again when one ends.`;
  }
  if (message.code === "TRANSCRIPTION_THROTTLED") {
    return (
      "Captions are delayed: speech recognition is at its limit of concurrent streams. Keep talking: your audio " +
      "is kept, and captions follow in order as soon as a stream opens."
    );
  }
  return `${message.code}: ${message.message}`;
}
