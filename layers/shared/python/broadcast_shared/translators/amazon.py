"""Amazon Translate, with botocore's standard retries (the shared client configuration), kept within the
caller's deadline (:func:`broadcast_shared.aws.deadline`: the pipeline's translation budget)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from broadcast_shared import aws
from broadcast_shared.translators import TranslationThrottled, TranslationUnavailable


class AmazonTranslator:
    def __init__(self, client: Any | None = None) -> None:
        self._client = aws.retry_within_deadline(client or aws.client("translate"))

    def translate(self, text: str, source: str, target: str, terminology: str | None = None) -> str:
        extra = {"TerminologyNames": [terminology]} if terminology else {}
        try:
            response = self._client.translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target, **extra
            )
        except (ClientError, aws.RetriesOutOfBudget) as exc:
            if aws.is_throttling(exc):
                raise TranslationThrottled(f"Amazon Translate {source}->{target} throttled: {exc}") from exc
            raise TranslationUnavailable(f"Amazon Translate {source}->{target}: {exc}") from exc
        except BotoCoreError as exc:
            raise TranslationUnavailable(f"Amazon Translate {source}->{target}: {exc}") from exc
        return response["TranslatedText"]
