// One listener's connection to a session in one language: joins (and joins again after a drop or a
// connectionRefresh), retries a join left unanswered, reads the talk so far, and keeps the captions. The
// listener page and the stage display (one of these per language) both listen through it.
import { CaptionStore } from "./captions";
import { BroadcastSocket, type SocketState } from "./connection";
import {
  type BroadcastState,
  connectionUrl,
  type GatewayAnswer,
  type MessageOf,
  type ServerMessage,
  type SpeechAudio,
  type TargetLanguage,
} from "./protocol";
import { ReadAbandoned, TranscriptReader } from "./transcript-pages";

/**
 * A join with no answer (its function failed or timed out: API Gateway answers "Internal server error") is sent again;
 * the server answers a join repeated on a connection already in that session with `sessionJoined` again.
 */
export const JOIN_RETRY_MS = 15_000;

export interface ListeningEvents {
  /** The captions changed (a new store after a language change). */
  onCaptions(store: CaptionStore): void;
  /** Joined (`joins` counts the first join and every rejoin). */
  onJoined?(message: MessageOf<"sessionJoined">, joins: number): void;
  onLanguageChanged?(language: string): void;
  onConnection?(state: SocketState, attempt: number): void;
  onBroadcastState?(state: BroadcastState): void;
  /** The talk so far was read: how many finals it held. */
  onEarlier?(count: number): void;
  /** Translated speech, a final's first piece with it or a later piece. Not given: speech is ignored. */
  onSpeech?(segmentId: string, audio: SpeechAudio): void;
  onEnded?(reason: MessageOf<"sessionEnded">["reason"]): void;
  /** My question reached the speaker's queue (`questionReceived`). */
  onQuestionReceived?(questionId: string): void;
  /** My question was refused (`QUESTIONS_CLOSED`, `RATE_LIMITED`, ...). */
  onQuestionRefused?(code: string, message: string): void;
  /**
   * Something to tell the person; `joinRefused`: not joined (no such session, ended, full, a private talk's passcode
   * missing or wrong: `code` says which), the connection is closed.
   */
  onProblem?(text: string, joinRefused: boolean, code?: string): void;
}

export class Listening {
  captions = new CaptionStore();
  joins = 0;
  private readonly socket: BroadcastSocket;
  private readonly earlier: TranscriptReader;
  private joinAnswered = false;
  private joinRetry: ReturnType<typeof setTimeout> | undefined;
  private readonly startedAt = performance.now();

  constructor(
    webSocketUrl: string,
    readonly sessionId: string,
    private language: TargetLanguage,
    private readonly events: ListeningEvents,
    /** A private talk's passcode, sent with every join (the first, and each rejoin). */
    readonly passcode?: string,
    /** Captions shown: without them the server sends finals only (no partials: docs/PROTOCOL.md joinSession). */
    private captionsShown = true,
  ) {
    this.earlier = new TranscriptReader((action) => this.socket.send(action));
    this.socket = new BroadcastSocket({
      url: () => connectionUrl(webSocketUrl, "listener"),
      reconnect: true,
      // Joins on every connection: the first, after a drop, and after connectionRefresh.
      onOpen: (socket) => this.sendJoin(socket),
      onMessage: (message) => this.onMessage(message),
      onState: (state, attempt) => {
        if (state !== "open") this.earlier.abandon("the connection dropped"); // the rejoin reads it again
        events.onConnection?.(state, attempt);
      },
    });
  }

  get targetLanguage(): TargetLanguage {
    return this.language;
  }

  start(): void {
    this.socket.start();
  }

  close(): void {
    clearTimeout(this.joinRetry);
    this.socket.close();
  }

  get showsCaptions(): boolean {
    return this.captionsShown;
  }

  /**
   * Captions on or off: the join says which, so the switch joins again on a new connection (the way
   * connectionRefresh does: the old one closes once the new one has joined; the talk so far is merged in).
   */
  setCaptions(shown: boolean): void {
    if (shown === this.captionsShown) return;
    this.captionsShown = shown;
    if (this.socket.state === "open") this.socket.refresh();
  }

