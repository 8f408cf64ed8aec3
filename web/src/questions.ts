// Questions across languages (docs/PROTOCOL.md, "Questions"): what the listener page checks before asking,
// and the speaker page's queue of open questions, translated, with the asker's language and the original.
import { MAX_QUESTION_CHARACTERS, type MessageOf, type QuestionStatus } from "./protocol";

export type QuestionMessage = MessageOf<"question">;

/** The question as `askQuestion` would take it (trimmed), or why it would be refused. */
export function checkQuestion(text: string): { text: string } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { problem: "Type a question first." };
  const length = [...trimmed].length; // characters as the server counts them (code points)
  if (length > MAX_QUESTION_CHARACTERS) {
    return { problem: `A question is at most ${MAX_QUESTION_CHARACTERS} characters; this one has ${length}.` };
  }
  return { text: trimmed };
}

/** What to tell a listener whose question was refused (the error codes of docs/ERROR_CODES.md). */
export function questionRefusal(code: string, message: string): string {
  switch (code) {
    case "QUESTIONS_CLOSED":
      return "The speaker is not taking questions now.";
    case "RATE_LIMITED":
      return "You have asked several questions in a short time; wait a minute before asking again.";
    default:
      return `Your question was not sent (${code}: ${message}).`;
  }
}

/** The speaker's open questions, oldest first; a marked question leaves the queue. */
export class QuestionQueue {
  private readonly questions = new Map<string, QuestionMessage>();

  add(question: QuestionMessage): void {
    this.questions.set(question.questionId, question);
  }

  /** The question was marked (`questionMarked`): it leaves the queue. */
  remove(questionId: string): boolean {
    return this.questions.delete(questionId);
  }

  get open(): QuestionMessage[] {
    return [...this.questions.values()].sort((a, b) => a.askedAt - b.askedAt);
  }
}

/**
 * The queue as list items: the translated text first, the asker's language, the original behind a disclosure
 * (and as the item's tooltip), and the two marks.
 */
export function renderQuestions(
  list: HTMLOListElement,
  queue: QuestionQueue,
  onMark: (questionId: string, status: QuestionStatus) => void,
): void {
  const names = new Intl.DisplayNames([navigator.language || "en"], { type: "language" });
  const items = queue.open.map((question) => {
    const item = document.createElement("li");
    item.className = "question";
    item.dataset.questionId = question.questionId;
    item.dataset.language = question.language;
    item.title = question.text;
    const text = document.createElement("p");
    text.className = "question-text";
    text.textContent = question.translatedText;
    const language = document.createElement("span");
    language.className = "badge";
    language.textContent = question.translated
      ? `${names.of(question.language) ?? question.language} (${question.language})`
      : `${names.of(question.language) ?? question.language} (${question.language}), not translated`;
    const original = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "Original";
    const originalText = document.createElement("p");
    originalText.lang = question.language;
    originalText.className = "question-original";
    originalText.textContent = question.text;
    original.append(summary, originalText);
    const actions = document.createElement("div");
    actions.className = "row";
    for (const [status, label] of [
      ["answered", "Answered"],
      ["dismissed", "Dismiss"],
    ] as const) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.mark = status;
      button.addEventListener("click", () => {
        button.disabled = true;
        onMark(question.questionId, status);
      });
      actions.append(button);
    }
    item.append(text, language, original, actions);
    return item;
  });
  list.replaceChildren(...items);
  list.dataset.count = String(items.length);
}
