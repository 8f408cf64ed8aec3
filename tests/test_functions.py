"""Local execution environments: warm between invocations, isolated environment, timeouts, errors."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local_runtime.deployment import FunctionConfig
from local_runtime.functions import Endpoints, FunctionError, FunctionPool

HANDLER = """
import os, time

invocations = 0
NAMES = ("TABLE", "SECRET_OF_THE_PARENT", "AWS_ENDPOINT_URL", "MANAGEMENT_API_ENDPOINT")

def handler(event, context):
    global invocations
    invocations += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "invocations": invocations,
        "pid": os.getpid(),
        "remaining": context.get_remaining_time_in_millis(),
        "name": context.function_name,
        "env": {k: os.environ.get(k) for k in NAMES},
    }
"""


@pytest.fixture
def make_pool(tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "probe.py").write_text(HANDLER)
    (code / "broken.py").write_text("raise ImportError('cannot start')\n")
    # "slow" takes 0.4 s to import, and each environment 0.4 s to start from it
    (code / "slow.py").write_text(
        "import os, time\ntime.sleep(0.4)\nos.register_at_fork(after_in_child=lambda: time.sleep(0.4))\n" + HANDLER
    )
    # "counted" takes 0.3 s to import and notes each import in a file
    (code / "counted.py").write_text(
        f"import time\ntime.sleep(0.3)\nopen({str(tmp_path / 'imports')!r}, 'a').write('imported\\n')\n" + HANDLER
    )
    config = dict(
        arn="arn:aws:lambda:eu-west-1:123456789012:function:probe",
        runtime="python3.12",
        timeout=2,
        memory_size=256,
        environment={"TABLE": "sessions", "MANAGEMENT_API_ENDPOINT": "https://aws.example/prod"},
        code_dir=code,
        layer_dirs=(),
    )
    functions = {
        "probe": FunctionConfig(name="probe", handler="probe.handler", **config),
        "broken": FunctionConfig(name="broken", handler="broken.handler", **config),
        "slow": FunctionConfig(name="slow", handler="slow.handler", **config),
        "counted": FunctionConfig(name="counted", handler="counted.handler", **config),
    }
    os.environ["SECRET_OF_THE_PARENT"] = "leaked"
    endpoints = Endpoints(aws="http://127.0.0.1:1", management_api="http://127.0.0.1:2/local")
    pools: list[FunctionPool] = []

    def make(max_concurrency: int) -> FunctionPool:
        pools.append(FunctionPool(functions, endpoints, tmp_path / "logs", max_concurrency=max_concurrency))
        return pools[-1]

    yield make
    for made in pools:
        made.close()
    os.environ.pop("SECRET_OF_THE_PARENT")


@pytest.fixture
def pool(make_pool) -> FunctionPool:
    return make_pool(4)


def test_environment_stays_warm_between_invocations(pool):
    first = pool.invoke("probe", {})
    second = pool.invoke("probe", {})
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert first["pid"] == second["pid"]
    assert first["name"] == "probe"
    assert 0 < first["remaining"] <= 2000


def test_function_sees_only_its_own_environment_and_the_local_endpoints(pool):
    env = pool.invoke("probe", {})["env"]
    assert env == {
        "TABLE": "sessions",
        "SECRET_OF_THE_PARENT": None,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "MANAGEMENT_API_ENDPOINT": "http://127.0.0.1:2/local",
    }


def test_timeout_kills_the_environment_and_the_next_call_gets_a_fresh_one(pool):
    first = pool.invoke("probe", {})
    with pytest.raises(FunctionError) as timed_out:
        pool.invoke("probe", {"sleep": 5})
    assert timed_out.value.payload["errorType"] == "Sandbox.Timedout"
    after = pool.invoke("probe", {})
    assert after["pid"] != first["pid"] and after["invocations"] == 1


def test_unhandled_error_is_reported_and_the_environment_survives(pool):
    first = pool.invoke("probe", {})
    with pytest.raises(FunctionError) as failed:
        pool.invoke("probe", {"fail": True})
    assert failed.value.payload["errorType"] == "ValueError"
    assert "asked to fail" in failed.value.payload["errorMessage"]
    assert pool.invoke("probe", {})["pid"] == first["pid"]


def test_import_error_is_reported_on_invocation(pool):
    with pytest.raises(FunctionError) as failed:
        pool.invoke("broken", {})
    assert failed.value.payload["errorType"] == "Runtime.ImportModuleError"


def test_concurrent_invocations_use_separate_environments(pool):
    with ThreadPoolExecutor(max_workers=2) as executor:
        results = list(executor.map(lambda _: pool.invoke("probe", {"sleep": 0.5}), range(2)))
    assert results[0]["pid"] != results[1]["pid"]


def test_a_functions_handler_is_imported_once_and_its_environments_start_from_it(pool, tmp_path):
    with ThreadPoolExecutor(max_workers=3) as callers:
        results = list(callers.map(lambda _: pool.invoke("counted", {"sleep": 0.5}), range(3)))
    assert len({r["pid"] for r in results}) == 3  # three environments
    assert (tmp_path / "imports").read_text() == "imported\n"  # one import


def test_each_environment_is_billed_the_init_it_stands_for(pool):
    with ThreadPoolExecutor(max_workers=3) as callers:
        results = list(callers.map(lambda _: pool.invoke("counted", {"sleep": 0.5}), range(3)))
    assert len({r["pid"] for r in results}) == 3
    # three 0.3 s inits (one import, three environments started from it) and three 0.5 s invocations, at 256 MB
    assert pool.usage.gb_seconds["counted"] >= 3 * (0.3 + 0.5) * 256 / 1024


def test_an_environment_whose_function_process_is_gone_starts_from_a_new_one(pool, tmp_path):
    first = pool.invoke("counted", {})
    for pid in _children_running(os.getpid(), "counted.handler"):
        os.kill(pid, signal.SIGKILL)
    with ThreadPoolExecutor(max_workers=2) as callers:
        busy = callers.submit(pool.invoke, "counted", {"sleep": 0.5})
        time.sleep(0.1)
        second = callers.submit(pool.invoke, "counted", {}).result()
    assert busy.result()["pid"] == first["pid"]  # the running environment lives on
    assert second["pid"] != first["pid"]
    assert (tmp_path / "imports").read_text() == "imported\nimported\n"


def _children_running(parent: int, text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent and text in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_provisioned_environments_are_started_and_warmed_before_they_serve(pool):
    assert pool.provision("counted", 3, {"warmUp": True}) == 3
    assert pool.provision("counted", 3, {"warmUp": True}) == 0  # there already
    with ThreadPoolExecutor(max_workers=3) as callers:
        results = list(callers.map(lambda _: pool.invoke("counted", {"sleep": 0.3}), range(3)))
    assert len({r["pid"] for r in results}) == 3
    assert {r["invocations"] for r in results} == {2}  # the warm-up was each environment's first
    assert pool.usage.requests["counted"] == 6  # warm-ups are billed invocations
    assert pool.provision("counted", 10, {"warmUp": True}) == 1  # up to the function's maximum (4 here)


def test_a_warm_up_that_fails_leaves_no_environment_behind(pool):
    with pytest.raises(FunctionError):
        pool.provision("probe", 2, {"fail": True})
    assert pool.invoke("probe", {})["invocations"] == 1  # a new environment, not the failed one


def test_a_functions_environments_start_one_at_a_time_and_serve_the_burst_between_them(pool):
    with ThreadPoolExecutor(max_workers=4) as callers:
        burst = [callers.submit(pool.invoke, "slow", {"sleep": 0.05}) for _ in range(4)]
        starting = []
        while not all(call.done() for call in burst):
            starting.append(pool.starting("slow"))
            time.sleep(0.01)
        results = [call.result() for call in burst]
    assert max(starting) == 1  # four at once would each have taken four times as long on a loaded machine
    assert len(results) == 4 and sum(r["invocations"] for r in results) >= 4


def test_invocations_waiting_for_an_environment_get_one_in_the_order_they_came(make_pool):
    pool = make_pool(1)
    pool.invoke("probe", {})
    with ThreadPoolExecutor(max_workers=9) as callers:
        busy = callers.submit(pool.invoke, "probe", {"sleep": 0.5})
        time.sleep(0.1)
        queued = []
        for _ in range(8):  # a speaker's chunks, arriving while the environment is busy
            queued.append(callers.submit(pool.invoke, "probe", {}))
            time.sleep(0.02)
        served = [call.result()["invocations"] for call in queued]
    assert busy.result()["invocations"] == 2
    assert served == list(range(3, 11))


def test_an_invocation_takes_the_first_environment_free_not_the_one_starting_for_it(pool):
    warm = pool.invoke("slow", {})["pid"]  # "slow" takes 0.4 s to start an environment
    with ThreadPoolExecutor(max_workers=2) as callers:
        busy = callers.submit(pool.invoke, "slow", {"sleep": 0.05})
        time.sleep(0.02)
        # None idle: a second environment starts, but the warm one is free long before it is.
        assert callers.submit(pool.invoke, "slow", {}).result()["pid"] == warm
        assert busy.result()["pid"] == warm


def test_every_invocation_is_counted_with_its_billed_gb_seconds(pool: FunctionPool):
    pool.invoke("probe", {"sleep": 0.2})
    pool.invoke("probe", {})
    with pytest.raises(FunctionError):
        pool.invoke("probe", {"fail": True})
    usage = pool.usage
    assert usage.requests["probe"] == 3
    # At 256 MB, at least the 0.2 s sleep: 0.05 GB-seconds; the duration is measured, not assumed.
    assert usage.gb_seconds["probe"] >= 0.2 * 256 / 1024
    assert usage.memory_mb["probe"] == 256


def test_invocations_in_flight_are_counted_until_they_answer(pool: FunctionPool):
    with ThreadPoolExecutor(max_workers=1) as caller:
        running = caller.submit(pool.invoke, "probe", {"sleep": 1.5})
        seen = 0
        while not running.done() and not seen:
            seen = pool.in_flight("probe")
            time.sleep(0.01)
        running.result()
    assert seen == 1
    assert pool.in_flight("probe") == 0
