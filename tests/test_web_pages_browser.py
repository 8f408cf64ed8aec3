"""The speaker and listener pages in a real headless Chromium against the local platform (`make dev`).

The speaker page streams the Piper talk through Chromium's fake microphone (the WAV loops);
two listener pages (es, fr), opened from the link the speaker page shows, get captions in
their language in order and play the speech; the QR code read back from a screenshot is that
link; a listener whose connection is dropped rejoins by itself; after the speaker ends the
session, the downloaded SRT and WebVTT parse and hold the finals shown. A listener who joins late sees the
talk so far before the live captions, and after the session the speaker page downloads the whole transcript
per language, with the same cue times (the segments' times in the talk) as the listener's download. Screenshots of both
pages at 360 px and 1280 px go to docs/screenshots/ (linked from the README and docs/WEB.md).

The stage display, opened from the speaker page's link at 1920x1080, shows the es and fr captions side by side, the
same finals as the listener pages, and never creates an audio element or AudioContext; its screenshots (dark and
transparent) go to docs/screenshots/ too. A listener's text size, theme and captions/speech choices survive a reload.

A private, titled talk: the listener link without the passcode gets the passcode prompt and PASSCODE_REQUIRED, a
wrong passcode PASSCODE_INCORRECT; the QR code's link (the speaker ticked "put the passcode in the link") joins,
shows the title and presenter, and the TXT download starts with them; a reload joins with the remembered passcode;
the stage display takes it in its address. Screenshots of the prompt and the titled page go to docs/screenshots/.
A listener who turns captions off joins again without them and receives no partial (counted at the local gateway,
per connection), still finals with speech; the speaker page shows the session's estimated cost so far.
A French listener's question reaches the speaker's queue in English, and no other listener's page or connection;
the speaker marks it answered and closing questions hides every listener's question box.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import srt
import webvtt
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from broadcast_tools import local_auth
from broadcast_tools.artifacts import ROOT
from broadcast_tools.speech import TALK, synthesize, write_wav
from tests.support.running_platform import RunningPlatform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.terraform, pytest.mark.minutes(2.5)]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: "The team has worked very hard", mid-talk, as the local apertium says it in each language.
LISTENERS = {"es": "equipo", "fr": "équipe"}
#: Long enough for a loaded machine; every wait ends as soon as what it waits for is on the page.
WAIT_MS = 240_000

CAPTIONS_HAVE = """([word]) => Array.from(document.querySelectorAll('#captions li.final'))
    .some((li) => li.textContent.toLowerCase().includes(word))"""
#: Counts what a page does with sound (installed before the page's own scripts): AudioContexts created, Audio
#: elements made, media played.
COUNT_AUDIO = """(() => {
  const counts = { contexts: 0, elements: 0, plays: 0 };
  window.__audio = counts;
  for (const name of ['AudioContext', 'webkitAudioContext', 'OfflineAudioContext']) {
    const Original = window[name];
    if (Original) window[name] = class extends Original { constructor(...a) { super(...a); counts.contexts += 1; } };
  }
  const OriginalAudio = window.Audio;
  window.Audio = class extends OriginalAudio { constructor(...a) { super(...a); counts.elements += 1; } };
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (tag, ...rest) {
    if (String(tag).toLowerCase() === 'audio') counts.elements += 1;
    return create.call(this, tag, ...rest);
  };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...a) { counts.plays += 1; return play.apply(this, a); };
})()"""
#: When each final first appears on a page, by language and segment (Date.now(): one clock for every page).
RECORD_FINALS = """(() => {
  window.__finals = {};
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.nodeType === 1 && node.matches('li.final[data-segment-id]')) {
        const key = `${node.lang}:${node.dataset.segmentId}`;
        if (!(key in window.__finals)) window.__finals[key] = { at: Date.now(), text: node.textContent };
      }
    }
  }).observe(document, { childList: true, subtree: true });
})()"""
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


#: what a listener page shows of its connection and problems (a failed wait says it)
PAGE_STATE = """() => Object.fromEntries(['connection', 'state', 'error', 'ended'].map(
  (id) => [id, document.getElementById(id)?.textContent ?? null]))"""


def wait_joined(page, joins: int = 1, stack=None) -> None:
    """Wait until the page has joined ``joins`` times; a page that does not says what it shows and, given the
    running ``stack``, what the local runtime was doing (invocations waiting for an environment, per function)."""
    try:
        page.wait_for_function(DATASET_AT_LEAST, arg=["joins", joins], timeout=WAIT_MS)
    except PlaywrightTimeout:
        runtime = f"; invocations waiting: {stack.stack.pool.queued()}" if stack is not None else ""
        pytest.fail(
            f"not joined {joins} time(s) in {WAIT_MS / 1000:.0f} s: the page shows {page.evaluate(PAGE_STATE)}{runtime}"
        )


def normal(text: str) -> str:
    """Whitespace as a reader sees it (a page shows a run of white space as one space)."""
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


def start_talk(stack, browser, name: str, **fields: str):
    """A speaker page that created a session (with ``fields`` typed into the form: ``#talk-title``, ``#presenter``,
    ``#passcode``) and streams the fake microphone; the page and the listener link it shows."""
    speaker_context = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["microphone"], accept_downloads=True
    )
    speaker = new_page(speaker_context, name)
    create = speaker.get_by_role("button", name="Create session and start the microphone")
    for _ in range(3):
        # Connected: the first connection cold-starts its functions. On a loaded machine the gateway may close it
        # before the handshake ($connect too slow); the speaker page never reconnects by itself, so load it again.
        speaker.goto(f"{stack.stack.site_url}speaker.html#token={local_auth.token()}")
        speaker.wait_for_function(
            "() => !document.querySelector('#create').disabled"
            " || document.querySelector('#connection').textContent === 'closed'"
        )
        if create.is_enabled():
            break
    speaker.select_option("#source-language", "en")
    for field, value in fields.items():
        speaker.fill(f"#{field}", value)
    expect(create).to_be_enabled()
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
    return speaker, link


