"""Amazon Translate, with botocore's standard retries (the shared client configuration)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared import aws
from broadcast_shared.translators import TranslationUnavailable


class AmazonTranslator:
    def __init__(self, client: Any | None = None) -> None:
        self._client = client or aws.client("translate")

    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        extra = {"TerminologyNames": [terminology]} if terminology else {}
        try:
            response = self._client.translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target, **extra
            )
        except (BotoCoreError, ClientError) as exc:
            raise TranslationUnavailable(f"Amazon Translate {source}->{target}: {exc}") from exc
        return response["TranslatedText"]
