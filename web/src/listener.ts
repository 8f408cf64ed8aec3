// The listener page: join from the link/QR (or a typed id), captions and speech in my language, live, read
// the way I like (text size, theme, captions and speech on or off: remembered on this device).
import { type CaptionStore, renderCaptions } from "./captions";
import { loadConfig, type SiteConfig } from "./config";
import { byId, describeState, fillLanguages, notice } from "./dom";
import { Listening } from "./listening";
import { forgetPasscode, rememberedPasscode, rememberPasscode, validPasscode } from "./passcode";
import { SpeechQueue } from "./playback";
import {
  type BroadcastState,
  MAX_QUESTION_CHARACTERS,
  PASSCODE_CODES,
  PASSCODE_MAX,
  PASSCODE_MIN,
  SESSION_ID_INPUT_PATTERN,
  SESSION_ID_PATTERN,
  type TalkTitle,
  TARGET_LANGUAGES,
  type TargetLanguage,
} from "./protocol";
import { checkQuestion, questionRefusal } from "./questions";
import {
  applyLook,
  deviceStorage,
  type ListenerSettings,
  loadSettings,
  saveSettings,
  systemTheme,
  type TextSize,
  type Theme,
} from "./settings";
import { downloadTranscript, type ExportFormat } from "./transcript-export";
import { ScreenWake } from "./wake-lock";

const ui = {
  connection: byId("connection"),
  form: byId<HTMLFormElement>("join-form"),
  session: byId<HTMLInputElement>("session"),
  language: byId<HTMLSelectElement>("language"),
  passcodeField: byId("passcode-field"),
  passcode: byId<HTMLInputElement>("passcode"),
  join: byId<HTMLButtonElement>("join"),
  talk: byId("talk"),
  talkTitle: byId("talk-title"),
  talkPresenter: byId("talk-presenter"),
  live: byId("live"),
  state: byId("state"),
  volume: byId<HTMLInputElement>("volume"),
  textSize: byId<HTMLSelectElement>("text-size"),
  theme: byId<HTMLSelectElement>("theme"),
  showCaptions: byId<HTMLInputElement>("show-captions"),
  playSpeech: byId<HTMLInputElement>("play-speech"),
  captionView: byId("caption-view"),
  captions: byId<HTMLOListElement>("captions"),
  partial: byId("partial"),
  questionForm: byId<HTMLFormElement>("question-form"),
  ask: byId<HTMLButtonElement>("ask"),
  question: byId<HTMLTextAreaElement>("question"),
  questionCount: byId("question-count"),
  questionStatus: byId("question-status"),
  ended: byId("ended"),
  error: byId("error"),
};

// The form refuses what joinSession would (one pattern, in protocol.ts).
ui.session.pattern = SESSION_ID_INPUT_PATTERN;
ui.passcode.minLength = PASSCODE_MIN;
ui.passcode.maxLength = PASSCODE_MAX;

const storage = deviceStorage();
let settings: ListenerSettings = loadSettings(storage, systemTheme((query) => matchMedia(query).matches));
const played: string[] = [];
const speech = new SpeechQueue(undefined, (segmentId) => {
  played.push(segmentId);
  ui.captions.dataset.played = String(played.length);
});
const wake = ScreenWake.forPage();
let listening: Listening | null = null;
/** The talk's title and presenter, as joining told them: shown, and at the head of a downloaded transcript. */
let talk: TalkTitle = {};

function showTalk(next: TalkTitle): void {
  talk = next;
  ui.talkTitle.textContent = talk.title ?? "";
  ui.talkTitle.hidden = !talk.title;
  ui.talkPresenter.textContent = talk.presenter ?? "";
  ui.talkPresenter.hidden = !talk.presenter;
  ui.talk.hidden = !talk.title && !talk.presenter;
  document.title = talk.title ? `${talk.title} · Listen` : "Listen · Broadcast";
}

