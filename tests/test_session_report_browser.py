"""The report after the talk in a real headless Chromium against the local platform (`make dev`).

The speaker page streams the Piper talk through Chromium's fake microphone; three listener pages join from its
link (two in Spanish, one in French); when the speaker ends the session the page shows the report: the peak of 3
listeners, es 2 and fr 1, a line per language in its chart, and the usage rows as the session's meter counted them;
its JSON and CSV downloads hold the same counts. A screenshot of the report goes to docs/screenshots/ (linked from
docs/WEB.md).
"""

from __future__ import annotations

import csv
import json

import pytest
from playwright.sync_api import expect

from tests.test_web_pages_browser import (  # noqa: F401 - the fixtures: one local platform and Chromium per module
    DATASET_AT_LEAST,
    FINALS_MORE_THAN,
    SCREENSHOTS,
    WAIT_MS,
    browser,
    new_page,
    stack,
    start_talk,
    talk_wav,
)

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(0.5)]

AUDIENCE = [("es", "es-1"), ("es", "es-2"), ("fr", "fr-1")]


def set_state(speaker, state: str) -> None:
    """Press Pause (or Resume) until the page shows ``state``: on a loaded machine the control's function may time
    out, and the speaker presses again."""
    shown = speaker.locator("#state")
    for _ in range(4):
        speaker.locator("#pause").click()
        try:
            expect(shown).to_have_text(state, timeout=60_000)
            return
        except AssertionError:
            continue
    expect(shown).to_have_text(state)


def test_after_end_session_the_speaker_sees_and_downloads_the_report_of_its_audience(stack, browser):  # noqa: F811
    speaker, link = start_talk(stack, browser, "speaker")
    listeners = []
    try:
        # Paused while the audience joins: nothing is recognised, translated or spoken meanwhile, which spares a
        # loaded machine (joins there have timed out behind the talk's work).
        set_state(speaker, "paused")
        for language, name in AUDIENCE:
            page = new_page(browser.new_context(viewport={"width": 360, "height": 740}, user_agent=name), name)
            page.goto(link)
            page.select_option("#language", language)
            page.get_by_role("button", name="Join").click()
            page.wait_for_function(DATASET_AT_LEAST, arg=["joins", 1])
            listeners.append(page)
        set_state(speaker, "live")
        # The talk is heard by all three: a final on each listener's page, and the speaker counts three.
        for page in listeners:
            page.wait_for_function(FINALS_MORE_THAN, arg=[0], timeout=WAIT_MS)
        expect(speaker.locator("#listener-count")).to_have_text("3")

        speaker.once("dialog", lambda dialog: dialog.accept())
        speaker.get_by_role("button", name="End session").click()
        report = speaker.locator("#report")
        report.wait_for(state="visible")
        expect(speaker.locator("#report-peak")).to_have_text("3")
        expect(speaker.locator("#report-languages")).to_have_text("es 2 · fr 1")
        assert speaker.locator("#report-duration").inner_text().count(":") >= 1
        lines = speaker.locator("#report-chart polyline").evaluate_all(
            "(lines) => lines.map((l) => l.dataset.language)"
        )
        assert lines == ["es", "fr"]

        with speaker.expect_download() as info:
            speaker.locator("#report-json").click()
        saved = json.loads(info.value.path().read_text(encoding="utf-8"))
        assert info.value.suggested_filename.endswith("-report.json")
        assert saved["peakListeners"] == 3
        assert saved["peakListenersByLanguage"] == {"es": 2, "fr": 1}
        assert max(sample["listeners"] for sample in saved["listenersOverTime"]) == 3
        assert saved["durationSeconds"] > 0 and saved["audioSeconds"] > 0
        # The usage rows: the session's metered counts, as the server sent them.
        shown = {
            name: speaker.locator(f"#report-{name}").inner_text()
            for name in ("translated", "spoken", "messages", "cost")
        }
        # Not the translated characters: earlier tests on this deployment may have translated (and cached) every
        # block this talk said before it ended, and a cached translation is not billed.
        assert saved["usage"]["messagesSent"] > 0
        assert shown["translated"] == f"{saved['usage']['translatedCharacters']:,}"
        assert shown["messages"] == f"{saved['usage']['messagesSent']:,}"
        assert shown["cost"] == f"${saved['estimatedCostUsd']:.2f}"

        with speaker.expect_download() as info:
            speaker.locator("#report-csv").click()
        rows = list(csv.reader(info.value.path().read_text(encoding="utf-8").splitlines()))
        assert rows[0] == ["metric", "language", "minute", "value"]
        values = {(metric, language, minute): value for metric, language, minute, value in rows[1:]}
        assert values[("peakListeners", "", "")] == "3"
        assert values[("peakListeners", "es", "")] == "2"
        assert values[("peakListeners", "fr", "")] == "1"
        assert values[("sessionId", "", "")] == saved["sessionId"]
        assert "3" in {
            value for (metric, language, _), value in values.items() if metric == "listeners" and not language
        }

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        report.screenshot(path=str(SCREENSHOTS / "speaker-report-1280.png"))
    finally:
        for page in (speaker, *listeners):
            page.context.close()