@pytest.fixture(scope="module")
def broadcast(stack, browser):
    speaker, link = start_talk(stack, browser, "speaker")
    listeners = {}
    for language in LISTENERS:
        # A context (and user agent) each: the test can find and drop one listener's connection.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, user_agent=f"listener-{language}", accept_downloads=True
        )
        context.add_init_script(COUNT_AUDIO)
        context.add_init_script(RECORD_FINALS)
        page = new_page(context, f"listener {language}")
        page.goto(link)
        page.select_option("#language", language)
        page.get_by_role("button", name="Join").click()
        wait_joined(page, 1, stack)
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
    # A screen reader hears finals only: the partial is outside the live region and hidden from it.
    assert page.locator("#captions .partial").count() == 0
    assert page.get_attribute("#partial", "aria-hidden") == "true"


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
    wait_joined(page, 2, broadcast.stack)
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


STAGE = {"width": 1920, "height": 1080}
DISPLAY_HAS_FINALS = """([language]) =>
    document.querySelectorAll(`section[data-language="${language}"] li.final`).length > 0"""
DISPLAY_JOINS_AT_LEAST = """([n]) => Array.from(document.querySelectorAll('section .finals'))
    .every((list) => Number(list.dataset.joins || 0) >= n)"""


def open_display(browser, url: str, name: str):
    context = browser.new_context(viewport=STAGE, user_agent=name)
    context.add_init_script(COUNT_AUDIO)
    context.add_init_script(RECORD_FINALS)
    page = new_page(context, name)
    page.goto(url)
    for language in LISTENERS:
        page.wait_for_function(DISPLAY_HAS_FINALS, arg=[language], timeout=WAIT_MS)
    return page


