"""platform.json is the one declaration of routes and functions: the docs, handlers and tests follow it."""

from __future__ import annotations

import importlib.util
import re

from broadcast_tools.artifacts import ROOT
from broadcast_tools.platform_table import PlatformTable

TABLE = PlatformTable.load()


def documented_actions() -> set[str]:
    """The actions in docs/PROTOCOL.md's client -> server table."""
    text = (ROOT / "docs" / "PROTOCOL.md").read_text()
    section = text.split("## Client → server", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))


def test_protocol_doc_lists_exactly_the_declared_actions():
    assert documented_actions() == set(TABLE.actions)


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
