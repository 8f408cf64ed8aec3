// The stage display: captions for a projector or an OBS browser source, one or two languages side by side
// (`display.html?session=…&languages=es,fr&background=transparent`). One listener connection per language
// (a connection joins one language), each through the listener page's own Listening. It never plays speech:
// no audio element, no AudioContext (the speech pieces that arrive are ignored). A private talk's passcode comes in
// the address (`&passcode=`); a titled talk's title and presenter head the screen.
import { type CaptionStore, renderCaptions } from "./captions";
import { loadConfig } from "./config";
import { parseDisplayParams } from "./display-params";
import { byId, describeState, notice } from "./dom";
import { Listening } from "./listening";
import type { TargetLanguage } from "./protocol";
import { ScreenWake } from "./wake-lock";

/** Finals kept on screen (above the partial); the box shows the last few lines of them, the rest scrolls away. */
const FINALS_SHOWN = 6;

interface Column {
  finals: HTMLOListElement;
  partial: HTMLElement;
  lines: HTMLElement;
  status: HTMLElement;
}

function column(stage: HTMLElement, language: TargetLanguage): Column {
  const section = document.createElement("section");
  section.className = "column";
  section.lang = language;
  section.dataset.language = language;
  const heading = document.createElement("h2");
  heading.className = "language";
  heading.textContent = new Intl.DisplayNames([language], { type: "language" }).of(language) ?? language;
  const status = document.createElement("span");
  status.className = "status";
  heading.append(" ", status);
  const lines = document.createElement("div");
  lines.className = "lines";
  const finals = document.createElement("ol");
  finals.className = "finals";
  const partial = document.createElement("p");
  partial.className = "caption partial";
  lines.append(finals, partial);
  section.append(heading, lines);
  stage.append(section);
  return { finals, partial, lines, status };
}

function show(view: Column, store: CaptionStore): void {
  renderCaptions(view.finals, store, { partial: view.partial, lastFinals: FINALS_SHOWN });
  view.lines.scrollTop = view.lines.scrollHeight; // smooth: the stylesheet's scroll-behavior
}

async function main(): Promise<void> {
  const problem = byId("problem");
  const parsed = parseDisplayParams(location.search);
  if (!parsed.ok) {
    notice(problem, parsed.problem);
    return;
  }
  const { sessionId, languages, background, passcode } = parsed.params;
  const talk = byId("talk");
  document.documentElement.dataset.background = background;
  const config = await loadConfig();
  const stage = byId("stage");
  for (const language of languages) {
    const view = column(stage, language);
    const listening = new Listening(config.webSocketUrl, sessionId, language, {
      onCaptions: (store) => show(view, store),
      onJoined: (message, joins) => {
        view.finals.dataset.joins = String(joins);
        notice(problem, "");
        notice(talk, [message.title, message.presenter].filter(Boolean).join(" · "));
      },
      onConnection: (state, attempt) => {
        view.status.textContent = state === "open" ? "" : state === "reconnecting" ? `reconnecting (${attempt})…` : state;
      },
      onBroadcastState: (state) => {
        const described = describeState(state);
        view.status.textContent = described === "live" ? "" : described;
      },
      onEnded: () => (view.status.textContent = "ended"),
      onProblem: (text) => notice(problem, text),
    }, passcode);
    listening.start();
  }
  await ScreenWake.forPage().keepOn();
}

main().catch((error: Error) => notice(byId("problem"), error.message));