def test_stage_display_shows_es_and_fr_side_by_side_with_the_listeners_finals_and_plays_no_audio(broadcast, browser):
    speaker = broadcast.speaker
    speaker.fill("#display-languages", "es,fr")
    url = speaker.get_attribute("#display-link", "href")
    session_id = speaker.locator("#session-id").inner_text()
    assert url == f"{broadcast.stack.stack.site_url}display.html?session={session_id}&languages=es,fr"
    display = open_display(browser, url, "display-dark")
    try:
        es, fr = (display.locator(f'section[data-language="{language}"]').bounding_box() for language in LISTENERS)
        assert es and fr
        assert es["x"] + es["width"] <= fr["x"], "es and fr are not side by side"
        assert abs(es["y"] - fr["y"]) < 2 and min(es["width"], fr["width"]) > 0.4 * STAGE["width"]
        assert display.evaluate("() => document.documentElement.scrollWidth <= innerWidth && scrollY === 0")
        # Large type: at least 48 px at 1080 lines high, about a twentieth of the screen.
        assert display.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.lines')).fontSize)") >= 48
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        display.screenshot(path=str(SCREENSHOTS / "display-dark-1920.png"))

        # From now on, the finals the listeners get live: the display shows the same ones, with the same text.
        since = display.evaluate("() => Date.now()")
        for listener in broadcast.listeners.values():
            count = listener.locator("#captions li.final").count()
            listener.wait_for_function(FINALS_MORE_THAN, arg=[count + 1], timeout=WAIT_MS)
        lags = []
        for language, listener in broadcast.listeners.items():
            heard = listener.evaluate("() => window.__finals")
            live = {key: seen for key, seen in heard.items() if key.startswith(f"{language}:") and seen["at"] > since}
            assert live
            display.wait_for_function(
                "([keys]) => keys.every((key) => key in window.__finals)", arg=[list(live)], timeout=WAIT_MS
            )
            shown = display.evaluate("() => window.__finals")
            assert {key: normal(shown[key]["text"]) for key in live} == {
                key: normal(seen["text"]) for key, seen in live.items()
            }
            lags += [shown[key]["at"] - seen["at"] for key, seen in live.items()]
        print(f"stage display after the listener page: {len(lags)} finals, lag ms min {min(lags)} max {max(lags)}")

        assert display.evaluate("() => document.querySelectorAll('audio, video').length") == 0
        assert display.evaluate("() => window.__audio") == {"contexts": 0, "elements": 0, "plays": 0}
        # The counter sees sound where there is some: the listener page plays its speech through it.
        assert broadcast.listeners["es"].evaluate("() => window.__audio.plays") > 0
    finally:
        display.context.close()


def test_stage_display_on_a_transparent_background_rejoins_after_a_drop(broadcast, browser):
    url = broadcast.speaker.get_attribute("#display-link", "href") + "&background=transparent"
    display = open_display(browser, url, "display-transparent")
    try:
        background = "() => [document.documentElement, document.body].map((e) => getComputedStyle(e).backgroundColor)"
        assert display.evaluate(background) == ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0)"]
        display.screenshot(path=str(SCREENSHOTS / "display-transparent-1920.png"), omit_background=True)
        # One listener connection per language, each reopened and joined again when the gateway drops it.
        gateway = broadcast.stack.stack.gateway
        dropped = gateway.connection_ids(user_agent="display-transparent")
        assert len(dropped) == len(LISTENERS)
        for connection_id in dropped:
            gateway.close(connection_id)
        display.wait_for_function(DISPLAY_JOINS_AT_LEAST, arg=[2], timeout=WAIT_MS)
        assert set(gateway.connection_ids(user_agent="display-transparent")).isdisjoint(dropped)
    finally:
        display.context.close()


def test_stage_display_says_what_is_wrong_with_its_address(broadcast, browser):
    context = browser.new_context(viewport=STAGE)
    try:
        page = new_page(context, "display-wrong")
        page.goto(f"{broadcast.stack.stack.site_url}display.html?session=golden-eagle-misty-otter-4271&languages=es,xx")
        expect(page.get_by_role("alert")).to_have_text(re.compile("Unknown language xx"))
        assert page.locator("section").count() == 0
    finally:
        context.close()


def sent(gateway, connection_id: str, kind: str) -> int:
    """Messages of ``kind`` the local gateway sent to one connection."""
    return gateway.usage.sent_to(connection_id)[kind]


