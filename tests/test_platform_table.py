"""platform.json is the one declaration of routes and functions: the docs, handlers and tests follow it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from broadcast_tools.artifacts import ROOT
from broadcast_tools.platform_table import (
    PLATFORM_FILE,
    SCHEMA_FILE,
    PlatformDeclarationError,
    PlatformTable,
    json_schema,
)
from tests.support.messages import MESSAGE_MODELS

TABLE = PlatformTable.load()


def documented_actions() -> set[str]:
    """The actions in docs/PROTOCOL.md's client -> server table."""
    text = (ROOT / "docs" / "PROTOCOL.md").read_text()
    section = text.split("## Client → server", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))


def test_protocol_doc_lists_exactly_the_declared_actions():
    assert documented_actions() == set(TABLE.actions)


def test_protocol_doc_lists_exactly_the_messages_the_models_define():
    text = (ROOT / "docs" / "PROTOCOL.md").read_text()
    section = text.split("## Server → client", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^`(\w+)` —", section, flags=re.MULTILINE)) == set(MESSAGE_MODELS)


def test_every_declared_handler_module_exists_in_its_artifacts_sources():
    for key, function in TABLE.functions.items():
        source = ROOT / TABLE.artifacts[function.artifact].source
        module_file = source / (function.handler_module.replace(".", "/") + ".py")
        assert module_file.is_file(), f"function {key}: {module_file} is missing"
        assert importlib.util.find_spec(function.handler_module) is not None


def test_every_route_has_a_handler_and_a_test_named_after_it():
    tests = {path.name for path in ROOT.glob("services/*/tests/test_*.py")}
    for route, key in TABLE.routes.items():
        module = TABLE.functions[key].handler_module.rsplit(".", 1)[1]
        assert module == key, f"route {route}: handler module {module} is not named after its function {key}"
        assert f"test_{module}.py" in tests, f"route {route}: no test_{module}.py beside its service"


def test_the_declaration_has_no_problems():
    assert TABLE.problems() == []


def load_changed(tmp_path: Path, change: Any) -> PlatformTable:
    declaration = json.loads(PLATFORM_FILE.read_text())
    change(declaration)
    path = tmp_path / "platform.json"
    path.write_text(json.dumps(declaration))
    return PlatformTable.load(path)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # a misspelt key used to be ignored: the function would have deployed unscheduled
        (
            lambda d: d["functions"]["reconcile_counts"].update(
                scheduel=d["functions"]["reconcile_counts"]["schedule"]
            ),
            "platform.json functions.reconcile_counts.scheduel: unknown key",
        ),
        (lambda d: d.update(route={}), "platform.json route: unknown key"),
        (lambda d: d["functions"]["heartbeat"].pop("schedule"), "functions.heartbeat.schedule: Field required"),
        (lambda d: d["functions"]["heartbeat"].update(schedule=60), "functions.heartbeat.schedule: Input should be"),
        (lambda d: d["functions"]["heartbeat"].update(schedule="every minute"), "should match pattern"),
        (lambda d: d["artifacts"]["audio-ingest"].update(layer="yes"), "artifacts.audio-ingest.layer: Input should"),
        (lambda d: d["artifacts"]["audio-ingest"]["environment"].update(THREADS=1), "environment.THREADS: Input"),
        (lambda d: d["routes"].update(ping=3), "platform.json routes.ping: Input should be a valid string"),
        (lambda d: d.pop("authorizer"), "platform.json authorizer: Field required"),
        (lambda d: d["warm_ups"]["create_session"].update(send_audio=0), "send_audio: Input should be greater"),
        (lambda d: d["warm_ups"]["create_session"].update(send_audio="2"), "send_audio: Input should be a valid int"),
    ],
)
def test_an_unknown_key_or_a_wrong_type_is_refused_naming_the_key(tmp_path, change, problem):
    with pytest.raises(PlatformDeclarationError) as refused:
        load_changed(tmp_path, change)
    assert problem in str(refused.value)
    assert str(refused.value).startswith(f"{tmp_path / 'platform.json'} is not a valid platform declaration")


def test_a_warm_up_of_a_function_its_caller_may_not_invoke_is_a_problem(tmp_path):
    table = load_changed(tmp_path, lambda d: d["warm_ups"]["create_session"].update(translate_segment=1))
    assert table.problems() == [
        "warm_ups: create_session warms translate_segment, which function_calls.create_session does not list "
        "(it would have no permission to invoke it)"
    ]


def test_the_editors_json_schema_is_the_models():
    assert SCHEMA_FILE.read_text() == json_schema(), "stale: run `.venv/bin/python -m broadcast_tools.platform_table`"
