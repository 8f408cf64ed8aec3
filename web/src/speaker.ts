// The speaker page: create a session, stream the microphone, steer the broadcast, see the audience.
import QRCode from "qrcode";
import { openMicrophone, type Microphone } from "./audio/microphone";
import { pcmToBase64, peakLevel } from "./audio/pcm";
import { CaptionStore, renderCaptions } from "./captions";
import { listenerLink, loadConfig, type SiteConfig, tokenFromFragment } from "./config";
import { BroadcastSocket } from "./connection";
import { displayLink } from "./display-params";
import { byId, describeState, fillLanguages, notice } from "./dom";
import { QuestionQueue, renderQuestions } from "./questions";
import { downloadTranscript, type ExportFormat } from "./transcript-export";
import { TranscriptReader } from "./transcript-pages";
import {
  type BroadcastState,
  connectionUrl,
  type GatewayAnswer,
  type ServerMessage,
  SOURCE_LANGUAGES,
  type SourceLanguage,
} from "./protocol";
import { beginSignIn, completeSignIn, forgetToken, SignInError, storedToken } from "./sign-in";

const STATUS_EVERY_MS = 15_000;
/** Audio waiting in the browser's send buffer beyond this is dropped (a slow link must not build up delay). */
const MAX_BUFFERED_BYTES = 256 * 1024;

const ui = {
  connection: byId("connection"),
  form: byId<HTMLFormElement>("create-form"),
  language: byId<HTMLSelectElement>("source-language"),
  create: byId<HTMLButtonElement>("create"),
  signIn: byId("sign-in"),
  signInButton: byId<HTMLButtonElement>("sign-in-button"),
  setup: byId("setup"),
  live: byId("live"),
  sessionId: byId("session-id"),
  qr: byId<HTMLCanvasElement>("qr"),
  link: byId<HTMLInputElement>("listener-link"),
  copy: byId<HTMLButtonElement>("copy-link"),
  open: byId<HTMLAnchorElement>("open-link"),
  displayLanguages: byId<HTMLInputElement>("display-languages"),
  displayLink: byId<HTMLAnchorElement>("display-link"),
  pause: byId<HTMLButtonElement>("pause"),
  mute: byId<HTMLButtonElement>("mute"),
  volume: byId<HTMLInputElement>("volume"),
  end: byId<HTMLButtonElement>("end"),
  level: byId<HTMLMeterElement>("level"),
  state: byId("state"),
  warning: byId("warning"),
  listenerCount: byId("listener-count"),
  languages: byId("languages"),
  transcript: byId<HTMLOListElement>("transcript"),
  takeQuestions: byId<HTMLInputElement>("take-questions"),
  questionQueue: byId<HTMLOListElement>("question-queue"),
  questionTotal: byId("question-total"),
  ended: byId("ended"),
  downloads: byId("downloads"),
  transcriptLanguage: byId<HTMLSelectElement>("transcript-language"),
  error: byId("error"),
};

let socket: BroadcastSocket | null = null;
let microphone: Microphone | null = null;
let sequence = 0;
let broadcast: BroadcastState = { isPaused: false, isMuted: false, volume: 1 };
let statusTimer: ReturnType<typeof setInterval> | undefined;
const transcript = new CaptionStore();
const kept = new TranscriptReader((action) => socket?.send(action) ?? false);
let sessionId = "";
/** The source language and every language listeners chose: the languages a transcript is kept in. */
const heard = new Set<string>();
const questions = new QuestionQueue();

function showQuestions(): void {
  renderQuestions(ui.questionQueue, questions, (questionId, status) =>
    socket?.send({ action: "markQuestion", questionId, status }),
  );
  ui.questionTotal.textContent = String(questions.open.length);
}

function showState(state: BroadcastState): void {
  broadcast = state;
  ui.pause.textContent = state.isPaused ? "Resume" : "Pause";
  ui.pause.setAttribute("aria-pressed", String(state.isPaused));
  ui.mute.textContent = state.isMuted ? "Unmute speech" : "Mute speech";
  ui.mute.setAttribute("aria-pressed", String(state.isMuted));
  ui.volume.value = String(state.volume);
  ui.takeQuestions.checked = state.questionsClosed !== true;
  ui.state.textContent = describeState(state);
}