def test_a_join_tapped_before_the_page_has_its_configuration_joins_once_it_arrives(broadcast, browser):
    """On a slow network config.json comes late: the tap is kept, not lost to the browser submitting the form
    itself (which reloaded the page, not joined)."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent="listener-slow-network")
    held = []
    context.route("**/config.json", lambda route: held.append(route))  # answered when the test lets it through
    try:
        page = new_page(context, "listener slow network")
        page.goto(broadcast.link)
        page.select_option("#language", "es")
        page.get_by_role("button", name="Join").click()
        assert len(held) == 1, "config.json was not asked for, or asked for again by a reload"
        assert page.url == broadcast.link, f"the page went to {page.url}"
        assert page.locator("#captions").get_attribute("data-joins") is None
        held[0].continue_()
        wait_joined(page, 1, broadcast.stack)
        assert len(held) == 1, "the page was loaded again"
    finally:
        context.close()


def test_a_listener_who_turns_captions_off_receives_no_partials_counted_at_the_gateway(broadcast, browser):
    gateway = broadcast.stack.stack.gateway
    context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent="speech-only")
    try:
        page = new_page(context, "listener speech-only")
        page.goto(broadcast.link)
        page.select_option("#language", "es")
        page.get_by_role("button", name="Join").click()
        wait_joined(page, 1, broadcast.stack)
        (reading,) = gateway.connection_ids(user_agent="speech-only")
        # Captions on (the default): partials arrive, as they do for the other listener pages. Counted at the gateway,
        # as the rest of this test counts. Two CI runs on loaded cores met no partial within 240 s, first watched on
        # the page, then counted here, so the gateway sent none to this connection; why is not known yet (alone, the
        # test passes).
        (es_reader,) = gateway.connection_ids(user_agent="listener-es")
        before = {kind: sent(gateway, es_reader, kind) for kind in ("translation/partial", "translation/final")}
        try:
            eventually(
                lambda: sent(gateway, reading, "translation/partial") > 0,
                timeout=WAIT_MS / 1000,
                interval=0.5,
                what="a partial sent to the page showing captions",
            )
        except AssertionError as failure:
            meanwhile = {kind: sent(gateway, es_reader, kind) - n for kind, n in before.items()}
            got = sent(gateway, reading, "translation/final")
            raise AssertionError(f"{failure}; meanwhile it got {got} finals, listener-es got {meanwhile}") from None

        page.uncheck("#show-captions")  # joins again on a new connection, without captions
        wait_joined(page, 2, broadcast.stack)
        (listening,) = gateway.connection_ids(user_agent="speech-only")
        assert listening != reading
        # Live finals (with speech) keep coming on the new connection, and not one partial among them.
        eventually(
            lambda: sent(gateway, listening, "translation/final") >= 2,
            timeout=WAIT_MS / 1000,
            interval=0.5,
            what="two live finals on the speech-only connection",
        )
        assert sent(gateway, listening, "translation/partial") == 0
        # Meanwhile the Spanish listener showing captions kept getting partials.
        assert sent(gateway, es_reader, "translation/partial") > 0
    finally:
        context.close()


def test_speaker_page_shows_the_estimated_cost_so_far(broadcast):
    speaker = broadcast.speaker
    cost = speaker.locator("#cost")
    speaker.wait_for_function("() => Number(document.querySelector('#cost').dataset.usd || 0) > 0", timeout=WAIT_MS)
    assert speaker.locator("dt", has_text="Estimated cost so far").count() == 1
    # Both from one status: the next may come between two reads, and the cost grows with every one
    shown, data = cost.evaluate("element => [element.innerText, element.dataset.usd]")
    assert shown == f"${float(data):.2f}"


def test_listener_settings_follow_the_system_then_are_remembered_across_a_reload(broadcast, browser):
    dark_system = browser.new_context(viewport={"width": 360, "height": 740}, color_scheme="dark")
    try:
        page = new_page(dark_system, "listener dark system")
        page.goto(broadcast.link)
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.locator("#theme")).to_have_value("dark")
    finally:
        dark_system.close()

    context = browser.new_context(viewport={"width": 360, "height": 740}, color_scheme="light", user_agent="reader")
    try:
        page = new_page(context, "listener reader")
        page.goto(broadcast.link)
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        caption_size = "() => parseFloat(getComputedStyle(document.querySelector('#caption-view')).fontSize)"
        medium = page.evaluate(caption_size)
        page.select_option("#text-size", "x-large")
        page.select_option("#theme", "dark")
        page.uncheck("#show-captions")
        page.uncheck("#play-speech")
        page.reload()
        expect(page.locator("#text-size")).to_have_value("x-large")
        expect(page.locator("#theme")).to_have_value("dark")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.locator("#show-captions")).not_to_be_checked()
        expect(page.locator("#play-speech")).not_to_be_checked()
        assert page.evaluate(caption_size) > medium
        assert page.evaluate("() => getComputedStyle(document.body).color") == "rgb(232, 232, 232)"

        page.check("#show-captions")
        page.select_option("#language", "es")
        page.get_by_role("button", name="Join").click()
        page.wait_for_function(FINALS_MORE_THAN, arg=[0], timeout=WAIT_MS)
        page.screenshot(path=str(SCREENSHOTS / "listener-settings-360.png"))
    finally:
        context.close()


def test_a_french_listeners_question_reaches_the_speaker_in_english_and_no_other_listener(broadcast, browser):
    """French, not Spanish: apertium here has fr→en (through Spanish: fr-es then spa-eng), so the French listener
    of the issue's browser test is the one that asks."""
    # A Spanish listener whose every received frame is recorded: nothing of the question may reach it.
    watcher_context = browser.new_context(viewport={"width": 1280, "height": 900}, user_agent="listener-watcher")
    try:
        watcher = new_page(watcher_context, "listener watcher")
        frames: list[str] = []
        watcher.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
        watcher.goto(broadcast.link)
        watcher.select_option("#language", "es")
        watcher.get_by_role("button", name="Join").click()
        wait_joined(watcher, 1, broadcast.stack)

        french = broadcast.listeners["fr"]
        expect(french.locator("#question-form")).to_be_visible()
        french.fill("#question", "Quand termine la conférence ?")
        french.get_by_role("button", name="Ask").click()
        expect(french.locator("#question-status")).to_contain_text("Sent to the speaker", timeout=WAIT_MS)

        speaker = broadcast.speaker
        question = speaker.locator("#question-queue li.question").first
        expect(question.locator(".question-text")).to_contain_text("conference", timeout=WAIT_MS)
        expect(question.locator(".badge")).to_contain_text("(fr)")
        assert question.get_attribute("title") == "Quand termine la conférence ?"
        question.locator("summary").click()
        expect(question.locator(".question-original")).to_have_text("Quand termine la conférence ?")
        speaker.locator("#questions").screenshot(path=str(SCREENSHOTS / "speaker-questions.png"))

        for page in (broadcast.listeners["es"], watcher):
            assert "conférence" not in page.locator("body").inner_text()
            assert page.locator("li.question").count() == 0
        assert frames, "the watcher received its own messages"
        leaked = [f for f in frames if "Quand termine" in f or '"question"' in f or "questionReceived" in f]
        assert not leaked, leaked

        question.get_by_role("button", name="Answered").click()
        expect(speaker.locator("#question-queue li.question")).to_have_count(0, timeout=WAIT_MS)

        # Closed: every listener page hides its box; an open session shows it again.
        speaker.uncheck("#take-questions")
        expect(french.locator("#question-form")).to_be_hidden(timeout=WAIT_MS)
        expect(watcher.locator("#question-form")).to_be_hidden(timeout=WAIT_MS)
        speaker.check("#take-questions")
        expect(french.locator("#question-form")).to_be_visible(timeout=WAIT_MS)
        french.screenshot(path=str(SCREENSHOTS / "listener-question-1280.png"))
    finally:
        watcher_context.close()


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
    finals = page.locator("#captions li.final")
    shown_before = [normal(text) for text in finals.all_text_contents()]
    assert shown_before
    downloads = {}
    for name in ("txt", "srt", "vtt"):
        with page.expect_download() as info:
            page.locator(f"#download-{name}").click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == f".{name}"
        downloads[name] = path
    # The last of the talk's buffered audio may still reach the page after the session ended: each download holds
    # what the page showed when it was clicked, the finals in order.
    shown_after = [normal(text) for text in finals.all_text_contents()]
    subtitles = list(srt.parse(downloads["srt"].read_text(encoding="utf-8")))
    assert all(a.start <= b.start for a, b in zip(subtitles, subtitles[1:], strict=False))
    held = {
        "txt": [normal(line) for line in downloads["txt"].read_text(encoding="utf-8").splitlines()],
        "srt": [normal(s.content) for s in subtitles],
        "vtt": [normal(c.text) for c in webvtt.read(str(downloads["vtt"]))],
    }
    for name, texts in held.items():
        assert len(texts) >= len(shown_before), name
        assert texts == shown_after[: len(texts)], name


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
    # The listener's first: a final is kept before it is delivered, so whatever the listener was shown is in the
    # transcript the speaker downloads next, even when the talk's last finals are still arriving.
    (tmp_path / "listener").mkdir()
    heard = list(srt.parse(download(listener, "#download-srt", tmp_path / "listener").read_text(encoding="utf-8")))
    whole = list(srt.parse(download(speaker, "#transcript-srt", tmp_path).read_text(encoding="utf-8")))
    assert heard and whole
    # Every final the listener was shown is in the whole transcript, at the same time in the talk (the talk
    # loops, so a text comes more than once: each at its own time).
    kept = {(normal(cue.content), cue.start) for cue in whole}
    assert [(normal(cue.content), cue.start) for cue in heard if (normal(cue.content), cue.start) not in kept] == []
    speaker.select_option("#transcript-language", "en")
    source = download(speaker, "#transcript-txt", tmp_path).read_text(encoding="utf-8").splitlines()
    said = [normal(text) for text in speaker.locator("#transcript li.final").all_text_contents()]
    assert said and set(said) <= {normal(line) for line in source}


