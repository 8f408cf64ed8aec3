"""The whole local platform: functions, Management and Invoke APIs, gateway and schedules."""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from broadcast_shared.warm_up import WarmUp
from broadcast_tools import emulator
from broadcast_tools.artifacts import ROOT
from local_runtime.async_invocations import AsyncInvoker
from local_runtime.deployment import Deployment, DeploymentReader, function_name
from local_runtime.event_sources import EventSources
from local_runtime.faults import Faults, FaultyAwsEndpoint
from local_runtime.functions import Endpoints, FunctionError, FunctionPool
from local_runtime.gateway import LocalGateway
from local_runtime.management_api import ManagementApiServer
from local_runtime.metering import RunUsage
from local_runtime.quotas import AccountBuckets, EmulatedQuotas
from local_runtime.schedules import run_schedules
from local_runtime.stand_ins import StoodInServices
from local_runtime.web_pages import WEB_DIST, WebPages

log = logging.getLogger("local_runtime")

#: the languages ``make dev`` warms the talk's path for: English talks, and French listeners (apertium translates
#: into French through Spanish, so its pipeline loads both)
WARM_SOURCE_LANGUAGE = "en"
WARM_TARGET_LANGUAGE = "fr"


@dataclass
class Clients:
    apigatewayv2: Any
    lambda_: Any
    scheduler: Any
    sqs: Any

    @classmethod
    def for_endpoint(cls, endpoint: str, region: str) -> Clients:
        services = ("apigatewayv2", "lambda", "scheduler", "sqs")
        return cls(*(session_for(region).client(s, endpoint_url=endpoint) for s in services))


def session_for(region: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=region, **emulator.CREDENTIALS)


