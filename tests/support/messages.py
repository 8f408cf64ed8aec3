"""The protocol's models by their discriminator: what a test checks a copy of the protocol, or an answer, against."""

from __future__ import annotations

import inspect
import typing

from broadcast_shared.messages import inbound, outbound
from broadcast_shared.messages.wire import WireModel


def models_by_literal(module: object, field: str) -> dict[str, type[WireModel]]:
    """The module's models by the value of their ``Literal`` discriminator (``action`` or ``type``)."""
    found = {}
    for _, model in inspect.getmembers(module, inspect.isclass):
        if issubclass(model, WireModel) and field in model.model_fields:
            (value,) = typing.get_args(model.model_fields[field].annotation)
            found[value] = model
    return found


#: client -> server: every action's model
ACTION_MODELS = models_by_literal(inbound, "action")
#: server -> client: every message's model
MESSAGE_MODELS = models_by_literal(outbound, "type")
