"""The deployment's capacity derived from its account quotas (broadcast_shared.capacity), checked by hand."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadcast_shared.capacity import AccountQuotas, Bound, CapacityPlan, CapacitySettings, TalkProfile, derive
from broadcast_shared.config import ConfigurationError


def test_default_quotas_carry_eight_talks_of_five_languages_bound_by_polly_neural():
    # By hand, with AWS's default quotas and the planned talk (5 languages, 1,000 listeners, 11 finals a minute):
    # speech: 11 x 5 / 60 = 0.9167 neural calls/s per talk; 8 TPS / 0.9167 = 8.7 -> 8 talks
    # recognition: one stream per talk; 25 streams -> 25 talks
    # translate-segment: 5 lanes x ceil(1000 / 5 / 250) = 1 slice -> 5 per talk; 100 reserved -> 20 talks
    # API Gateway: 1000 x (0.6 + 11/60) + 5 + 1001 x 0.25 / 60 = 792.5 requests/s per talk; 10,000 -> 12 talks
    capacity = derive(CapacityPlan())
    assert capacity.bounds == {
        Bound.SPEECH: 8,
        Bound.RECOGNITION: 25,
        Bound.TRANSLATION_WORKERS: 20,
        Bound.API_GATEWAY: 12,
    }
    assert capacity.max_concurrent_talks == 8 and capacity.binding is Bound.SPEECH
    assert capacity.speech_calls_per_second(5) == pytest.approx(0.9167, abs=1e-4)


def test_standard_voices_leave_api_gateway_binding():
    capacity = derive(CapacityPlan(prefer_neural=False))  # 80 / 0.9167 = 87 talks of speech
    assert capacity.bounds[Bound.SPEECH] == 87
    assert capacity.max_concurrent_talks == 12 and capacity.binding is Bound.API_GATEWAY


def test_measured_throughput_binds_when_below_the_quotas():
    capacity = derive(CapacityPlan(throughput_talks=4))
    assert capacity.max_concurrent_talks == 4 and capacity.binding is Bound.THROUGHPUT


def test_a_large_audience_needs_more_fan_out_invocations_per_language():
    # 5,000 listeners over 5 languages: 1,000 a language, 4 slices of 250 -> 20 invocations a talk; 100 -> 5 talks
    plan = CapacityPlan(talk=TalkProfile(listeners=5000), quotas=AccountQuotas(api_gateway_requests_per_second=1e6))
    capacity = derive(plan)
    assert capacity.bounds[Bound.TRANSLATION_WORKERS] == 5
    assert capacity.max_concurrent_talks == 5 and capacity.binding is Bound.TRANSLATION_WORKERS


def test_load_is_the_larger_of_the_talks_and_the_speech_calls_against_their_quota():
    capacity = derive(CapacityPlan())  # 8 talks, 8 neural calls/s
    planned = capacity.load(6, 30)  # 11 x 30 / 60 = 5.5 calls/s: 68.75 %; 6 of 8 talks: 75 %
    assert planned.speech_calls_per_second == pytest.approx(5.5)
    assert planned.speech_quota_percent == pytest.approx(68.75)
    assert planned.capacity_percent == pytest.approx(75)
    many_languages = capacity.load(6, 40)  # 7.33 calls/s: 91.7 % of the quota, above the talks' 75 %
    assert many_languages.capacity_percent == pytest.approx(91.667, abs=1e-3)


def test_a_plan_from_terraform_json_is_validated():
    plan = CapacityPlan.model_validate_json(
        '{"quotas": {"polly_neural_tps": 46}, "talk": {"listened_languages": 5}, "prefer_neural": true,'
        ' "translation_concurrency": 300, "throughput_talks": null}'
    )
    assert derive(plan).bounds[Bound.SPEECH] == 50  # 46 / 0.9167 = 50.2
    with pytest.raises(ValueError):
        CapacityPlan.model_validate({"quotas": {"polly_neural_tps": 0}})


def test_the_functions_that_use_the_capacity_read_its_plan_from_capacity_plan_and_refuse_a_bad_one_by_name():
    read = CapacitySettings.from_environment({"CAPACITY_PLAN": '{"throughput_talks": 3}'})
    assert derive(read.capacity_plan).max_concurrent_talks == 3
    assert CapacitySettings.from_environment({}).capacity_plan == CapacityPlan()  # the defaults: AWS's quotas
    with pytest.raises(ConfigurationError, match="CAPACITY_PLAN"):
        CapacitySettings.from_environment({"CAPACITY_PLAN": '{"quotas": {"polly_neural_tps": 0}}'})


@given(
    neural=st.floats(min_value=1, max_value=10_000),
    streams=st.integers(min_value=1, max_value=10_000),
    requests=st.floats(min_value=100, max_value=1_000_000),
    concurrency=st.integers(min_value=1, max_value=10_000),
    languages=st.integers(min_value=1, max_value=20),
    listeners=st.integers(min_value=1, max_value=5_000),
    finals=st.floats(min_value=1, max_value=30),
)
def test_the_capacity_fits_every_quota_and_one_more_talk_exceeds_the_binding_one(
    neural, streams, requests, concurrency, languages, listeners, finals
):
    talk = TalkProfile(listened_languages=languages, listeners=listeners, finals_per_minute=finals)
    plan = CapacityPlan(
        quotas=AccountQuotas(
            polly_neural_tps=neural, transcribe_concurrent_streams=streams, api_gateway_requests_per_second=requests
        ),
        talk=talk,
        translation_concurrency=concurrency,
    )
    capacity = derive(plan)
    speech = finals * languages / 60
    invocations = languages * math.ceil(listeners / languages / 250)
    api = listeners * (0.6 + finals / 60) + 5 + (listeners + 1) * 0.25 / 60  # a heartbeat every 4 minutes
    demand = {
        Bound.SPEECH: (speech, neural),
        Bound.RECOGNITION: (1, streams),
        Bound.TRANSLATION_WORKERS: (invocations, concurrency),
        Bound.API_GATEWAY: (api, requests),
    }
    talks = capacity.max_concurrent_talks
    if capacity.bounds[capacity.binding] >= 1:
        for per_talk, quota in demand.values():
            assert talks * per_talk <= quota * (1 + 1e-9)
    per_talk, quota = demand[capacity.binding]
    assert (capacity.bounds[capacity.binding] + 1) * per_talk > quota * (1 - 1e-9)