PRIVATE_TALK = {"talk-title": "Harbour futures: what comes next", "presenter": "Ana Núñez", "passcode": "harbour-42"}
JOIN_REFUSED_WITH = """([code]) => !document.querySelector('#error').hidden
    && document.querySelector('#error').textContent.startsWith(code + ':')"""


def join_in_spanish(page, url: str) -> None:
    page.goto(url)
    page.select_option("#language", "es")
    page.get_by_role("button", name="Join").click()


def test_a_private_talk_refuses_a_wrong_passcode_and_admits_the_right_one_from_the_qr_link(stack, browser, tmp_path):
    speaker, link = start_talk(stack, browser, "speaker private", **PRIVATE_TALK)
    contexts = [speaker.context]
    try:
        expect(speaker.locator("#talk")).to_have_text(
            f"{PRIVATE_TALK['talk-title']} · {PRIVATE_TALK['presenter']}", timeout=WAIT_MS
        )
        expect(speaker.locator("#private")).to_be_visible()
        session_id = speaker.locator("#session-id").inner_text()
        plain = f"{stack.stack.site_url}listener.html?session={session_id}"
        assert link == plain, "the passcode is in the link though the speaker did not ask for it"
        speaker.check("#link-passcode")
        with_passcode = f"{link}&passcode={PRIVATE_TALK['passcode']}"
        expect(speaker.locator("#listener-link")).to_have_value(with_passcode, timeout=WAIT_MS)
        picture = tmp_path / "qr.png"
        speaker.locator("#qr").screenshot(path=str(picture))
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(picture)], capture_output=True, text=True)
        assert decoded.stdout.strip() == with_passcode, f"the QR code reads {decoded.stdout!r} ({decoded.stderr})"

        # The plain link: the listener page asks for the passcode, and refuses a wrong one with its code.
        context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent="listener-no-passcode")
        contexts.append(context)
        asked = new_page(context, "listener no passcode")
        join_in_spanish(asked, link)
        asked.wait_for_function(JOIN_REFUSED_WITH, arg=["PASSCODE_REQUIRED"])
        expect(asked.locator("#passcode")).to_be_visible()
        assert asked.evaluate("() => document.activeElement.id") == "passcode"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        asked.screenshot(path=str(SCREENSHOTS / "listener-passcode-360.png"))
        asked.fill("#passcode", "harbour-41")
        asked.get_by_role("button", name="Join").click()
        asked.wait_for_function(JOIN_REFUSED_WITH, arg=["PASSCODE_INCORRECT"])
        assert asked.locator("#captions").get_attribute("data-joins") is None
        assert asked.locator("#talk").is_hidden(), "the title is shown before the passcode was given"

        # The QR code's link: joined at once, with the title and presenter, and captions.
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, user_agent="listener-qr", accept_downloads=True
        )
        contexts.append(context)
        admitted = new_page(context, "listener qr")
        join_in_spanish(admitted, decoded.stdout.strip())
        wait_joined(admitted, 1, stack)
        expect(admitted.locator("#talk-title")).to_have_text(PRIVATE_TALK["talk-title"], timeout=WAIT_MS)
        expect(admitted.locator("#talk-presenter")).to_have_text(PRIVATE_TALK["presenter"], timeout=WAIT_MS)
        assert "passcode" not in admitted.url, "the passcode stays in the address bar"
        admitted.wait_for_function(FINALS_MORE_THAN, arg=[0], timeout=WAIT_MS)
        admitted.screenshot(path=str(SCREENSHOTS / "listener-private-360.png"))
        shown = [normal(text) for text in admitted.locator("#captions li.final").all_text_contents()]
        lines = download(admitted, "#download-txt", tmp_path).read_text(encoding="utf-8").splitlines()
        assert lines[:3] == [f"Title: {PRIVATE_TALK['talk-title']}", f"Presenter: {PRIVATE_TALK['presenter']}", ""]
        assert [normal(line) for line in lines[3:]] == shown

        # Remembered on the device: a reload (its address without the passcode) joins without asking.
        admitted.reload()
        expect(admitted.locator("#passcode-field")).to_be_hidden()
        admitted.get_by_role("button", name="Join").click()
        wait_joined(admitted, 1, stack)

        # The stage display takes the passcode in its address (the speaker page's link carries it).
        speaker.fill("#display-languages", "es")
        display_url = speaker.get_attribute("#display-link", "href")
        assert display_url.endswith(f"&passcode={PRIVATE_TALK['passcode']}")
        context = browser.new_context(viewport=STAGE, user_agent="display-private")
        contexts.append(context)
        display = new_page(context, "display private")
        display.goto(display_url)
        display.wait_for_function(DISPLAY_HAS_FINALS, arg=["es"], timeout=WAIT_MS)
        expect(display.locator("#talk")).to_have_text(
            f"{PRIVATE_TALK['talk-title']} · {PRIVATE_TALK['presenter']}", timeout=WAIT_MS
        )
        speaker.once("dialog", lambda dialog: dialog.accept())
        speaker.get_by_role("button", name="End session").click()
        speaker.locator("#ended").wait_for(state="visible")
    finally:
        # Closing the speaker's page ends the talk too (its connection closes), should the test stop before.
        for context in contexts:
            context.close()