class LocalPlatform:
    """Runs what Terraform deployed to the emulator at ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        region: str = "eu-west-1",
        api_name: str | None = None,
        stage: str = "local",
        host: str = "127.0.0.1",
        port: int = 8765,
        dist: Path | None = None,
        idle_timeout: float = 600,
        max_connection_age: float = 7200,
        schedule_interval: float | None = None,
        max_concurrency: int = 8,
        async_retry_delay: float = 1.0,
        faults: Faults | None = None,
        quotas: EmulatedQuotas | None = None,
        log_dir: Path | None = None,
        web_root: Path = WEB_DIST,
    ) -> None:
        self.endpoint = endpoint
        clients = Clients.for_endpoint(endpoint, region)
        self._reader = DeploymentReader(clients, dist)
        self.deployment: Deployment = self._reader.read(api_name, stage)
        self._executor = ThreadPoolExecutor(max_workers=128, thread_name_prefix="local-runtime")
        #: what the gateway and the function pool count for the cost meter (local_runtime.metering)
        self.usage = RunUsage()
        self.log_dir = log_dir or ROOT / ".local" / "logs"
        self.pages = WebPages(web_root, stage)
        self.gateway = LocalGateway(
            self.deployment,
            self._invoke_sync,
            host=host,
            port=port,
            idle_timeout=idle_timeout,
            max_connection_age=max_connection_age,
            executor=self._executor,
            pages=self.pages,
            usage=self.usage.gateway,
        )
        # The Management API delivers to the gateway's connections; the Invoke API calls this stack.
        #: the account's emulated quotas, shared by every session of this stack (local_runtime.quotas)
        self.quotas = AccountBuckets(quotas or EmulatedQuotas.from_environment())
        self.stand_ins = StoodInServices(self.quotas)
        self.http = ManagementApiServer(
            sink=self.gateway,
            host=host,
            stage=stage,
            invoker=self,
            faults=faults,
            stand_ins=self.stand_ins,
            requests=self.quotas.management_api,
        )
        self.http.start()
        # With a fault plan, the functions reach the emulator through a proxy that injects its faults.
        self.aws_edge = FaultyAwsEndpoint(endpoint, faults).start() if faults else None
        self.pool = FunctionPool(
            self.deployment.functions,
            Endpoints(
                aws=self.aws_edge.url if self.aws_edge else endpoint,
                lambda_=self.http.base_url,
                management_api=self.http.endpoint,
                stand_ins=self.http.base_url,
                region=region,
            ),
            self.log_dir,
            max_concurrency,
            self.usage.invocations,
        )
        self.asynchronous = AsyncInvoker(self._invoke_sync, clients.sqs, async_retry_delay)
        self.event_sources = EventSources(session_for(region), endpoint, self._invoke_sync)
        self._schedule_interval = schedule_interval
        self._schedules: asyncio.Task | None = None

    async def start(self) -> None:
        await self.gateway.start()
        loop = asyncio.get_running_loop()

        async def run(schedule: dict[str, Any], event: Any) -> None:
            await loop.run_in_executor(self._executor, self._run_schedule, schedule, event)

        self._schedules = asyncio.create_task(run_schedules(self.deployment.schedules, run, self._schedule_interval))
        self.event_sources.start()

    async def stop(self) -> None:
        if self._schedules:
            self._schedules.cancel()
        # The pool first: a poller may be waiting on an invocation (a worker reading ahead on its
        # shard), which stopping the pool ends at once.
        self.pool.close()
        self.event_sources.stop()
        await self.gateway.stop()
        self.http.stop()
        self.stand_ins.close()
        if self.aws_edge:
            self.aws_edge.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def site_url(self) -> str:
        """Where the speaker and listener pages are served (the WebSocket API's host and port)."""
        return f"http://{self.gateway.host}:{self.gateway.port}/"

    # The Lambda Invoke API's target (local_runtime.management_api.Invoker).
    def invoke(self, function: str, payload: Any, asynchronous: bool) -> tuple[Any, dict | None]:
        name = self._ensure(function_name(function))
        if asynchronous:
            self._executor.submit(self.asynchronous.invoke, self.pool.functions[name], payload)
            return None, None
        try:
            return self._invoke_sync(name, payload), None
        except FunctionError as error:
            return None, error.payload

    def warm_talk_path(self) -> dict[str, int]:
        """Start and warm, before the first talk, as many environments as the pool runs at once of each function a
        talk's audio goes through: those ``createSession`` warms (``WARM_UP_FUNCTIONS``) and the translation pipeline
        (``TRANSLATION_FUNCTION_NAME``), each with its own warm-up event. ``make dev`` does this once it serves: on
        AWS each environment starts on hardware of its own, here every start and first invocation (a recogniser, an
        apertium pipeline) takes the two cores the first talks need (docs/LOCAL.md, "Warm environments"). Returns
        the environments started per function."""
        plan: dict[str, WarmUp] = {}
        for config in list(self.pool.functions.values()):
            for name in json.loads(config.environment.get("WARM_UP_FUNCTIONS", "{}")):
                plan[name] = WarmUp(source_language=WARM_SOURCE_LANGUAGE)
            if pipeline := config.environment.get("TRANSLATION_FUNCTION_NAME"):
                plan[pipeline] = WarmUp(source_language=WARM_SOURCE_LANGUAGE, target_language=WARM_TARGET_LANGUAGE)

        def provision(name: str) -> int:
            try:
                return self.pool.provision(self._ensure(name), self.pool.max_concurrency, plan[name].to_wire())
            except (FunctionError, KeyError) as exc:
                log.warning("could not warm %s: %s", name, exc)
                return 0

        with ThreadPoolExecutor(max_workers=max(len(plan), 1), thread_name_prefix="warm") as warming:
            return dict(zip(sorted(plan), warming.map(provision, sorted(plan)), strict=True))

    def _ensure(self, name: str) -> str:
        """Load a function no route or schedule names (one invoked by another, or by an event source)."""
        if name not in self.pool.functions:
            try:
                self.pool.functions[name] = self._reader.function(name)
            except Exception as exc:
                raise KeyError(name) from exc
            self.pool.add(name)
        return name

    def _invoke_sync(self, function: str, event: Any) -> Any:
        return self.pool.invoke(self._ensure(function), event)

    def _run_schedule(self, schedule: dict[str, Any], event: Any) -> None:
        """EventBridge Scheduler invokes its target asynchronously; a target it cannot reach is a dead letter."""
        try:
            name = self._ensure(function_name(schedule["function"]))
        except KeyError:
            self.asynchronous.undelivered(schedule, event, "ResourceNotFoundException", "the function does not exist")
            return
        self.asynchronous.invoke(self.pool.functions[name], event)
