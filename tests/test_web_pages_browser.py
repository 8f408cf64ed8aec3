"""The speaker and listener pages in a real headless Chromium against the local platform (`make dev`).

The speaker page streams the Piper talk through Chromium's fake microphone (the WAV loops);
two listener pages (es, fr), opened from the link the speaker page shows, get captions in
their language in order and play the speech; the QR code read back from a screenshot is that
link; a listener whose connection is dropped rejoins by itself; after the speaker ends the
session, the downloaded SRT and WebVTT parse and hold the finals shown. A listener who joins late sees the
talk so far before the live captions, and after the session the speaker page downloads the whole transcript
per language, with the same cue times (the segments' times in the talk) as the listener's download. Screenshots of both
pages at 360 px and 1280 px go to docs/screenshots/ (linked from the README and docs/WEB.md).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import srt
import webvtt
from playwright.sync_api import expect, sync_playwright

from broadcast_tools import local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.speech import TALK, synthesize, write_wav
from tests.support.running_platform import RunningPlatform

pytestmark = pytest.mark.terraform

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: "The team has worked very hard", mid-talk, as the local apertium says it in each language.
LISTENERS = {"es": "equipo", "fr": "équipe"}
#: Long enough for a loaded machine; every wait ends as soon as what it waits for is on the page.
WAIT_MS = 240_000

CAPTIONS_HAVE = """([word]) => Array.from(document.querySelectorAll('#captions li.final'))
    .some((li) => li.textContent.toLowerCase().includes(word))"""
DATASET_AT_LEAST = """([key, n]) => Number(document.querySelector('#captions').dataset[key] || 0) >= n"""
FINALS_MORE_THAN = """([n]) => document.querySelectorAll('#captions li.final').length > n"""


@pytest.fixture(scope="module")
def talk_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("talk") / "talk.wav"
    write_wav(path, synthesize(TALK))
    return path


@pytest.fixture(scope="module")
def stack(deployed_local):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    # The pages as the source says now (make build does the same through `make web`).
    subprocess.run(["npm", "--prefix", str(ROOT / "web"), "run", "build", "--silent"], check=True)
    with RunningPlatform(deployed_local["endpoint"]) as running:
        assert running.stack.pages.built
        yield running


@pytest.fixture(scope="module")
def browser(talk_wav):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (requirements/debian.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={talk_wav}",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def normal(text: str) -> str:
    """Whitespace as a reader sees it (an engine's double space is one)."""
    return " ".join(text.split())


def new_page(context, name: str):
    """A page whose console and errors are in the test's output (shown when a test fails)."""
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("console", lambda message: print(f"{name} console {message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"{name} page error: {error}"))
    return page


class Broadcast:
    def __init__(self, stack, speaker, listeners, link):
        self.stack = stack
        self.speaker = speaker
        self.listeners = listeners
        self.link = link


@pytest.fixture(scope="module")
def broadcast(stack, browser):
    speaker_context = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["microphone"], accept_downloads=True
    )
    speaker = new_page(speaker_context, "speaker")
    speaker.goto(f"{stack.stack.site_url}speaker.html#token={local_auth.token()}")
    speaker.select_option("#source-language", "en")
    create = speaker.get_by_role("button", name="Create session and start the microphone")
    expect(create).to_be_enabled(timeout=WAIT_MS)  # connected: the first connection cold-starts its functions
    link_field = speaker.locator("#listener-link")
    for _ in range(3):  # the page lets the speaker try again when createSession's function failed (overloaded)
        create.click()
        speaker.wait_for_function(
            "() => document.querySelector('#listener-link').value !== '' || !document.querySelector('#create').disabled"
        )
        if link_field.input_value():
            break
    link = link_field.input_value()
    assert link, "no session was created"
    listeners = {}
    for language in LISTENERS:
        # A context (and user agent) each: the test can find and drop one listener's connection.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, user_agent=f"listener-{language}", accept_downloads=True
        )
        page = new_page(context, f"listener {language}")
        page.goto(link)
        page.select_option("#language", language)
        page.get_by_role("button", name="Join").click()
        page.wait_for_function(DATASET_AT_LEAST, arg=["joins", 1])
        listeners[language] = page
    for language, word in LISTENERS.items():
        listeners[language].wait_for_function(CAPTIONS_HAVE, arg=[word], timeout=WAIT_MS)
    yield Broadcast(stack, speaker, listeners, link)
    for page in (speaker, *listeners.values()):
        page.context.close()


def test_speaker_page_shows_a_link_and_qr_code_that_open_the_listener_page_on_the_session(broadcast, tmp_path):
    session_id = broadcast.speaker.locator("#session-id").inner_text()
    assert broadcast.link == f"{broadcast.stack.stack.site_url}listener.html?session={session_id}"
    picture = tmp_path / "qr.png"
    broadcast.speaker.locator("#qr").screenshot(path=str(picture))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(picture)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == broadcast.link


def test_speaker_page_shows_its_own_transcript_and_the_audience(broadcast):
    speaker = broadcast.speaker
    speaker.wait_for_function(
        "() => document.querySelectorAll('#transcript li.final').length > 0"
        " && document.querySelector('#listener-count').textContent === '2'"
        " && /es 1/.test(document.querySelector('#languages').textContent)",
        timeout=WAIT_MS,
    )
    transcript = " ".join(speaker.locator("#transcript li.final").all_inner_texts()).lower()
    assert "team" in transcript or "meeting" in transcript


@pytest.mark.parametrize("language", list(LISTENERS))
def test_listener_gets_captions_in_its_language_in_spoken_order(broadcast, language):
    page = broadcast.listeners[language]
    finals = page.locator("#captions li.final")
    languages = finals.evaluate_all("(items) => items.map((li) => li.lang)")
    assert set(languages) == {language}
    segments = finals.evaluate_all("(items) => items.map((li) => li.dataset.segmentId)")
    assert len(segments) == len(set(segments))
    assert segments == sorted(segments, key=lambda s: [int(n) for n in s.lstrip("s").split("-u")])
    assert page.get_attribute("#captions", "role") == "log"


@pytest.mark.parametrize("language", list(LISTENERS))
def test_listener_plays_the_translated_speech(broadcast, language):
    # `played` counts clips that ended; the queue plays one at a time (web/src/playback.ts).
    broadcast.listeners[language].wait_for_function(DATASET_AT_LEAST, arg=["played", 1], timeout=WAIT_MS)


def test_listener_whose_connection_drops_rejoins_the_same_session_and_language(broadcast):
    page = broadcast.listeners["fr"]
    gateway = broadcast.stack.stack.gateway
    dropped = gateway.connection_ids(user_agent="listener-fr")
    assert len(dropped) == 1
    finals_before = page.locator("#captions li.final").count()
    gateway.close(dropped[0])
    page.wait_for_function(DATASET_AT_LEAST, arg=["joins", 2], timeout=WAIT_MS)
    rejoined = gateway.connection_ids(user_agent="listener-fr")
    assert rejoined and rejoined != dropped
    # Captions keep coming, still in French (the talk loops through the fake microphone).
    page.wait_for_function(FINALS_MORE_THAN, arg=[finals_before], timeout=WAIT_MS)
    assert set(page.locator("#captions li.final").evaluate_all("(items) => items.map((li) => li.lang)")) == {"fr"}


def test_a_listener_who_joins_late_sees_the_talk_so_far_then_live_captions(broadcast, browser):
    early = broadcast.listeners["es"]
    spoken_before = early.locator("#captions li.final").evaluate_all(
        "(items) => items.filter((li) => li.textContent.trim()).map((li) => [li.dataset.segmentId, li.textContent])"
    )
    assert spoken_before
    context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent="listener-late")
    try:
        late = new_page(context, "listener late")
        late.goto(broadcast.link)
        late.select_option("#language", "es")
        late.get_by_role("button", name="Join").click()
        late.wait_for_function(DATASET_AT_LEAST, arg=["earlier", 1], timeout=WAIT_MS)
        shown = late.locator("#captions li.final").evaluate_all(
            "(items) => items.map((li) => [li.dataset.segmentId, li.textContent])"
        )
        # Everything the early listener had before this one joined: the same text, in the same order, once.
        assert [final for final in shown if final in spoken_before] == spoken_before
        assert len({segment for segment, _ in shown}) == len(shown)
        # Then the live captions go on after them.
        late.wait_for_function(FINALS_MORE_THAN, arg=[len(shown)], timeout=WAIT_MS)
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_a_phone_and_a_laptop_and_are_pictured_in_the_docs(broadcast, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, page in (("speaker", broadcast.speaker), ("listener", broadcast.listeners["es"])):
        page.set_viewport_size({"width": width, "height": 800 if width > 360 else 740})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} page scrolls sideways at {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))


