// The speaker page: create a session, stream the microphone, steer the broadcast, see the audience.
import QRCode from "qrcode";
import { openMicrophone, type Microphone } from "./audio/microphone";
import { pcmToBase64, peakLevel } from "./audio/pcm";
import { CaptionStore, renderCaptions } from "./captions";
import { listenerLink, loadConfig, type SiteConfig, tokenFromFragment } from "./config";
import { BroadcastSocket } from "./connection";
import { displayLink } from "./display-params";
import { byId, describeState, fillLanguages, notice, saveFile } from "./dom";
import { validPasscode } from "./passcode";
import { chartLegend, listenersChart, reportCsv, reportFigures, reportJson } from "./report";
import { QuestionQueue, renderQuestions } from "./questions";
import { downloadTranscript, type ExportFormat } from "./transcript-export";
import { TranscriptReader } from "./transcript-pages";
import {
  type Action,
  type BroadcastState,
  connectionUrl,
  errorText,
  type GatewayAnswer,
  type MessageOf,
  PASSCODE_MAX,
  PASSCODE_MIN,
  PRESENTER_MAX,
  type ServerMessage,
  type SessionReport,
  SOURCE_LANGUAGES,
  type SourceLanguage,
  type TalkTitle,
  TITLE_MAX,
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
  title: byId<HTMLInputElement>("talk-title"),
  presenter: byId<HTMLInputElement>("presenter"),
  passcode: byId<HTMLInputElement>("passcode"),
  talk: byId("talk"),
  private: byId("private"),
  linkPasscode: byId<HTMLInputElement>("link-passcode"),
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
  cost: byId("cost"),
  transcript: byId<HTMLOListElement>("transcript"),
  takeQuestions: byId<HTMLInputElement>("take-questions"),
  questionQueue: byId<HTMLOListElement>("question-queue"),
  questionTotal: byId("question-total"),
  ended: byId("ended"),
  downloads: byId("downloads"),
  transcriptLanguage: byId<HTMLSelectElement>("transcript-language"),
  report: byId("report"),
  reportChart: byId("report-chart"),
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
/** The talk's title and presenter (sessionCreated), at the head of its transcript files. */
let talk: TalkTitle = {};
/** A private talk's passcode, as typed here: only this page has it (the server keeps a hash). */
let passcode = "";
/** The session's estimated cost so far ("Estimated cost so far: $x.xx"), from each sessionStatus. */
const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });

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

async function started(created: MessageOf<"sessionCreated">): Promise<void> {
  sessionId = created.sessionId;
  talk = { title: created.title, presenter: created.presenter };
  heard.add(ui.language.value);
  ui.setup.hidden = true;
  ui.live.hidden = false;
  ui.sessionId.textContent = sessionId;
  notice(ui.talk, [talk.title, talk.presenter].filter(Boolean).join(" · "));
  ui.private.hidden = !created.private;
  ui.displayLanguages.value = ui.language.value;
  showDisplayLink();
  await showListenerLink();
  showState(created.broadcastState);
  statusTimer = setInterval(() => socket?.send({ action: "getSessionStatus" }), STATUS_EVERY_MS);
  try {
    microphone = await openMicrophone(sendChunk);
  } catch (error) {
    notice(ui.error, `The microphone could not be opened: ${(error as Error).message}`);
  }
}

/** The listener link and its QR code: with the passcode when the speaker ticks the box. */
async function showListenerLink(): Promise<void> {
  const link = listenerLink(location.href, sessionId, passcode && ui.linkPasscode.checked ? passcode : undefined);
  await QRCode.toCanvas(ui.qr, link, { margin: 2, width: 360, errorCorrectionLevel: "M" });
  ui.qr.style.removeProperty("width");
  ui.qr.style.removeProperty("height");
  // Once the QR code shows it: the link and the code never disagree.
  ui.link.value = link;
  ui.open.href = link;
}

/**
 * The stage display on this session, in the languages typed (the display says what is wrong with them); always
 * with a private talk's passcode, as the display has no prompt (it goes to a projector, not to the audience).
 */
function showDisplayLink(): void {
  const languages = ui.displayLanguages.value.split(",").map((code) => code.trim()).filter((code) => code !== "");
  ui.displayLink.href = displayLink(location.href, sessionId, languages, passcode || undefined);
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
    downloadTranscript(finals, format, `${sessionId}-${language}`, talk);
    ui.downloads.dataset.downloaded = `${language}:${finals.length}`;
  } catch (error) {
    notice(ui.error, `The transcript could not be read: ${(error as Error).message}`);
  }
}

let report: SessionReport | null = null;

/** After "End session": the talk's figures, its listeners over time per language, and its downloads. */
function showReport(message: SessionReport): void {
  report = message;
  for (const [id, text] of Object.entries(reportFigures(message))) byId(id).textContent = text;
  ui.reportChart.replaceChildren(listenersChart(message), chartLegend(message));
  ui.report.hidden = false;
}

function downloadReport(format: "json" | "csv"): void {
  if (!report) return;
  const text = format === "json" ? reportJson(report) : reportCsv(report);
  saveFile(text, format === "json" ? "application/json" : "text/csv", `${report.sessionId}-report.${format}`);
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
      void started(message);
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
      ui.cost.textContent = usd.format(message.estimatedCostUsd);
      ui.cost.dataset.usd = String(message.estimatedCostUsd);
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
    case "sessionReport":
      showReport(message);
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
      notice(ui.error, errorText(message));
      // A refused createSession (e.g. CAPACITY_REACHED): the speaker may try again.
      if (message.action === "createSession" && ui.live.hidden) ui.create.disabled = false;
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

/** createSession from the form: the title, presenter and passcode only when typed. */
function createAction(): Action | null {
  const title = ui.title.value.trim();
  const presenter = ui.presenter.value.trim();
  const typed = ui.passcode.value;
  if (typed && !validPasscode(typed)) {
    notice(ui.error, `A passcode holds ${PASSCODE_MIN} to ${PASSCODE_MAX} characters, with no spaces around it.`);
    return null;
  }
  passcode = typed;
  return {
    action: "createSession",
    sourceLanguage: ui.language.value as SourceLanguage,
    ...(title ? { title } : {}),
    ...(presenter ? { presenter } : {}),
    ...(passcode ? { passcode } : {}),
  };
}

async function main(): Promise<void> {
  fillLanguages(ui.language, SOURCE_LANGUAGES, "en");
  ui.title.maxLength = TITLE_MAX;
  ui.presenter.maxLength = PRESENTER_MAX;
  ui.passcode.maxLength = PASSCODE_MAX;
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
    const create = createAction();
    if (!create) return;
    notice(ui.error, "");
    ui.create.disabled = true;
    socket?.send(create);
  });
  ui.linkPasscode.addEventListener("change", () => void showListenerLink());
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
  for (const format of ["json", "csv"] as const) {
    byId(`report-${format}`).addEventListener("click", () => downloadReport(format));
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
