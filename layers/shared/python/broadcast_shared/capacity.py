"""How many talks at once one deployment carries, derived from the account quotas that bound it.

Terraform declares the quotas (``account_quotas``, AWS's defaults with their source pages), the talk the capacity is
planned for (``talk_profile``) and, where the platform itself is slower than the quotas (the local runtime on two
cores), its measured throughput; it passes them to session management as one JSON variable, ``CAPACITY_PLAN``
(:class:`CapacityPlan`, read by :class:`CapacitySettings` in the functions that admit or report talks, so no other
function imports this module). :func:`derive` turns the plan into the number of concurrent talks, one bound per
quota, the smallest binding (``docs/CAPACITY.md`` has the arithmetic with the defaults):

- **speech**: Polly's ``SynthesizeSpeech`` quota (neural, or standard when neural voices are not preferred) over one
  call per final per listened language: ``finals_per_minute x listened_languages / 60`` calls a second per talk;
- **recognition**: one Transcribe stream per talk, against the concurrent-streams quota;
- **translation workers**: one synchronous ``translate-segment`` per listened language per talk (the worker's ordered
  lane waits for it), times the fan-out slices each language's audience needs, against the concurrency
  ``translate-segment`` may use (its reserved concurrency);
- **API Gateway**: every caption and partial to every listener (one ``@connections`` post each), the speaker's audio
  messages and every connection's heartbeat, against the account's requests per second;
- **throughput**: the platform's own measured throughput, when declared (locally).

Amazon Translate publishes no ``TranslateText`` rate quota ("scales to serve customer operational traffic"), so it
bounds nothing here; Lambda's account concurrency bounds through what it leaves ``translate-segment``.
"""

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from broadcast_shared.config import FROM_JSON, EnvironmentSettings

