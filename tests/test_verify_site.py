"""`make verify` requests the deployed site over HTTP(S) as a browser would: root, pages and config.json."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broadcast_tools.artifacts import ROOT
from broadcast_tools.verify import Auditor

WEBSOCKET_URL = "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev"
CLIENT_ID = "4example0client0id"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    for page in ("index.html", "speaker.html", "listener.html"):
        (tmp_path / page).write_text("<!doctype html><title>page</title>")
    config = {"webSocketUrl": WEBSOCKET_URL, "signIn": {"mode": "cognito", "clientId": CLIENT_ID}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def audit(url: str) -> Auditor:
    outputs = {
        "region": "eu-west-1",
        "websocket_url": WEBSOCKET_URL,
        "sign_in": {"client_id": CLIENT_ID},
        "site": {"url": url, "bucket": "unused", "files": ["assets/app.js", "listener.html", "speaker.html"]},
    }
    auditor = Auditor(outputs, ROOT, "dev")
    auditor.audit_site()
    return auditor


def test_a_site_serving_its_pages_and_config_has_no_gaps(site):
    _, url = site
    assert audit(url).gaps == []


def test_a_missing_page_and_a_config_for_another_client_are_gaps(site):
    folder, url = site
    (folder / "listener.html").unlink()
    (folder / "config.json").write_text(json.dumps({"webSocketUrl": WEBSOCKET_URL, "signIn": {"clientId": "other"}}))
    assert audit(url).gaps == [
        f"site: {url}listener.html does not answer",
        f"site: config.json signs in with another client than {CLIENT_ID}",
    ]


def test_a_config_that_is_not_json_is_a_gap(site):
    folder, url = site
    (folder / "config.json").write_text("<html>an error page</html>")
    assert audit(url).gaps == ["site: config.json is not JSON"]


def test_an_environment_without_the_site_notes_it(site):
    auditor = Auditor({"region": "eu-west-1", "site": None}, ROOT, "dev")
    auditor.audit_site()
    assert auditor.gaps == [] and auditor.notes == ["site: not deployed (variable site.enabled is false)"]
