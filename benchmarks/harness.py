"""What the benchmarks share: logs kept out of the figures, AWS emulated in this process with a local Management
API, a speaker's session, and the deployed local platform with the test talk streamed through it in real time."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broadcast_tools.artifacts import ROOT
from broadcast_tools.speech import TALK, synthesize
from local_runtime.management_api import ManagementApiServer, RecordingSink
from session_management.app import SessionRuntime
from tests.support.aws_emulator import emulated_aws
from tests.support.harness import Harness
from tests.support.running_platform import RunningPlatform
from tests.support.talk import TalkResult, stream_talk

#: where the emulators' and the local runtime's warnings and errors go while the benchmarks print their figures
LOG = ROOT / ".local" / "logs" / "bench.log"
#: the audio chunk a speaker sends through the platform
CHUNK_MS = 200


def keep_logs_out_of_the_figures() -> Path:
    """Log warnings and errors of every logger to :data:`LOG` instead of the terminal, and there too Python's
    warnings and an exception that ends a thread (a server or a socket stopped under it at teardown); the
    emulator's request log (werkzeug's line per call) is not kept at all."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=LOG,
        filemode="w",
        level=logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.captureWarnings(True)

    def log_thread_exception(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "a thread"
        logging.getLogger("benchmarks").error("%s ended with an exception", name, exc_info=args.exc_value)

    threading.excepthook = log_thread_exception
    return LOG


@contextlib.contextmanager
def aws_in_process() -> Iterator[tuple[str, RecordingSink]]:
    """AWS emulated in this process (moto, reached by every boto3 client made meanwhile) and a local Management API
    recording what it is sent: its endpoint and that record."""
    with emulated_aws():
        sink = RecordingSink()
        management = ManagementApiServer(sink).start()
        try:
            yield management.endpoint, sink
        finally:
            management.stop()


def speaker_session(runtime: SessionRuntime, sink: RecordingSink, connection_id: str = "speaker") -> str:
    """A speaker connected and a session created by the handlers, their metrics and log lines not printed: its id."""
    with contextlib.redirect_stdout(io.StringIO()):
        return Harness(runtime, sink).speaker_with_session(connection_id)


def stream_the_talk(stack: RunningPlatform, **options: Any) -> TalkResult:
    """The Piper test talk streamed in real time in :data:`CHUNK_MS` chunks through ``stack`` (the deployed platform:
    :func:`tests.support.running_platform.serving_applied_platform`), ``options`` as
    :func:`tests.support.talk.stream_talk` takes them."""
    return stream_talk(stack.url, synthesize(TALK), chunk_ms=CHUNK_MS, pace=1.0, **options)
