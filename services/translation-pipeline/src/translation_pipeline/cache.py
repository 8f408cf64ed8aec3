"""The translation cache: DynamoDB items keyed on source, target and normalised text, with TTL."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from broadcast_shared.clock import Clock
from broadcast_shared.observability import metrics


def normalise(text: str) -> str:
    """Case, Unicode form and spacing do not make a different translation request."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()


def cache_key(source: str, target: str, text: str, terminology: str | None = None) -> str:
    digest = hashlib.sha256(normalise(text).encode()).hexdigest()
    return f"{source}#{target}#{terminology or ''}#{digest}"


class TranslationCache:
    def __init__(self, table: Any, ttl_seconds: int, clock: Clock) -> None:
        self._table = table
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, source: str, target: str, text: str, terminology: str | None = None) -> str | None:
        item = self._table.get_item(Key={"cacheKey": cache_key(source, target, text, terminology)}).get("Item")
        metrics.add_metric(
            name="TranslationCacheHits" if item else "TranslationCacheMisses", unit=MetricUnit.Count, value=1
        )
        return item["translation"] if item else None

    def put(self, source: str, target: str, text: str, translation: str, terminology: str | None = None) -> None:
        self._table.put_item(
            Item={
                "cacheKey": cache_key(source, target, text, terminology),
                "translation": translation,
                "expiresAt": int(self._clock.now()) + self._ttl,
            }
        )