def test_speaker_ends_the_session_after_confirming_and_listeners_are_told(broadcast):
    speaker = broadcast.speaker
    speaker.once("dialog", lambda dialog: dialog.accept())
    speaker.get_by_role("button", name="End session").click()
    speaker.locator("#ended").wait_for(state="visible")
    for page in broadcast.listeners.values():
        page.locator("#ended").wait_for(state="visible")
        assert page.locator("#state").inner_text() == "ended"


@pytest.mark.parametrize("language", list(LISTENERS))
def test_downloaded_srt_and_webvtt_hold_the_finals_in_order(broadcast, language, tmp_path):
    page = broadcast.listeners[language]
    shown = [normal(text) for text in page.locator("#captions li.final").all_text_contents()]
    assert shown
    downloads = {}
    for name in ("txt", "srt", "vtt"):
        with page.expect_download() as info:
            page.locator(f"#download-{name}").click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == f".{name}"
        downloads[name] = path
    assert [normal(line) for line in downloads["txt"].read_text(encoding="utf-8").splitlines()] == shown
    subtitles = list(srt.parse(downloads["srt"].read_text(encoding="utf-8")))
    assert [normal(s.content) for s in subtitles] == shown
    assert all(a.start <= b.start for a, b in zip(subtitles, subtitles[1:], strict=False))
    cues = webvtt.read(str(downloads["vtt"]))
    assert [normal(c.text) for c in cues] == shown