def test_every_page_of_a_talk_says_its_captions_are_delayed_while_recognition_is_at_its_limit(stack, browser):
    """Every stream of the account's Transcribe quota taken by other talks: the new talk's pages (the stage display's
    too) say its captions are delayed; once a stream is free they say it is live again and its captions come."""
    slots = stack.stack.quotas.transcribe_streams
    assert slots.limit > 0, "the local platform emulates Transcribe's concurrent-stream quota"
    # Every free stream, as other talks would hold them, and every one that an earlier test's talk gives back
    # meanwhile (its stream closed after its speaker left), until the talk has been refused.
    held: list[str] = []
    holding = threading.Event()
    holding.set()

    def hold() -> None:
        while holding.is_set():
            held.extend(iter(slots.acquire, None))
            time.sleep(0.01)

    holder = threading.Thread(target=hold, name="hold-streams", daemon=True)
    holder.start()
    contexts = []
    try:
        speaker, link = start_talk(stack, browser, "speaker delayed")
        contexts.append(speaker.context)
        context = browser.new_context(viewport={"width": 360, "height": 740}, user_agent="listener-delayed")
        contexts.append(context)
        listener = new_page(context, "listener delayed")
        join_in_spanish(listener, link)
        wait_joined(listener, 1, stack)
        expect(listener.locator("#state")).to_contain_text("captions delayed", timeout=WAIT_MS)
        expect(speaker.locator("#error")).to_contain_text("Captions are delayed", timeout=WAIT_MS)
        speaker.fill("#display-languages", "es")
        context = browser.new_context(viewport=STAGE, user_agent="display-delayed")
        contexts.append(context)
        display = new_page(context, "display delayed")
        display.goto(speaker.get_attribute("#display-link", "href"))
        shown = display.locator('section[data-language="es"] .status')
        expect(shown).to_contain_text("captions delayed", timeout=WAIT_MS)  # what it joined to
        assert listener.locator("#captions li.final").count() == 0
        holding.clear()
        holder.join()
        for slot in held:
            slots.release(slot)
        held.clear()
        expect(listener.locator("#state")).to_have_text("live", timeout=WAIT_MS)
        listener.wait_for_function(FINALS_MORE_THAN, arg=[0], timeout=WAIT_MS)
        expect(shown).to_have_text("", timeout=WAIT_MS)  # live: the display says nothing
        display.wait_for_function(DISPLAY_HAS_FINALS, arg=["es"], timeout=WAIT_MS)
    finally:
        holding.clear()
        holder.join()
        for slot in held:
            slots.release(slot)
        for context in contexts:
            context.close()
