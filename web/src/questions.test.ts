// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { MAX_QUESTION_CHARACTERS } from "./protocol";
import { checkQuestion, type QuestionMessage, QuestionQueue, questionRefusal, renderQuestions } from "./questions";

const question = (questionId: string, askedAt: number, extra: Partial<QuestionMessage> = {}): QuestionMessage => ({
  type: "question",
  sessionId: "golden-eagle-misty-otter-4271",
  questionId,
  language: "fr",
  text: "Quand termine la conférence ?",
  translatedText: "When it ends up the conference ?",
  translated: true,
  askedAt,
  ...extra,
});

describe("checkQuestion", () => {
  it("trims what it sends", () => {
    expect(checkQuestion("  Pourquoi ?  ")).toEqual({ text: "Pourquoi ?" });
  });

  it("refuses an empty question and one over the limit, counting characters as the server does", () => {
    expect(checkQuestion("   ")).toHaveProperty("problem");
    expect(checkQuestion("😀".repeat(MAX_QUESTION_CHARACTERS))).toEqual({ text: "😀".repeat(MAX_QUESTION_CHARACTERS) });
    expect(checkQuestion("x".repeat(MAX_QUESTION_CHARACTERS + 1))).toHaveProperty("problem");
  });
});

describe("questionRefusal", () => {
  it("says the speaker is not taking questions, and to wait when rate-limited", () => {
    expect(questionRefusal("QUESTIONS_CLOSED", "")).toMatch(/not taking questions/);
    expect(questionRefusal("RATE_LIMITED", "")).toMatch(/wait/);
    expect(questionRefusal("INVALID_MESSAGE", "text: too long")).toMatch(/INVALID_MESSAGE: text: too long/);
  });
});

describe("QuestionQueue", () => {
  it("keeps open questions oldest first, once each, until marked", () => {
    const queue = new QuestionQueue();
    queue.add(question("b", 2));
    queue.add(question("a", 1));
    queue.add(question("a", 1));
    expect(queue.open.map((q) => q.questionId)).toEqual(["a", "b"]);
    expect(queue.remove("a")).toBe(true);
    expect(queue.remove("a")).toBe(false);
    expect(queue.open.map((q) => q.questionId)).toEqual(["b"]);
  });

  it("renders the translation, the asker's language and the original, and marks a question", () => {
    const queue = new QuestionQueue();
    queue.add(question("q1", 1));
    queue.add(question("q2", 2, { language: "de", text: "Warum?", translatedText: "Warum?", translated: false }));
    const list = document.createElement("ol");
    const marks: string[] = [];
    renderQuestions(list, queue, (id, status) => marks.push(`${id}:${status}`));
    const [first, second] = [...list.querySelectorAll("li")];
    expect(first?.querySelector(".question-text")?.textContent).toBe("When it ends up the conference ?");
    expect(first?.querySelector(".question-original")?.textContent).toBe("Quand termine la conférence ?");
    expect(first?.title).toBe("Quand termine la conférence ?");
    expect(first?.querySelector(".badge")?.textContent).toContain("(fr)");
    expect(second?.querySelector(".badge")?.textContent).toContain("not translated");
    (second?.querySelector("[data-mark=dismissed]") as HTMLButtonElement).click();
    expect(marks).toEqual(["q2:dismissed"]);
    expect(list.dataset.count).toBe("2");
  });
});