def download(page, button: str, into: Path) -> Path:
    with page.expect_download() as info:
        page.locator(button).click()
    path = into / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_speaker_downloads_the_whole_transcript_per_language_with_the_listeners_cue_times(broadcast, tmp_path):
    speaker, listener = broadcast.speaker, broadcast.listeners["es"]
    speaker.locator("#downloads").wait_for(state="visible")
    offered = speaker.locator("#transcript-language option").evaluate_all("(items) => items.map((o) => o.value)")
    assert {"en", "es", "fr"} <= set(offered)
    speaker.select_option("#transcript-language", "es")
    whole = list(srt.parse(download(speaker, "#transcript-srt", tmp_path).read_text(encoding="utf-8")))
    (tmp_path / "listener").mkdir()
    heard = list(srt.parse(download(listener, "#download-srt", tmp_path / "listener").read_text(encoding="utf-8")))
    assert heard and whole
    # Every final the listener was shown is in the whole transcript, at the same time in the talk (the talk
    # loops, so a text comes more than once: each at its own time).
    kept = {(normal(cue.content), cue.start) for cue in whole}
    assert [(normal(cue.content), cue.start) for cue in heard if (normal(cue.content), cue.start) not in kept] == []
    speaker.select_option("#transcript-language", "en")
    source = download(speaker, "#transcript-txt", tmp_path).read_text(encoding="utf-8").splitlines()
    said = [normal(text) for text in speaker.locator("#transcript li.final").all_text_contents()]
    assert said and set(said) <= {normal(line) for line in source}
