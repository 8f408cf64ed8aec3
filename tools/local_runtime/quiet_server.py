"""The local runtime's HTTP servers (the Management and Invoke APIs, the fault proxy) as one quiet kind, and the
request handler they share."""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHTTPServer(ThreadingHTTPServer):
    """A client that hung up (a function killed at its timeout, or stopped with the runtime) is not an error here:
    no traceback for the reset connection, and none when the server closes it under us."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a function's pool opening its connections at once (32
    # threads in a fan-out), and a dropped SYN is retried after a second: every such fan-out had a 1 s tail.
    request_queue_size = socket.SOMAXCONN

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        try:
            super().shutdown_request(request)
        except OSError:
            pass  # the same reset connection, closed under us


class QuietRequestHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 with no request log, and one way to write an answer."""

    protocol_version = "HTTP/1.1"
    # The reply's headers and body are two writes: with Nagle on, the body waits for the client's delayed ACK
    # (40 ms), which held every keep-alive call to one per 40 ms per connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        return

    def answer(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
