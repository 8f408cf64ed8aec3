"""The web pages as `make dev` serves them on the WebSocket API's port: files, config.json, nothing else."""

from __future__ import annotations

import json

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from local_runtime.web_pages import WebPages, is_websocket_upgrade


@pytest.fixture
def pages(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "speaker.html").write_text("<!doctype html><title>Speaker</title>")
    (tmp_path / "site" / "assets").mkdir()
    (tmp_path / "site" / "assets" / "speaker-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for browsers")
    return WebPages(tmp_path / "site", "local")


def get(pages: WebPages, path: str, host: str = "127.0.0.1:8765"):
    return pages.respond(Request(path, Headers({"Host": host})), "127.0.0.1:8765")


def test_built_files_are_served_with_their_content_type(pages):
    page = get(pages, "/speaker.html")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.body.startswith(b"<!doctype html>")
    script = get(pages, "/assets/speaker-abc.js?v=1")
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert int(script.headers["Content-Length"]) == len(script.body)


def test_config_points_the_pages_at_the_websocket_api_on_the_address_the_browser_used(pages):
    config = json.loads(get(pages, "/config.json", host="192.0.2.1:9123").body)
    assert config == {"webSocketUrl": "ws://192.0.2.1:9123/local", "signIn": {"mode": "urlFragment"}}


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/missing.html", "/assets"])
def test_nothing_outside_the_built_site_is_served(pages, path):
    response = get(pages, path)
    assert response.status_code == 404
    assert b"not for browsers" not in response.body


def test_the_site_root_leads_to_the_listener_page(pages):
    response = get(pages, "/")
    assert response.status_code == 302
    assert response.headers["Location"] == "listener.html"


def test_only_a_websocket_upgrade_reaches_the_api():
    assert is_websocket_upgrade(Request("/local", Headers({"Upgrade": "websocket", "Connection": "Upgrade"})))
    assert not is_websocket_upgrade(Request("/speaker.html", Headers({"Host": "x"})))
