"""Every hand copy of the protocol agrees with its one source: the pydantic models and platform.json.

The copies: the web pages' ``web/src/protocol.ts`` (action and message names, their fields, which fields are
optional, string-literal values and the language lists), the command-line clients' messages
(``tools/broadcast_client``), and ``infrastructure/main.tf``'s per-function permissions and profiles and the metrics
its alarms and dashboard watch. Each test names the copy and what in it disagrees. docs/ARCHITECTURE.md, "Adding a
route", lists what to change.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from pydantic.fields import FieldInfo

from broadcast_shared.languages import SOURCE_LOCALES, TARGET_LANGUAGES
from broadcast_shared.messages import inbound, outbound
from broadcast_shared.messages.wire import WireModel
from broadcast_tools.platform_table import ROOT, PlatformTable
from tests.support.messages import ACTION_MODELS, MESSAGE_MODELS

TABLE = PlatformTable.load()
PROTOCOL_TS = ROOT / "web" / "src" / "protocol.ts"


# --- protocol.ts, read as far as its declarations go --------------------------------------------------------------


@dataclass(frozen=True)
class TsField:
    optional: bool
    #: the values of a union of string literals (``"a" | "b"``), else None
    literals: frozenset[str] | None


def _top_level(text: str, separators: str) -> list[str]:
    """``text`` split at ``separators`` outside brackets and strings."""
    parts, depth, current, quoted = [], 0, "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "{([<":
            depth += 1
        elif not quoted and char in "})]>":
            depth -= 1
        if not quoted and depth == 0 and char in separators:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def _fields(body: str) -> dict[str, TsField]:
    fields = {}
    for member in _top_level(body, ";\n"):
        name, _, type_ = member.partition(":")
        type_ = type_.strip()
        values = _top_level(type_, "|")
        literal = all(re.fullmatch(r'"[^"]*"', value) for value in values)
        fields[name.strip().rstrip("?")] = TsField(
            optional=name.strip().endswith("?"),
            literals=frozenset(value.strip('"') for value in values) if literal else None,
        )
    return fields


class ProtocolTs:
    def __init__(self, path: Path) -> None:
        self.text = re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(), flags=re.DOTALL)
        declared = re.findall(r"export interface (\w+) \{(.*?)\n\}", self.text, re.DOTALL)
        self.interfaces = {name: _fields(body) for name, body in declared}

    def union(self, name: str, discriminator: str) -> dict[str, dict[str, TsField]]:
        """The members of ``export type <name> = | {...} | ...`` by their discriminator's value, with their fields."""
        body = re.search(rf"export type {name} =(.*?);\n\n", self.text, re.DOTALL)
        assert body, f"protocol.ts declares no union {name}"
        members = {}
        for member in _top_level(body.group(1), "|"):
            parts = _top_level(member.strip("()"), "&")
            fields: dict[str, TsField] = {}
            for part in parts:
                fields |= _fields(part[1:-1]) if part.startswith("{") else self.interfaces[part]
            key = fields.pop(discriminator)
            assert key.literals and len(key.literals) == 1, f"{name}: a member's {discriminator} is not one literal"
            members[next(iter(key.literals))] = fields
        return members

    def string_array(self, name: str) -> set[str]:
        found = re.search(rf"export const {name} = \[(.*?)\]", self.text, re.DOTALL)
        assert found, f"protocol.ts declares no {name}"
        return set(re.findall(r'"([^"]+)"', found.group(1)))


TS = ProtocolTs(PROTOCOL_TS)


def aliases(model: type[WireModel]) -> dict[str, FieldInfo]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def literal_values(field: FieldInfo) -> set[str] | None:
    """The values a field may take when its type is an enum or a ``Literal`` (optional or not), else None."""
    for type_ in (field.annotation, *typing.get_args(field.annotation)):
        if inspect.isclass(type_) and issubclass(type_, Enum):
            return {str(member.value) for member in type_}
        if typing.get_origin(type_) is typing.Literal:
            return {str(value) for value in typing.get_args(type_)}
    return None


