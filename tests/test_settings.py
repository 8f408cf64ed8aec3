"""Settings come from the environment through pydantic: converted, validated, named when wrong."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from audio_transcription.settings import AudioSettings
from broadcast_shared.config import AudienceSettings, ConfigurationError, RouteSettings, Settings
from broadcast_shared.pricing import LIVE_PRICES
from local_runtime.quotas import EmulatedQuotas
from session_management.settings import SessionSettings
from translation_pipeline.settings import TranslationSettings

TABLES = {
    "SESSIONS_TABLE": "s",
    "CONNECTIONS_TABLE": "c",
    "RATE_LIMITS_TABLE": "r",
    "CONNECTIONS_BY_SESSION_INDEX": "i",
    "MANAGEMENT_API_ENDPOINT": "https://example/local",
}
PRICES = {name: 0.001 for name in LIVE_PRICES}
#: what session management reads besides the shared tables
SESSION_TABLES = {
    **TABLES,
    "TRANSCRIPTS_TABLE": "t",
    "CONTROL_QUEUE_URL": "https://sqs.example/1/control",
    "PRICES": json.dumps(PRICES),
    "QUESTIONS_TABLE": "t",
}


def test_a_missing_required_setting_is_named():
    with pytest.raises(ConfigurationError, match="SESSIONS_TABLE"):
        Settings.from_environment({k: v for k, v in TABLES.items() if k != "SESSIONS_TABLE"})


def test_a_fractional_integer_is_refused_not_truncated():
    with pytest.raises(ConfigurationError, match="CONTROL_RATE_PER_SECOND"):
        RouteSettings.from_environment({**TABLES, "CONTROL_RATE_PER_SECOND": "10.9"})


def test_blank_variables_take_the_default():
    assert (
        SessionSettings.from_environment({**SESSION_TABLES, "IDLE_TIMEOUT_SECONDS": "  "}).idle_timeout_seconds == 600
    )


def test_allowed_terminologies_are_comma_separated():
    settings = SessionSettings.from_environment({**SESSION_TABLES, "ALLOWED_TERMINOLOGIES": "acme, medical ,"})
    assert settings.allowed_terminologies == frozenset({"acme", "medical"})


def test_prices_are_a_json_object_holding_every_price_the_estimate_needs():
    assert SessionSettings.from_environment(SESSION_TABLES).prices == PRICES
    without_polly = {k: v for k, v in PRICES.items() if k != "polly_neural_character"}
    with pytest.raises(ConfigurationError, match="polly_neural_character"):
        SessionSettings.from_environment({**SESSION_TABLES, "PRICES": json.dumps(without_polly)})


@pytest.mark.parametrize(("raw", "expected"), [("0", False), ("false", False), ("1", True), ("true", True)])
def test_polly_prefer_neural_reads_as_a_boolean(raw, expected):
    env = {"TRANSLATION_CACHE_TABLE": "t", "TRANSCRIPTS_TABLE": "t", "POLLY_PREFER_NEURAL": raw}
    assert TranslationSettings.from_environment(env).prefer_neural is expected


def test_polly_voices_are_a_json_object_or_refused():
    env = {"TRANSLATION_CACHE_TABLE": "t", "TRANSCRIPTS_TABLE": "t", "POLLY_VOICES": '{"es": "Lucia"}'}
    assert TranslationSettings.from_environment(env).voices == {"es": "Lucia"}
    with pytest.raises(ConfigurationError, match="POLLY_VOICES"):
        TranslationSettings.from_environment({**env, "POLLY_VOICES": "Lucia"})


def test_an_unknown_engine_is_refused():
    with pytest.raises(ConfigurationError, match="TRANSCRIPTION_ENGINE"):
        AudioSettings.from_environment({"AUDIO_STREAM_NAME": "a", "TRANSCRIPTION_ENGINE": "whisper"})


def test_settings_read_the_process_environment(monkeypatch):
    for name, value in TABLES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SPEAKER_GRACE_SECONDS", "0")
    settings = AudienceSettings.from_environment()
    assert (settings.sessions_table, settings.speaker_grace_seconds) == ("s", 0)


def test_an_alias_names_the_variable_and_a_prefix_goes_before_it(monkeypatch):
    env = {"TRANSLATION_CACHE_TABLE": "t", "TRANSCRIPTS_TABLE": "t", "TRANSLATION_CACHE_TTL_SECONDS": "60"}
    assert TranslationSettings.from_environment({**env, "CACHE_TTL_SECONDS": "5"}).cache_ttl_seconds == 60
    monkeypatch.setenv("LOCAL_QUOTA_POLLY_NEURAL_TPS", "0.5")
    monkeypatch.setenv("POLLY_STANDARD_TPS", "1")  # no prefix: not this setting
    quotas = EmulatedQuotas.from_environment()
    assert (quotas.polly_neural_tps, quotas.polly_standard_tps) == (0.5, 80.0)
    with pytest.raises(ConfigurationError, match="LOCAL_QUOTA_TRANSLATE_BURST"):
        EmulatedQuotas.from_environment({"LOCAL_QUOTA_TRANSLATE_BURST": "0"})


def test_settings_are_frozen():
    settings = Settings.from_environment(TABLES)
    with pytest.raises(ValidationError):
        settings.sessions_table = "other"  # type: ignore[misc]


def test_the_shared_settings_hold_nothing_only_session_management_reads():
    session_only = set(SessionSettings.model_fields) - set(Settings.model_fields)
    assert {"idle_timeout_seconds", "max_listeners_per_session", "allowed_terminologies"} <= session_only


def test_the_worker_needs_no_route_or_audience_variables():
    """The transcription worker answers no client message and finds no listeners: tables and Management API only."""
    env = {"SESSIONS_TABLE": "s", "CONNECTIONS_TABLE": "c", "MANAGEMENT_API_ENDPOINT": "https://example/local"}
    assert Settings.from_environment(env).sessions_table == "s"
    with pytest.raises(ConfigurationError, match="CONNECTIONS_BY_SESSION_INDEX"):
        AudienceSettings.from_environment(env)
    with pytest.raises(ConfigurationError, match="RATE_LIMITS_TABLE"):
        RouteSettings.from_environment({**env, "CONNECTIONS_BY_SESSION_INDEX": "i"})


def test_the_pipeline_settings_hold_no_route_limits():
    assert not {"rate_limits_table", "control_rate_per_second", "source_rate_per_second"} & set(
        AudienceSettings.model_fields
    )
