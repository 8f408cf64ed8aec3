"""moto's server as the local platform runs it: ``python -m broadcast_tools.moto_launcher -H host -p port``.

Two of moto's per-request costs are taken out, nothing of what it answers changed (issue 21: moto, one Python
process for every function's calls, is what limits the talks the local platform carries):

- moto routes each request by listing its own package directory (``os.listdir`` and an ``isdir`` per entry, about
  150) to see whether the host names a service: a tenth of its CPU per request. The listing cannot change while
  the server runs, so it is made once.
- werkzeug writes a line per request to the server's log (a talk makes about 60 requests a second); warnings and
  errors are still logged.

Measured with DynamoDB conditional updates, reads and Kinesis puts (``docs/CAPACITY.md``, "Locally"): 2.75 ms of
the server's CPU per request before, 2.30 ms after.

And three things its clients rely on: DynamoDB's requests are answered one at a time, atomic as on AWS
(:func:`serialize_dynamodb`), each response leaves in one write (:func:`send_responses_whole`), and an event source
mapping's function is left for the local runtime to invoke (:func:`leave_event_sources_to_the_runtime`).
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from moto import backends
from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.responses import DynamoHandler
from moto.kinesis.models import kinesis_backends
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import main
from moto.sqs.models import sqs_backends

#: a response up to this size (any API answer; a function's code read from S3 is larger and leaves in pieces) leaves
#: the server in one write, its status line, headers and body together
RESPONSE_BUFFER_BYTES = 64 * 1024


def prepare_server() -> None:
    """Everything this module changes in moto's server, for a server in this process: ``make dev``'s (this module
    run as a program) and the tests' (a ``ThreadedMotoServer``)."""
    quicken()
    serialize_dynamodb()
    send_responses_whole()
    leave_event_sources_to_the_runtime()


def quicken() -> None:
    """Make moto's listing of its own service modules once instead of at every request, and silence werkzeug's
    line per request; for a moto server in this process (a ``ThreadedMotoServer``) as for this module's."""
    listed = backends.list_of_moto_modules
    if not hasattr(listed, "cache_clear"):  # not made once already
        backends.list_of_moto_modules = functools.cache(lambda: tuple(listed()))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def serialize_dynamodb() -> None:
    """Answer DynamoDB's requests one at a time, so a conditional write and a transaction are atomic as on AWS.

    moto's DynamoDB checks a condition and then writes, and rolls a transaction back from a deep copy of every table
    it touches, with no lock: in a threaded server two conditional puts of one key both succeeded, and a transaction
    beside other writes failed with a 500 (``RuntimeError: dictionary changed size during iteration`` in the copy).
    The server's Python runs one thread at a time anyway (the GIL)."""
    answer = DynamoHandler.call_action
    if getattr(answer, "serialized", False):
        return
    lock = threading.Lock()

    @functools.wraps(answer)
    def one_at_a_time(self: DynamoHandler) -> object:
        with lock:
            return answer(self)

    one_at_a_time.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]


def leave_event_sources_to_the_runtime() -> None:
    """Keep moto from invoking an event source mapping's function itself: the local runtime polls every mapping as
    Lambda does (``local_runtime.event_sources``).

    moto runs a mapping's function in Docker at every ``PutRecord`` to its stream and every ``SendMessage`` to its
    queue; with no Docker here each attempt failed after about 2 ms and four lines of the server's log. For a queue
    it first received the messages then visible, so each message's receive count grew at every later send (4 at its
    first real receive after three sends), and past the queue's ``maxReceiveCount`` its redrive policy would have
    moved it to the dead-letter queue unread. The mapping itself is created and described as before."""
    create = LambdaBackend.create_event_source_mapping
    if getattr(create, "left_to_the_runtime", False):
        return

    @functools.wraps(create)
    def mapping_only(self: LambdaBackend, spec: dict[str, object]) -> EventSourceMapping:
        mapping = create(self, spec)
        sources: list[Any] = [  # each holds the mappings moto would invoke, by key
            *sqs_backends[self.account_id][self.region_name].queues.values(),
            *kinesis_backends[self.account_id][self.region_name].streams.values(),
            *dynamodb_backends[self.account_id][self.region_name].tables.values(),
        ]
        for source in sources:
            registered = source.lambda_event_source_mappings
            for key in [key for key, value in registered.items() if value is mapping]:
                del registered[key]
        return mapping

    mapping_only.left_to_the_runtime = True  # type: ignore[attr-defined]
    LambdaBackend.create_event_source_mapping = mapping_only  # type: ignore[method-assign]


def send_responses_whole() -> None:
    """Send each response's status line, headers and body in one write (up to ``RESPONSE_BUFFER_BYTES``).

    werkzeug writes a response's headers and then its body, unbuffered. About once in a thousand requests of an
    apply, Terraform's AWS provider closed the connection as soon as it had read the headers, without reading the
    body, and sent the request again (``retrying request …, attempt 2`` in its debug log): a create the server had
    carried out the first time then failed with ``… already exists`` (docs/LOCAL.md, "When a run was interrupted, or
    the emulator changed"). Buffered, the whole answer arrives at once; in 11 fresh applies since, no request was
    sent twice. Buffered too, a ``100 Continue`` would wait in the buffer while its client waits for it to send the
    body: it is sent at once. A chunked answer (moto sent none in an apply) ends after werkzeug's 10 ms
    wait for what is left of the request."""
    handler = MotoRequestHandler
    if handler.wbufsize == RESPONSE_BUFFER_BYTES:
        return
    handler.wbufsize = RESPONSE_BUFFER_BYTES
    expect_100 = handler.handle_expect_100

    @functools.wraps(expect_100)
    def continue_at_once(self: BaseHTTPRequestHandler) -> bool:
        answered = expect_100(self)  # http.server writes "100 Continue" before the body is read
        self.wfile.flush()
        return answered

    handler.handle_expect_100 = continue_at_once  # type: ignore[method-assign]


if __name__ == "__main__":
    prepare_server()
    main(sys.argv[1:])
