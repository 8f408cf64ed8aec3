"""The translator interface: Amazon Translate in AWS, apertium in local runs."""

from __future__ import annotations

from typing import Protocol


class TranslationUnavailable(Exception):
    """This engine cannot translate this pair, or the call failed: the caption goes out untranslated."""


class TranslationThrottled(TranslationUnavailable):
    """The translation service refused the call for the account's rate, after its retries."""


class Translator(Protocol):
    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        """``terminology`` names an Amazon Translate custom terminology; engines without one ignore it."""


def translator_for(engine: str) -> Translator:
    if engine == "apertium":
        from broadcast_shared.translators.apertium import ApertiumTranslator

        return ApertiumTranslator()
    from broadcast_shared.translators.amazon import AmazonTranslator

    return AmazonTranslator()
