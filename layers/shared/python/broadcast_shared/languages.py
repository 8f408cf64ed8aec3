"""Languages the platform accepts: speakers' source languages and listeners' target languages.

Source languages are those Amazon Transcribe streaming recognises, keyed by the ISO 639-1
code clients send and mapped to the locale Transcribe wants. Target languages are those
Amazon Translate produces and Amazon Polly speaks. ``docs/PROTOCOL.md`` lists both.
"""

from __future__ import annotations

from types import MappingProxyType

SOURCE_LOCALES = MappingProxyType(
    {
        "en": "en-US",
        "es": "es-US",
        "fr": "fr-FR",
        "de": "de-DE",
        "it": "it-IT",
        "pt": "pt-BR",
        "ja": "ja-JP",
        "ko": "ko-KR",
        "zh": "zh-CN",
        "hi": "hi-IN",
    }
)

TARGET_LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "nl", "pl", "pt", "ru", "sv", "tr", "zh"}
)

#: a word ending with one of these ends a sentence (Transcribe gives punctuation with its words): the stabiliser cuts
#: segments there, the pipeline ends a partial's block there
SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")