def disagreements(what: str, ts_fields: dict[str, TsField], model: type[WireModel], sent_by_client: bool) -> list[str]:
    """What a protocol.ts member says that its model does not."""
    found = []
    fields = aliases(model)
    for name, declared in ts_fields.items():
        field = fields.get(name)
        if field is None:
            found.append(f"{what}.{name}: {model.__name__} has no such field")
            continue
        # the server leaves out a None (to_wire: exclude_none); a page must not count on a field that may be absent
        if not sent_by_client and not declared.optional and not field.is_required() and field.default is None:
            found.append(f"{what}.{name}: required in protocol.ts, may be absent from {model.__name__}")
        values = literal_values(field)
        if declared.literals is not None and values is not None and declared.literals != values:
            found.append(f"{what}.{name}: protocol.ts has {sorted(declared.literals)}, the model {sorted(values)}")
    if sent_by_client:
        for name, field in fields.items():
            if field.is_required() and name != "action" and (name not in ts_fields or ts_fields[name].optional):
                found.append(f"{what}.{name}: {model.__name__} requires it, protocol.ts does not send it always")
    return found


def test_the_web_client_sends_exactly_the_actions_platform_json_routes_and_the_models_parse():
    assert set(TS.union("Action", "action")) == set(TABLE.actions) == set(ACTION_MODELS)


def test_every_action_the_web_client_sends_has_the_fields_its_model_accepts():
    found = [
        problem
        for action, fields in TS.union("Action", "action").items()
        for problem in disagreements(action, fields, ACTION_MODELS[action], sent_by_client=True)
    ]
    assert found == []


def test_every_message_the_web_client_reads_is_one_the_server_sends_with_those_fields():
    read = TS.union("ServerMessage", "type")
    assert set(read) - set(MESSAGE_MODELS) == set(), "protocol.ts reads messages no model defines"
    found = [
        problem
        for type_, fields in read.items()
        for problem in disagreements(type_, fields, MESSAGE_MODELS[type_], sent_by_client=False)
    ]
    # the parts messages share: BroadcastState, SpeechAudio, TranscriptLine
    for name, fields in TS.interfaces.items():
        model = getattr(outbound, name, None)
        if isinstance(model, type) and issubclass(model, WireModel):
            found += disagreements(name, fields, model, sent_by_client=False)
    assert found == []


def test_the_web_clients_language_lists_are_the_servers():
    assert TS.string_array("SOURCE_LANGUAGES") == set(SOURCE_LOCALES)
    assert TS.string_array("TARGET_LANGUAGES") == set(TARGET_LANGUAGES)


def test_a_protocol_ts_copy_that_disagrees_is_found():
    """The checks above fail on a wrong copy, not only pass on the right one."""
    wrong = ProtocolTs(PROTOCOL_TS)
    wrong.text = (
        wrong.text.replace('action: "setVolume"; volume: number', 'action: "setVolume"; level: number')
        .replace('action: "heartbeat" }', 'action: "ping" }')
        .replace('"speakerEnded" | "speakerDisconnected"', '"speakerEnded"')
        .replace("nextToken?: string }", "nextToken: string }")
    )
    assert set(wrong.union("Action", "action")) - set(TABLE.actions) == {"ping"}
    assert disagreements("setVolume", wrong.union("Action", "action")["setVolume"], inbound.SetVolume, True) == [
        "setVolume.level: SetVolume has no such field",
        "setVolume.volume: SetVolume requires it, protocol.ts does not send it always",
    ]
    read = wrong.union("ServerMessage", "type")
    assert disagreements("sessionEnded", read["sessionEnded"], outbound.SessionEnded, False) == [
        "sessionEnded.reason: protocol.ts has ['speakerEnded'], the model ['speakerDisconnected', 'speakerEnded']"
    ]
    assert disagreements("transcriptPage", read["transcriptPage"], outbound.TranscriptPage, False) == [
        "transcriptPage.nextToken: required in protocol.ts, may be absent from TranscriptPage"
    ]


# --- the command-line clients --------------------------------------------------------------------------------------

CLIENTS = sorted((ROOT / "tools" / "broadcast_client").glob("*.py"))


