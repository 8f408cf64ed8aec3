// The listener page: join from the link/QR (or a typed id), captions and speech in my language, live.
import { CaptionStore, renderCaptions } from "./captions";
import { loadConfig } from "./config";
import { BroadcastSocket } from "./connection";
import { byId, describeState, fillLanguages, notice } from "./dom";
import { SpeechQueue } from "./playback";
import {
  connectionUrl,
  type GatewayAnswer,
  SESSION_ID_INPUT_PATTERN,
  SESSION_ID_PATTERN,
  type ServerMessage,
  TARGET_LANGUAGES,
  type TargetLanguage,
} from "./protocol";
import { downloadTranscript, type ExportFormat } from "./transcript-export";
import { ReadAbandoned, TranscriptReader } from "./transcript-pages";

const ui = {
  connection: byId("connection"),
  form: byId<HTMLFormElement>("join-form"),
  session: byId<HTMLInputElement>("session"),
  language: byId<HTMLSelectElement>("language"),
  join: byId<HTMLButtonElement>("join"),
  live: byId("live"),
  state: byId("state"),
  volume: byId<HTMLInputElement>("volume"),
  mute: byId<HTMLButtonElement>("mute"),
  captions: byId<HTMLOListElement>("captions"),
  ended: byId("ended"),
  error: byId("error"),
};

// The form refuses what joinSession would (one pattern, in protocol.ts).
ui.session.pattern = SESSION_ID_INPUT_PATTERN;

let captions = new CaptionStore();
const played: string[] = [];
const speech = new SpeechQueue(undefined, (segmentId) => {
  played.push(segmentId);
  ui.captions.dataset.played = String(played.length);
});
let socket: BroadcastSocket | null = null;
const earlier = new TranscriptReader((action) => socket?.send(action) ?? false);
let joined: { sessionId: string; language: TargetLanguage } | null = null;
let joins = 0;
let startedAt = 0;
/** A join with no answer (its function failed or timed out: API Gateway answers "Internal server error") is sent again. */
const JOIN_RETRY_MS = 15_000;
let joinAnswered = false;
let joinRetry: ReturnType<typeof setTimeout> | undefined;

function sendJoin(s: BroadcastSocket): void {
  if (!joined) return;
  joinAnswered = false;
  s.send({ action: "joinSession", sessionId: joined.sessionId, targetLanguage: joined.language });
  clearTimeout(joinRetry);
  joinRetry = setTimeout(() => {
    if (!joinAnswered && socket === s && s.state === "open") sendJoin(s);
  }, JOIN_RETRY_MS);
}

const secondsSinceJoin = () => (performance.now() - startedAt) / 1000;

function showCaptions(): void {
  renderCaptions(ui.captions, captions);
  ui.captions.scrollTop = ui.captions.scrollHeight;
}

/**
 * The talk so far in my language (after joining, rejoining or changing language), merged with the live
 * captions: a final already shown live is not shown twice.
 */
function readTalkSoFar(): void {
  const store = captions;
  earlier
    .read()
    .then((finals) => {
      if (store !== captions) return; // the language changed meanwhile: its own read follows
      let changed = false;
      for (const final of finals) changed = store.apply({ ...final, isPartial: false }) || changed;
      if (changed) showCaptions();
      ui.captions.dataset.earlier = String(finals.length);
    })
    .catch((error: Error) => {
      if (!(error instanceof ReadAbandoned)) notice(ui.error, `The talk so far could not be loaded: ${error.message}`);
    });
}

function join(sessionId: string, language: TargetLanguage, webSocketUrl: string): void {
  joined = { sessionId, language };
  if (socket) {
    socket.send({ action: "changeLanguage", targetLanguage: language });
    return;
  }
  startedAt = performance.now();
  history.replaceState(null, "", `?${new URLSearchParams({ session: sessionId, language })}`);
  socket = new BroadcastSocket({
    url: () => connectionUrl(webSocketUrl, "listener"),
    reconnect: true,
    // Joins on every connection: the first, after a drop, and after connectionRefresh.
    onOpen: sendJoin,
    onMessage,
    onState: (state, attempt) => {
      if (state !== "open") earlier.abandon("the connection dropped"); // the rejoin reads it again
      ui.connection.textContent = state === "reconnecting" ? `reconnecting (attempt ${attempt})…` : state;
    },
  });
  socket.start();
}