async function started(id: string, state: BroadcastState): Promise<void> {
  sessionId = id;
  heard.add(ui.language.value);
  ui.setup.hidden = true;
  ui.live.hidden = false;
  ui.sessionId.textContent = sessionId;
  const link = listenerLink(location.href, sessionId);
  ui.link.value = link;
  ui.open.href = link;
  ui.displayLanguages.value = ui.language.value;
  showDisplayLink();
  await QRCode.toCanvas(ui.qr, link, { margin: 2, width: 360, errorCorrectionLevel: "M" });
  ui.qr.style.removeProperty("width");
  ui.qr.style.removeProperty("height");
  showState(state);
  statusTimer = setInterval(() => socket?.send({ action: "getSessionStatus" }), STATUS_EVERY_MS);
  try {
    microphone = await openMicrophone(sendChunk);
  } catch (error) {
    notice(ui.error, `The microphone could not be opened: ${(error as Error).message}`);
  }
}

/** The stage display on this session, in the languages typed (the display says what is wrong with them). */
function showDisplayLink(): void {
  const languages = ui.displayLanguages.value.split(",").map((code) => code.trim()).filter((code) => code !== "");
  ui.displayLink.href = displayLink(location.href, sessionId, languages);
}

function sendChunk(samples: Int16Array): void {
  ui.level.value = peakLevel(samples);
  if (!socket) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
  if (socket.send({ action: "sendAudio", audio: pcmToBase64(samples), sequence })) sequence += 1;
}

/** After the session: the whole transcript in any language it was kept in, while the connection stays open. */
function offerDownloads(): void {
  ui.transcriptLanguage.replaceChildren();
  fillLanguages(ui.transcriptLanguage, [...heard].sort(), ui.language.value);
  ui.downloads.hidden = false;
}

async function downloadKept(format: ExportFormat): Promise<void> {
  const language = ui.transcriptLanguage.value;
  try {
    const finals = await kept.read(language);
    downloadTranscript(finals, format, `${sessionId}-${language}`);
    ui.downloads.dataset.downloaded = `${language}:${finals.length}`;
  } catch (error) {
    notice(ui.error, `The transcript could not be read: ${(error as Error).message}`);
  }
}

function stopped(text: string): void {
  clearInterval(statusTimer);
  void microphone?.stop();
  microphone = null;
  ui.live.querySelectorAll("button, input[type=range], input[type=checkbox]").forEach((el) => ((el as HTMLButtonElement).disabled = true));
  ui.copy.disabled = false;
  notice(ui.ended, text);
}

function onMessage(message: ServerMessage | GatewayAnswer): void {
  switch (message.type) {
    case "sessionCreated":
      void started(message.sessionId, message.broadcastState);
      break;
    case "broadcastStateChanged":
      showState(message.broadcastState);
      break;
    case "listenerCountChanged":
      ui.listenerCount.textContent = String(message.listenerCount);
      socket?.send({ action: "getSessionStatus" });
      break;
    case "sessionStatus": {
      ui.listenerCount.textContent = String(message.listenerCount);
      const mix = Object.entries(message.languageDistribution).sort(([, a], [, b]) => b - a);
      for (const [code] of mix) if (code !== "unknown") heard.add(code);
      ui.languages.textContent = mix.length ? mix.map(([code, n]) => `${code} ${n}`).join(" · ") : "none yet";
      showState(message.broadcastState);
      break;
    }
    case "transcript":
      if (
        transcript.apply({
          segmentId: message.segmentId,
          text: message.text,
          isPartial: message.isPartial,
          language: ui.language.value,
          start: message.startTime,
          end: message.endTime,
        })
      ) {
        renderCaptions(ui.transcript, transcript);
        ui.transcript.scrollTop = ui.transcript.scrollHeight;
      }
      break;
    case "question":
      questions.add(message);
      showQuestions();
      break;
    case "questionMarked":
      if (questions.remove(message.questionId)) showQuestions();
      break;
    case "audioQualityWarning":
      notice(ui.warning, message.message);
      break;
    case "sessionEnded":
      // The connection stays open: the speaker reads the kept transcript over it (getTranscript).
      stopped(message.reason === "speakerEnded" ? "The session has ended." : "The session ended: connection lost.");
      offerDownloads();
      break;
    case "transcriptPage":
      kept.handle(message);
      break;
    case "error":
      if (kept.handle(message)) break;
      if (message.action === "markQuestion" && message.code === "QUESTION_NOT_FOUND") {
        // Marked already (another tab, a repeated click): it is not open any more.
        const questionId = message.details?.questionId;
        if (typeof questionId === "string" && questions.remove(questionId)) showQuestions();
        break;
      }
      notice(ui.error, `${message.code}: ${message.message}`);
      break;
    case "gatewayAnswer":
      // A message whose function failed (e.g. timed out): before the session exists, let the speaker retry.
      notice(ui.error, `The server could not handle a message: ${message.message}`);
      if (ui.live.hidden) ui.create.disabled = false;
      break;
    default:
      break;
  }
}