def sent_messages(path: Path) -> list[tuple[int, str, set[str]]]:
    """Every dict literal with an ``action`` in a client's source: (line, action, its keys); an action looked up in
    a dict literal of names (``COMMANDS[word]``) counts once per name."""
    tree = ast.parse(path.read_text())
    names: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            values = [v.value for v in node.value.values if isinstance(v, ast.Constant)]
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = [str(v) for v in values]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if "action" not in keys:
            continue
        action = node.values[keys.index("action")]
        if isinstance(action, ast.Constant):
            actions = [str(action.value)]
        else:
            assert isinstance(action, ast.Subscript) and isinstance(action.value, ast.Name), ast.unparse(action)
            actions = names[action.value.id]
        found += [(node.lineno, name, {str(k) for k in keys}) for name in actions]
    return found


@pytest.mark.parametrize("path", CLIENTS, ids=lambda path: path.name)
def test_the_command_line_clients_send_only_declared_actions_with_their_models_fields(path):
    found = []
    for line, action, keys in sent_messages(path):
        model = ACTION_MODELS.get(action)
        if model is None or action not in TABLE.actions:
            found.append(f"{path.name}:{line}: {action} is not a declared action")
            continue
        fields = aliases(model)
        found += [f"{path.name}:{line}: {action} has no field {key}" for key in sorted(keys - set(fields))]
        required = {name for name, field in fields.items() if field.is_required()}
        found += [f"{path.name}:{line}: {action} lacks {key}" for key in sorted(required - keys)]
    assert found == []


def test_the_speaker_client_sends_its_session_audio_and_control_actions():
    assert {action for _, action, _ in sent_messages(ROOT / "tools" / "broadcast_client" / "speaker.py")} >= {
        "createSession",
        "sendAudio",
        "endSession",
        "setVolume",
        "pauseBroadcast",
    }


# --- main.tf ---------------------------------------------------------------------------------------------------------


def main_tf_locals() -> dict[str, object]:
    merged: dict[str, object] = {}
    with (ROOT / "infrastructure" / "main.tf").open() as handle:
        for block in hcl2.load(handle).get("locals", []):
            merged |= block
    return merged


def main_tf_modules() -> list[dict[str, Any]]:
    with (ROOT / "infrastructure" / "main.tf").open() as handle:
        return list(hcl2.load(handle)["module"])


def test_main_tf_grants_permissions_and_variables_only_to_declared_functions_and_has_every_declared_profile():
    locals_ = main_tf_locals()
    function_access, function_variables = locals_["function_access"], locals_["function_variables"]
    profiles = locals_["profiles"]
    assert isinstance(function_access, dict) and isinstance(function_variables, dict) and isinstance(profiles, dict)
    assert set(function_access) - set(TABLE.functions) == set(), "function_access names undeclared functions"
    assert set(function_variables) - set(TABLE.functions) == set(), "function_variables names undeclared functions"
    used = {function.profile for function in TABLE.functions.values()}
    assert used - set(profiles) == set(), "platform.json names profiles main.tf does not define"


def test_main_tf_lets_every_caller_in_function_calls_invoke_its_callees_and_no_other():
    referenced = set(re.findall(r"local\.function_calls\.(\w+)", (ROOT / "infrastructure" / "main.tf").read_text()))
    assert referenced == set(TABLE.function_calls)
    warmed = set(re.findall(r"local\.platform\.warm_ups\.(\w+)", (ROOT / "infrastructure" / "main.tf").read_text()))
    assert warmed == set(TABLE.warm_ups)


@cache
def _string_constants(directory: Path) -> frozenset[str]:
    """Every string constant in the Python under ``directory``, docstrings left out: a metric the code emits is named
    in one of them."""
    names: set[str] = set()
    for path in directory.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        names |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        }
    return frozenset(names)


def test_every_metric_main_tf_alarms_on_or_charts_is_one_its_service_emits():
    (monitoring,) = [block['"monitoring"'] for block in main_tf_modules() if '"monitoring"' in block]
    watched = {
        (alarm["metric"].strip('"'), alarm["service"].strip('"')) for alarm in monitoring["application_alarms"].values()
    } | {
        (metric.strip('"'), service)
        for service, metrics in monitoring["talk_path"]["emf_by_service"].items()
        for metric in metrics
    }
    # what a service's functions run: its own code and the shared layer's
    shared = _string_constants(ROOT / "layers" / "shared" / "python" / "broadcast_shared")
    missing = sorted(
        (metric, service)
        for metric, service in watched
        if metric not in shared and metric not in _string_constants(ROOT / "services" / service / "src")
    )
    assert missing == [], "main.tf watches metrics their service never emits (the alarm could never fire)"
