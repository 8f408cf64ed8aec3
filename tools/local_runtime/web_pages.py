"""The speaker and listener pages (web/dist), served on the WebSocket API's own port.

A plain HTTP GET (one without ``Upgrade: websocket``) that reaches the gateway is answered
here: the built files of ``web/`` and a ``config.json`` generated for the address the
browser used, so the pages find the WebSocket API wherever `make dev` runs. On AWS the
same files are served by CloudFront, with a ``config.json`` Terraform writes.
"""

from __future__ import annotations

import json
import mimetypes
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from broadcast_tools.artifacts import ROOT

WEB_DIST = ROOT / "web" / "dist"
SPEAKER_PAGE = "speaker.html"
LISTENER_PAGE = "listener.html"


def is_websocket_upgrade(request: Request) -> bool:
    return "websocket" in request.headers.get("Upgrade", "").lower()


class WebPages:
    def __init__(self, root: Path, stage: str) -> None:
        self.root = root.resolve()
        self.stage = stage

    @property
    def built(self) -> bool:
        return (self.root / SPEAKER_PAGE).is_file()

    def config(self, host: str) -> dict:
        """What the pages read at start (web/src/config.ts)."""
        return {"webSocketUrl": f"ws://{host}/{self.stage}", "signIn": {"mode": "urlFragment"}}

    def respond(self, request: Request, default_host: str) -> Response:
        path = request.path.split("?", 1)[0].split("#", 1)[0]
        if path in ("", "/"):
            return _response(HTTPStatus.FOUND, b"", "text/plain", {"Location": LISTENER_PAGE})
        if path == "/config.json":
            host = request.headers.get("Host", default_host)
            return _response(HTTPStatus.OK, json.dumps(self.config(host)).encode(), "application/json")
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return _response(HTTPStatus.NOT_FOUND, b"Not Found\n", "text/plain")
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return _response(HTTPStatus.OK, file.read_bytes(), content_type)


def _response(status: HTTPStatus, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> Response:
    if content_type.startswith("text/") or content_type in ("application/json", "text/javascript"):
        content_type += "; charset=utf-8"
    headers = Headers(
        {
            "Date": formatdate(usegmt=True),
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Connection": "close",
            **(extra or {}),
        }
    )
    return Response(status.value, status.phrase, headers, body)