/** The speaker's token: from the link `make dev` prints, or from the hosted UI (null: not signed in yet). */
async function speakerToken(config: SiteConfig): Promise<string | null> {
  const signIn = config.signIn;
  if (signIn.mode === "urlFragment") {
    const token = tokenFromFragment(location.hash);
    if (!token) notice(ui.signIn, "Sign in first: open the speaker link `make dev` prints (it carries your token).");
    return token;
  }
  let token = storedToken(sessionStorage);
  try {
    token ??= await completeSignIn(signIn, location.href, sessionStorage);
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    notice(ui.signIn, error.message);
  } finally {
    // The code and state are spent: keep them out of the address bar, bookmarks and history.
    if (location.search) history.replaceState(null, "", location.pathname);
  }
  if (token) return token;
  if (ui.signIn.hidden) notice(ui.signIn, "Sign in with your speaker account to create a session.");
  ui.signInButton.hidden = false;
  ui.signInButton.addEventListener("click", async () => {
    ui.signInButton.disabled = true;
    location.assign(await beginSignIn(signIn, sessionStorage));
  });
  return null;
}

async function main(): Promise<void> {
  fillLanguages(ui.language, SOURCE_LANGUAGES, "en");
  const config = await loadConfig();
  const token = await speakerToken(config);
  if (!token) {
    ui.connection.textContent = "not signed in";
    return;
  }
  socket = new BroadcastSocket({
    url: () => connectionUrl(config.webSocketUrl, "speaker", token),
    reconnect: false,
    onOpen: () => {
      ui.create.disabled = false;
    },
    onMessage,
    onState: (state) => {
      if (state !== "open") kept.abandon("the connection closed");
      ui.connection.textContent = state === "open" ? "connected" : state;
      if (state === "closed" && !ui.live.hidden && ui.ended.hidden) stopped("The connection was lost; the session has ended.");
      if (state === "closed" && ui.live.hidden) {
        notice(ui.error, "Could not connect as a speaker (is the sign-in still valid?).");
        // A token the authorizer refused (expired, or not in the speakers group) is not offered again.
        forgetToken(sessionStorage);
      }
    },
  });
  socket.start();

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.create.disabled = true;
    socket?.send({ action: "createSession", sourceLanguage: ui.language.value as SourceLanguage });
  });
  ui.pause.addEventListener("click", () =>
    socket?.send({ action: broadcast.isPaused ? "resumeBroadcast" : "pauseBroadcast" }),
  );
  ui.mute.addEventListener("click", () =>
    socket?.send({ action: broadcast.isMuted ? "unmuteBroadcast" : "muteBroadcast" }),
  );
  ui.volume.addEventListener("change", () => socket?.send({ action: "setVolume", volume: Number(ui.volume.value) }));
  ui.takeQuestions.addEventListener("change", () => socket?.send({ action: "setQuestions", open: ui.takeQuestions.checked }));
  ui.end.addEventListener("click", () => {
    if (confirm("End the session for every listener?")) socket?.send({ action: "endSession" });
  });
  for (const format of ["txt", "srt", "vtt"] as const) {
    byId(`transcript-${format}`).addEventListener("click", () => void downloadKept(format));
  }
  ui.displayLanguages.addEventListener("input", showDisplayLink);
  ui.copy.addEventListener("click", async () => {
    ui.link.select();
    try {
      await navigator.clipboard.writeText(ui.link.value);
      ui.copy.textContent = "Copied";
    } catch {
      ui.copy.textContent = "Press Ctrl+C";
    }
  });
}

main().catch((error: Error) => notice(ui.error, error.message));
