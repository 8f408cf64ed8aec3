// Small DOM helpers both pages use.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** Shows `text` in a notice element, or hides it when `text` is empty. */
export function notice(element: HTMLElement, text: string): void {
  element.textContent = text;
  element.hidden = text === "";
}

export function fillLanguages(select: HTMLSelectElement, languages: readonly string[], chosen: string): void {
  const names = new Intl.DisplayNames([navigator.language || "en"], { type: "language" });
  for (const code of languages) {
    const option = new Option(`${names.of(code) ?? code} (${code})`, code, false, code === chosen);
    select.add(option);
  }
}

export function describeState(state: { isPaused: boolean; isMuted: boolean; captionsDelayed?: boolean }): string {
  if (state.isPaused) return "paused";
  const live = state.isMuted ? "muted (captions only)" : "live";
  return state.captionsDelayed ? `${live} · captions delayed: speech recognition is busy, they follow in order` : live;
}

/** Offers `text` as a file download named `name`. */
export function saveFile(text: string, type: string, name: string): void {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