/** A private talk: ask for the passcode (the link did not carry it, or it was wrong). */
function askForPasscode(): void {
  ui.passcodeField.hidden = false;
  ui.passcode.required = true;
  ui.passcode.focus();
}

function showCaptions(store: CaptionStore): void {
  renderCaptions(ui.captions, store, { partial: ui.partial, speechMarks: true });
  ui.captionView.scrollTop = ui.captionView.scrollHeight;
}

/** Shows the settings on the page and in its controls, and keeps them on the device. */
function useSettings(next: ListenerSettings): void {
  settings = next;
  saveSettings(storage, settings);
  applyLook(document.documentElement, settings);
  ui.textSize.value = settings.textSize;
  ui.theme.value = settings.theme;
  ui.showCaptions.checked = settings.captions;
  ui.captionView.hidden = !settings.captions;
  listening?.setCaptions(settings.captions); // partials only while captions are shown
  ui.playSpeech.checked = settings.speech;
  speech.muted = !settings.speech;
  ui.volume.value = String(settings.volume);
  speech.volume = settings.volume;
}

/** The speaker's broadcast state on the page: the badge, and the question box only while questions are open. */
function showBroadcastState(state: BroadcastState): void {
  ui.state.textContent = describeState(state);
  ui.questionForm.hidden = state.questionsClosed === true;
}

function ask(): void {
  const checked = checkQuestion(ui.question.value);
  if ("problem" in checked) {
    notice(ui.questionStatus, checked.problem);
    return;
  }
  if (listening?.ask(checked.text)) {
    ui.ask.disabled = true;
    notice(ui.questionStatus, "Sending…");
  } else {
    notice(ui.questionStatus, "Not connected; try again in a moment.");
  }
}

function join(sessionId: string, language: TargetLanguage, webSocketUrl: string, passcode?: string): void {
  if (listening) {
    listening.changeLanguage(language);
    return;
  }
  // The address keeps the session and language, never the passcode (it is remembered on the device instead).
  history.replaceState(null, "", `?${new URLSearchParams({ session: sessionId, language })}`);
  const current = new Listening(webSocketUrl, sessionId, language, {
    onCaptions: showCaptions,
    onJoined: (message, joins) => {
      if (passcode) rememberPasscode(storage, sessionId, passcode);
      ui.passcodeField.hidden = true;
      showTalk({ title: message.title, presenter: message.presenter });
      ui.captions.dataset.joins = String(joins);
      ui.connection.textContent = joins > 1 ? "connected (rejoined)" : "connected";
      ui.live.hidden = false;
      ui.join.textContent = "Change language";
      ui.session.readOnly = true;
      notice(ui.error, "");
      void wake.keepOn();
    },
    onLanguageChanged: (language) => (ui.captions.lang = language),
    onConnection: (state, attempt) => {
      ui.connection.textContent = state === "reconnecting" ? `reconnecting (attempt ${attempt})…` : state;
    },
    onBroadcastState: showBroadcastState,
    onQuestionReceived: () => {
      ui.ask.disabled = false;
      ui.question.value = "";
      ui.questionCount.textContent = `0 / ${MAX_QUESTION_CHARACTERS}`;
      notice(ui.questionStatus, "Sent to the speaker, translated into the talk's language.");
    },
    onQuestionRefused: (code, message) => {
      ui.ask.disabled = false;
      if (code === "QUESTIONS_CLOSED") ui.questionForm.hidden = true;
      notice(ui.questionStatus, questionRefusal(code, message));
    },
    onEarlier: (count) => (ui.captions.dataset.earlier = String(count)),
    onSpeech: (segmentId, audio) => speech.add(segmentId, audio),
    onEnded: (reason) => {
      notice(ui.ended, reason === "speakerEnded" ? "The speaker ended the session." : "The speaker left; the session has ended.");
      ui.state.textContent = "ended";
      forgetPasscode(storage, sessionId);
      ui.questionForm.hidden = true;
      void wake.letGo();
    },
    onProblem: (text, joinRefused, code) => {
      notice(ui.error, text);
      if (joinRefused && listening === current) {
        // Not joined (no such session, ended, full, the passcode missing or wrong): let the person correct it.
        listening = null;
        ui.session.readOnly = false;
        void wake.letGo();
        if (code && PASSCODE_CODES.includes(code)) {
          forgetPasscode(storage, sessionId);
          askForPasscode();
        }
      }
    },
  }, passcode, settings.captions);
  listening = current;
  current.start();
}

