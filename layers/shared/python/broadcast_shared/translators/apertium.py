"""Local translation with Debian's apertium, one long-lived process per language pair.

Pairs installed by ``make setup``: English→Spanish directly; French and Portuguese
through Spanish (en→es→fr, en→es→pt); Spanish→English, French→Spanish and
Portuguese→Spanish back. Anything else (German, say) raises
:class:`TranslationUnavailable`: the caption goes out untranslated and is counted,
never faked.

Each pair runs as one long-lived pipeline built from the installed mode file, every
stage in null-flush mode (``-z``) and unbuffered (``stdbuf -o0``: this Debian build's
bilingual ``lt-proc -b`` stage holds its output otherwise), so a NUL after a text
brings its translation back at once and one process serves segment after segment.
The text is escaped for apertium's stream format and closed with a superblank, as
the text deformatter would.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from broadcast_shared.meter import meter
from broadcast_shared.translators import TranslationUnavailable

#: (source, target) -> the apertium modes to chain
ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "es"): ("eng-spa",),
    ("en", "fr"): ("eng-spa", "es-fr"),
    ("en", "pt"): ("eng-spa", "es-pt"),
    ("es", "en"): ("spa-eng",),
    ("es", "fr"): ("es-fr",),
    ("es", "pt"): ("es-pt",),
    ("fr", "es"): ("fr-es",),
    ("pt", "es"): ("pt-es",),
    ("fr", "en"): ("fr-es", "spa-eng"),
    ("pt", "en"): ("pt-es", "spa-eng"),
}
TIMEOUT_SECONDS = 10.0
MODES = Path("/usr/share/apertium/modes")
SUPERBLANK = "[][\n]"
SPECIAL = re.compile(r"([\[\]^$/\\@<>{}])")
STAGE = re.compile(r"(^|\|\s*)([a-z][a-z-]*)\s+(-[a-z]\s+)?")


def pipeline(mode: str) -> str:
    """The mode's shell pipeline with every stage null-flushing and unbuffered."""
    path = MODES / f"{mode}.mode"
    if not path.exists():
        raise TranslationUnavailable(f"apertium mode {mode} is not installed (make setup installs it)")
    command = path.read_text().strip().replace("$1", "-n").replace("$2", "")
    return STAGE.sub(lambda m: f"{m[1]}stdbuf -o0 {m[2]} {m[3] or ''}-z ", command)


def escape(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text.replace("\0", " ").replace("\n", " ")) + SUPERBLANK


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text.replace(SUPERBLANK, "")).strip()


class _Mode:
    """One running ``apertium -z`` process for one mode."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._lock = threading.Lock()
        self._process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["bash", "-c", pipeline(self.mode)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def translate(self, text: str) -> str:
        with self._lock:
            if self._process.poll() is not None:
                self._process = self._start()
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(escape(text).encode() + b"\0")
            self._process.stdin.flush()
            output = b""
            stdout = self._process.stdout
            assert isinstance(stdout, io.BufferedReader)  # Popen(stdout=PIPE) in binary mode
            reader = threading.Timer(TIMEOUT_SECONDS, lambda: os.killpg(self._process.pid, signal.SIGKILL))
            reader.start()
            try:
                while not output.endswith(b"\0"):
                    piece = stdout.read1(65536)
                    if not piece:
                        raise TranslationUnavailable(f"apertium {self.mode} stopped")
                    output += piece
            finally:
                reader.cancel()
            return unescape(output.rstrip(b"\0").decode())

    def close(self) -> None:
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()


class ApertiumTranslator:
    def __init__(self) -> None:
        if shutil.which("apertium") is None:
            raise TranslationUnavailable("apertium is not installed (make setup installs it)")
        self._modes: dict[str, _Mode] = {}
        self._lock = threading.Lock()

    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        """``terminology`` is an Amazon Translate feature; apertium's dictionaries have no equivalent here."""
        # What Amazon Translate would bill for this call (the cost meter): the text it stands in for translating.
        if (source, target) in ROUTES:
            meter.stand_in("translate", "TranslateText", {"Text": text, "TargetLanguageCode": target})
        return self.render(text, source, target)

    def render(self, text: str, source: str, target: str) -> str:
        """The translation, uncounted (also the local Amazon Translate stand-in's)."""
        route = ROUTES.get((source, target))
        if route is None:
            raise TranslationUnavailable(f"apertium has no {source}->{target} pair here")
        for mode in route:
            text = self._mode(mode).translate(text)
        # apertium leaves the space of a word it drops ("we will look" -> "Primero  miraremos"): one space between
        # words, as a caption shows them
        return " ".join(text.split())

    def _mode(self, mode: str) -> _Mode:
        with self._lock:
            if mode not in self._modes:
                self._modes[mode] = _Mode(mode)
            return self._modes[mode]

    def close(self) -> None:
        for mode in self._modes.values():
            mode.close()