PositiveRate = Annotated[float, Field(gt=0)]
PositiveCount = Annotated[int, Field(ge=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountQuotas(_Frozen):
    """The account's quotas in the deployment's region (Service Quotas), as declared in Terraform."""

    #: Amazon Polly ``SynthesizeSpeech`` with neural voices, transactions per second (burst 10)
    polly_neural_tps: PositiveRate = 8
    #: ...with standard voices (burst 100)
    polly_standard_tps: PositiveRate = 80
    #: Amazon Transcribe concurrent HTTP/2 streams for streaming transcription
    transcribe_concurrent_streams: PositiveCount = 25
    #: AWS Lambda concurrent executions (the account's pool, reserved concurrency included)
    lambda_concurrent_executions: PositiveCount = 1000
    #: API Gateway requests per second across every API of the account (``@connections`` posts included)
    api_gateway_requests_per_second: PositiveRate = 10000


class TalkProfile(_Frozen):
    """The talk the capacity is planned for."""

    listened_languages: PositiveCount = 5
    listeners: PositiveCount = 1000
    #: finals (captions with speech) a fluent talk makes per minute (``make bench``, continuous speech: about 11)
    finals_per_minute: PositiveRate = 11
    #: partial captions per second per language lane (the worker's ``PARTIAL_RATE_PER_SECOND``), to each listener
    partials_per_second: Annotated[float, Field(ge=0)] = 0.6
    #: the speaker's ``sendAudio`` messages per second (200 ms chunks)
    audio_messages_per_second: Annotated[float, Field(ge=0)] = 5
    #: ``heartbeat`` messages per connection per minute (the clients send one every 4 minutes)
    heartbeats_per_minute: Annotated[float, Field(ge=0)] = 0.25
    #: listeners one ``translate-segment`` invocation posts to (the pipeline's ``FANOUT_SLICE_SIZE``)
    listeners_per_fanout_invocation: PositiveCount = 250


class CapacityPlan(_Frozen):
    """Everything the capacity is derived from: Terraform's ``CAPACITY_PLAN``."""

    quotas: AccountQuotas = AccountQuotas()
    talk: TalkProfile = TalkProfile()
    #: neural voices first (``translation.prefer_neural``): Polly's neural quota bounds speech, else the standard one
    prefer_neural: bool = True
    #: concurrent executions ``translate-segment`` may use: its reserved concurrency (or what the account leaves)
    translation_concurrency: PositiveCount = 100
    #: talks at once the platform itself carries as measured, where that is below what the quotas allow (locally);
    #: None on AWS
    throughput_talks: PositiveCount | None = None


class CapacitySettings(EnvironmentSettings):
    """The plan as Terraform passes it to session management (``CAPACITY_PLAN``, JSON)."""

    capacity_plan: Annotated[CapacityPlan, FROM_JSON] = CapacityPlan()


class Bound(StrEnum):
    """What can bound the number of concurrent talks (the keys of :attr:`Capacity.bounds`)."""

    SPEECH = "speechCallsPerSecond"
    RECOGNITION = "transcribeStreams"
    TRANSLATION_WORKERS = "translationConcurrency"
    API_GATEWAY = "apiGatewayRequestsPerSecond"
    THROUGHPUT = "measuredThroughput"


@dataclass(frozen=True)
class Load:
    """What the active talks use of the deployment's capacity."""

    active_talks: int
    listened_languages: int
    speech_calls_per_second: float
    #: the speech calls against the speech quota, in percent
    speech_quota_percent: float
    #: the larger of the talks against the capacity and the speech calls against their quota, in percent: a talk
    #: with more languages than planned spends the speech quota faster than the talk count shows
    capacity_percent: float


@dataclass(frozen=True)
class Capacity:
    max_concurrent_talks: int
    #: the bound that decides it (the smallest; on a tie the first by name, as Terraform's ``capacity`` output)
    binding: Bound
    bounds: dict[Bound, int]
    speech_quota_tps: float
    plan: CapacityPlan

    def speech_calls_per_second(self, listened_languages: int) -> float:
        """Speech calls a second for this many listened languages over every talk (one per final per language)."""
        return self.plan.talk.finals_per_minute * listened_languages / 60

    def load(self, active_talks: int, listened_languages: int) -> Load:
        speech = self.speech_calls_per_second(listened_languages)
        speech_percent = 100 * speech / self.speech_quota_tps
        talks_percent = 100 * active_talks / self.max_concurrent_talks
        return Load(
            active_talks=active_talks,
            listened_languages=listened_languages,
            speech_calls_per_second=speech,
            speech_quota_percent=speech_percent,
            capacity_percent=max(talks_percent, speech_percent),
        )


def derive(plan: CapacityPlan) -> Capacity:
    """The concurrent talks ``plan`` allows: each bound rounded down, the smallest deciding (at least one talk)."""
    quotas, talk = plan.quotas, plan.talk
    speech_quota = quotas.polly_neural_tps if plan.prefer_neural else quotas.polly_standard_tps
    speech_per_talk = talk.finals_per_minute * talk.listened_languages / 60
    slices_per_language = math.ceil(talk.listeners / talk.listened_languages / talk.listeners_per_fanout_invocation)
    translations_per_talk = talk.listened_languages * slices_per_language
    requests_per_talk = (
        talk.listeners * (talk.partials_per_second + talk.finals_per_minute / 60)
        + talk.audio_messages_per_second
        + (talk.listeners + 1) * talk.heartbeats_per_minute / 60
    )
    bounds = {
        Bound.SPEECH: _talks(speech_quota, speech_per_talk),
        Bound.RECOGNITION: quotas.transcribe_concurrent_streams,
        Bound.TRANSLATION_WORKERS: plan.translation_concurrency // translations_per_talk,
        Bound.API_GATEWAY: _talks(quotas.api_gateway_requests_per_second, requests_per_talk),
    }
    if plan.throughput_talks is not None:
        bounds[Bound.THROUGHPUT] = plan.throughput_talks
    binding = min(bounds, key=lambda bound: (bounds[bound], bound.value))
    return Capacity(
        max_concurrent_talks=max(1, bounds[binding]),
        binding=binding,
        bounds=bounds,
        speech_quota_tps=speech_quota,
        plan=plan,
    )


def _talks(quota: float, per_talk: float) -> int:
    # a hair of tolerance so that 8 / (8 / 10) is 10 talks, not 9.999... rounded down to 9
    return math.floor(quota / per_talk + 1e-9)