function download(format: ExportFormat): void {
  const name = `${listening?.sessionId ?? "transcript"}-${listening?.targetLanguage ?? ""}`;
  downloadTranscript(listening?.captions.orderedFinals ?? [], format, name, talk);
}

function bindSettings(): void {
  useSettings(settings);
  ui.textSize.addEventListener("change", () => useSettings({ ...settings, textSize: ui.textSize.value as TextSize }));
  ui.theme.addEventListener("change", () => useSettings({ ...settings, theme: ui.theme.value as Theme }));
  ui.showCaptions.addEventListener("change", () => useSettings({ ...settings, captions: ui.showCaptions.checked }));
  ui.playSpeech.addEventListener("change", () => useSettings({ ...settings, speech: ui.playSpeech.checked }));
  ui.volume.addEventListener("change", () => useSettings({ ...settings, volume: Number(ui.volume.value) }));
  ui.volume.addEventListener("input", () => (speech.volume = Number(ui.volume.value)));
}

function main(): void {
  bindSettings();
  const params = new URLSearchParams(location.search);
  const browserLanguage = (navigator.language || "en").slice(0, 2);
  const wanted = params.get("language") ?? browserLanguage;
  fillLanguages(ui.language, TARGET_LANGUAGES, (TARGET_LANGUAGES as readonly string[]).includes(wanted) ? wanted : "en");
  ui.session.value = params.get("session") ?? "";
  // A private talk's passcode: from the link the speaker shared, else the one this device joined with before.
  ui.passcode.value = params.get("passcode") ?? rememberedPasscode(storage, ui.session.value.trim().toLowerCase()) ?? "";
  // Asked for at once, awaited by a join: a Join tapped before the deployment's configuration has arrived (a slow
  // network) joins once it has, instead of the browser submitting the form itself and reloading the page.
  const configuration = loadConfig();
  configuration.catch((error: Error) => notice(ui.error, error.message));
  // Runs `then` once the configuration has arrived (never when it could not be loaded: the page says why, above).
  const withConfig = (then: (config: SiteConfig) => void): void => void configuration.then(then, () => undefined);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const sessionId = ui.session.value.trim().toLowerCase();
    if (!SESSION_ID_PATTERN.test(sessionId)) {
      notice(ui.error, "A session id looks like golden-eagle-misty-otter-4271.");
      return;
    }
    const typed = ui.passcode.value.trim();
    const passcode = validPasscode(typed);
    if (typed && !passcode) {
      notice(ui.error, `A passcode holds ${PASSCODE_MIN} to ${PASSCODE_MAX} characters.`);
      askForPasscode();
      return;
    }
    const language = ui.language.value as TargetLanguage;
    withConfig((config) => join(sessionId, language, config.webSocketUrl, passcode ?? undefined));
  });
  ui.join.disabled = false; // disabled in the page until its form is handled here
  ui.language.addEventListener("change", () => {
    const current = listening;
    if (current) withConfig((config) => join(current.sessionId, ui.language.value as TargetLanguage, config.webSocketUrl));
  });
  ui.questionForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  ui.question.addEventListener("input", () => {
    ui.questionCount.textContent = `${[...ui.question.value].length} / ${MAX_QUESTION_CHARACTERS}`;
  });
  for (const format of ["txt", "srt", "vtt"] as const) {
    byId(`download-${format}`).addEventListener("click", () => download(format));
  }
  (params.get("session") ? ui.language : ui.session).focus();
}

try {
  main();
} catch (error) {
  notice(ui.error, (error as Error).message);
}
