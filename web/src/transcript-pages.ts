// The kept transcript of a session (docs/PROTOCOL.md, "Transcripts"): getTranscript page after page until an
// answer has no nextToken. The listener page reads the talk so far after joining; the speaker page every
// language after the session.
import type { Caption } from "./captions";
import type { Action, MessageOf, ServerMessage } from "./protocol";

interface Pending {
  language: string | undefined;
  lines: Caption[];
  resolve: (lines: Caption[]) => void;
  reject: (error: Error) => void;
}

/** A read given up because its connection closed (a rejoin reads again). */
export class ReadAbandoned extends Error {}

export class TranscriptReader {
  private pending: Pending | null = null;
  private readonly queue: Pending[] = [];

  constructor(private readonly send: (action: Action) => boolean) {}

  /** Every kept final of `language` (the connection's own when omitted), in spoken order. One read at a time. */
  read(language?: string): Promise<Caption[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ language, lines: [], resolve, reject });
      if (!this.pending) this.next();
    });
  }

  /** Feeds a server message; true when it was an answer to a read. */
  handle(message: ServerMessage): boolean {
    const pending = this.pending;
    if (!pending) return false;
    if (message.type === "transcriptPage") {
      pending.lines.push(...message.segments.map((line) => toCaption(line, message)));
      if (message.nextToken) {
        this.ask(pending, message.nextToken);
      } else {
        this.pending = null;
        pending.resolve(pending.lines);
        this.next();
      }
      return true;
    }
    if (message.type === "error" && message.action === "getTranscript") {
      this.pending = null;
      pending.reject(new Error(`${message.code}: ${message.message}`));
      this.next();
      return true;
    }
    return false;
  }

  /** Fails what is in flight (the connection closed: its answers will not come). */
  abandon(reason: string): void {
    for (const pending of [this.pending, ...this.queue.splice(0)]) pending?.reject(new ReadAbandoned(reason));
    this.pending = null;
  }

  private next(): void {
    const pending = this.queue.shift();
    if (!pending) return;
    this.pending = pending;
    this.ask(pending);
  }

  private ask(pending: Pending, nextToken?: string): void {
    const action: Action = {
      action: "getTranscript",
      ...(pending.language ? { language: pending.language } : {}),
      ...(nextToken ? { nextToken } : {}),
    };
    if (!this.send(action)) {
      this.pending = null;
      pending.reject(new Error("not connected"));
      this.next();
    }
  }
}

function toCaption(line: MessageOf<"transcriptPage">["segments"][number], page: MessageOf<"transcriptPage">): Caption {
  return {
    segmentId: line.segmentId,
    text: line.text,
    language: page.language,
    start: line.startTime,
    end: line.endTime ?? line.startTime,
  };
}