function onMessage(message: ServerMessage | GatewayAnswer): void {
  switch (message.type) {
    case "sessionJoined":
      joinAnswered = true;
      joins += 1;
      ui.captions.dataset.joins = String(joins);
      ui.connection.textContent = joins > 1 ? "connected (rejoined)" : "connected";
      ui.live.hidden = false;
      ui.join.textContent = "Change language";
      ui.session.readOnly = true;
      ui.state.textContent = describeState(message.broadcastState);
      notice(ui.error, "");
      readTalkSoFar();
      break;
    case "languageChanged":
      ui.captions.lang = message.targetLanguage;
      captions = new CaptionStore(); // the captions and the download are in one language: the new one
      showCaptions();
      readTalkSoFar();
      break;
    case "broadcastStateChanged":
      ui.state.textContent = describeState(message.broadcastState);
      break;
    case "translation": {
      // Cue times from the speaker's audio; a server without them gives the time of arrival.
      const now = secondsSinceJoin();
      if (
        captions.apply({
          segmentId: message.segmentId,
          text: message.text,
          isPartial: message.isPartial,
          language: message.language,
          start: message.startTime ?? now,
          end: message.endTime ?? message.startTime ?? now,
        })
      ) {
        showCaptions();
      }
      if (!message.isPartial && message.audio) speech.add(message.segmentId, message.audio);
      break;
    }
    case "audio":
      speech.add(message.segmentId, message);
      break;
    case "transcriptPage":
      earlier.handle(message);
      break;
    case "sessionEnded":
      notice(ui.ended, message.reason === "speakerEnded" ? "The speaker ended the session." : "The speaker left; the session has ended.");
      ui.state.textContent = "ended";
      socket?.close();
      break;
    case "error":
      if (earlier.handle(message)) break;
      if (message.action === "joinSession" && message.code === "ALREADY_IN_SESSION") {
        joinAnswered = true; // a join sent again after a slow answer: the first one went through
        break;
      }
      notice(ui.error, `${message.code}: ${message.message}`);
      if (message.action === "joinSession") {
        joinAnswered = true;
        // Not joined (no such session, ended, full): let the person correct the id and try again.
        socket?.close();
        socket = null;
        ui.session.readOnly = false;
      }
      break;
    case "gatewayAnswer":
      notice(ui.error, message.message);
      break;
    default:
      break;
  }
}

function download(format: ExportFormat): void {
  const name = `${joined?.sessionId ?? "transcript"}-${joined?.language ?? ""}`;
  downloadTranscript(captions.orderedFinals, format, name);
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const browserLanguage = (navigator.language || "en").slice(0, 2);
  const wanted = params.get("language") ?? browserLanguage;
  fillLanguages(ui.language, TARGET_LANGUAGES, (TARGET_LANGUAGES as readonly string[]).includes(wanted) ? wanted : "en");
  ui.session.value = params.get("session") ?? "";
  const config = await loadConfig();
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sessionId = ui.session.value.trim().toLowerCase();
    if (!SESSION_ID_PATTERN.test(sessionId)) {
      notice(ui.error, "A session id looks like golden-eagle-misty-otter-4271.");
      return;
    }
    join(sessionId, ui.language.value as TargetLanguage, config.webSocketUrl);
  });
  ui.language.addEventListener("change", () => {
    if (socket && joined) join(joined.sessionId, ui.language.value as TargetLanguage, config.webSocketUrl);
  });
  ui.volume.addEventListener("input", () => (speech.volume = Number(ui.volume.value)));
  ui.mute.addEventListener("click", () => {
    speech.muted = !speech.muted;
    ui.mute.textContent = speech.muted ? "Unmute" : "Mute";
    ui.mute.setAttribute("aria-pressed", String(speech.muted));
  });
  for (const format of ["txt", "srt", "vtt"] as const) {
    byId(`download-${format}`).addEventListener("click", () => download(format));
  }
  (params.get("session") ? ui.language : ui.session).focus();
}

main().catch((error: Error) => notice(ui.error, error.message));