  changeLanguage(language: TargetLanguage): void {
    this.language = language;
    this.socket.send({ action: "changeLanguage", targetLanguage: language });
  }

  /** Ask the speaker a question in my language (already checked: `checkQuestion`); false when not connected. */
  ask(text: string): boolean {
    return this.socket.send({ action: "askQuestion", text });
  }

  private sendJoin(socket: BroadcastSocket): void {
    this.joinAnswered = false;
    const join = {
      action: "joinSession",
      sessionId: this.sessionId,
      targetLanguage: this.language,
      ...(this.passcode ? { passcode: this.passcode } : {}),
    } as const;
    socket.send(this.captionsShown ? join : { ...join, captions: false });
    clearTimeout(this.joinRetry);
    this.joinRetry = setTimeout(() => {
      if (!this.joinAnswered && socket.state === "open") this.sendJoin(socket);
    }, JOIN_RETRY_MS);
  }

  private secondsSinceJoin(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /**
   * The talk so far in my language (after joining, rejoining or changing language), merged with the live
   * captions: a final already shown live is not shown twice.
   */
  private readTalkSoFar(): void {
    const store = this.captions;
    this.earlier
      .read()
      .then((finals) => {
        if (store !== this.captions) return; // the language changed meanwhile: its own read follows
        let changed = false;
        for (const final of finals) changed = store.apply({ ...final, isPartial: false }) || changed;
        if (changed) this.events.onCaptions(store);
        this.events.onEarlier?.(finals.length);
      })
      .catch((error: Error) => {
        if (!(error instanceof ReadAbandoned)) this.events.onProblem?.(`The talk so far could not be loaded: ${error.message}`, false);
      });
  }

  private onMessage(message: ServerMessage | GatewayAnswer): void {
    const events = this.events;
    switch (message.type) {
      case "sessionJoined":
        // A join sent again (JOIN_RETRY_MS) is answered again: the second answer to one join is not a rejoin.
        if (this.joinAnswered) break;
        this.joinAnswered = true;
        this.joins += 1;
        events.onJoined?.(message, this.joins);
        events.onBroadcastState?.(message.broadcastState);
        this.readTalkSoFar();
        break;
      case "languageChanged":
        this.captions = new CaptionStore(); // the captions and the download are in one language: the new one
        events.onLanguageChanged?.(message.targetLanguage);
        events.onCaptions(this.captions);
        this.readTalkSoFar();
        break;
      case "broadcastStateChanged":
        events.onBroadcastState?.(message.broadcastState);
        break;
      case "translation": {
        // Cue times from the speaker's audio; a server without them gives the time of arrival.
        const now = this.secondsSinceJoin();
        const changed = this.captions.apply({
          segmentId: message.segmentId,
          text: message.text,
          isPartial: message.isPartial,
          language: message.language,
          start: message.startTime ?? now,
          end: message.endTime ?? message.startTime ?? now,
          speechSkipped: message.speech === "skipped",
        });
        if (changed) events.onCaptions(this.captions);
        if (!message.isPartial && message.audio) events.onSpeech?.(message.segmentId, message.audio);
        break;
      }
      case "audio":
        events.onSpeech?.(message.segmentId, message);
        break;
      case "transcriptPage":
        this.earlier.handle(message);
        break;
      case "questionReceived":
        events.onQuestionReceived?.(message.questionId);
        break;
      case "sessionEnded":
        events.onEnded?.(message.reason);
        this.close();
        break;
      case "error":
        if (this.earlier.handle(message)) break;
        if (message.action === "askQuestion") {
          events.onQuestionRefused?.(message.code, message.message);
          break;
        }
        if (message.action === "joinSession") {
          this.joinAnswered = true;
          this.close();
          events.onProblem?.(`${message.code}: ${message.message}`, true, message.code);
          break;
        }
        events.onProblem?.(`${message.code}: ${message.message}`, false);
        break;
      case "gatewayAnswer":
        events.onProblem?.(message.message, false);
        break;
      default:
        break;
    }
  }
}
