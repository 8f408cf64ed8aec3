"""The translation pipeline's settings, read from the environment once per execution environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from broadcast_shared.config import ConfigurationError, number, required


@dataclass(frozen=True)
class TranslationSettings:
    translation_cache_table: str
    #: ``translate`` (Amazon Translate) or ``apertium`` (local)
    translation_engine: str = "translate"
    #: ``polly`` (Amazon Polly) or ``espeak`` (local)
    speech_engine: str = "polly"
    #: cached translations expire through DynamoDB TTL after this long
    cache_ttl_seconds: int = 7 * 86400
    #: Polly voice per language, overriding the defaults (``POLLY_VOICES`` as JSON)
    voices: dict[str, str] = field(default_factory=dict)
    #: Polly engine preference: neural where the voice has it, else standard
    prefer_neural: bool = True
    #: listeners one invocation posts to; a larger audience is split across concurrent invokes of
    #: ``fanout_function_name`` (this function, ``AWS_LAMBDA_FUNCTION_NAME``); empty: never split
    fanout_slice_size: int = 250
    fanout_function_name: str = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> TranslationSettings:
        env = os.environ if env is None else env
        table = required(env, "TRANSLATION_CACHE_TABLE")
        translation = env.get("TRANSLATION_ENGINE", "translate").strip()
        speech = env.get("SPEECH_ENGINE", "polly").strip()
        if translation not in {"translate", "apertium"} or speech not in {"polly", "espeak"}:
            raise ConfigurationError(
                f"TRANSLATION_ENGINE must be translate or apertium and SPEECH_ENGINE polly or espeak, "
                f"got {translation!r} and {speech!r}"
            )
        try:
            voices = json.loads(env.get("POLLY_VOICES") or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"POLLY_VOICES must be a JSON object: {exc}") from exc
        return cls(
            translation_cache_table=table,
            translation_engine=translation,
            speech_engine=speech,
            cache_ttl_seconds=int(number(env, "TRANSLATION_CACHE_TTL_SECONDS", cls.cache_ttl_seconds)),
            voices=voices,
            prefer_neural=(env.get("POLLY_PREFER_NEURAL", "true").lower() != "false"),
            fanout_slice_size=max(1, int(number(env, "FANOUT_SLICE_SIZE", cls.fanout_slice_size))),
            fanout_function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "").strip(),
        )
