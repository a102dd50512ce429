"""A loopback HTTPS server that answers like the Wazuh server API 4.x, from the documented-schema
fixture `fixtures/wazuh_bundle.json` (see fixtures/README.md for the documentation it follows).

It is schema-faithful, not a Wazuh manager: JWT login with HTTP Basic (POST
/security/user/authenticate → {"data": {"token": ...}}), Bearer tokens on every other request,
`offset` / `limit` paging of GET /agents with `total_affected_items`, and the per-agent SCA,
packages and hotfixes responses. Faults on demand: `expire_once` (the first data request gets 401,
as an expired token does), `truncate_page` (the second page of agents is cut short of its
Content-Length), `hang` (GET /agents never answers until the server stops), `redirect` (the login
is sent elsewhere over plain HTTP).
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mamori.apps.passwords.slapd import make_ca

BUNDLE = Path(__file__).parent / "fixtures" / "wazuh_bundle.json"
USER, PASSWORD = "wazuh-wui", "Wazuh-パスワード1"


def _empty() -> dict[str, Any]:
    return {
        "data": {
            "affected_items": [],
            "total_affected_items": 0,
            "total_failed_items": 0,
            "failed_items": [],
        },
        "message": "No items were returned",
        "error": 0,
    }


class FakeWazuh(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bundle = json.loads(BUNDLE.read_text())
        self.tokens: set[str] = set()
        self.requests: list[str] = []
        self.faults: set[str] = set()
        self.release = threading.Event()
        self.ca_pem = ""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeWazuh

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: dict[str, Any], *, cut: bool = False) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw[: len(raw) // 2] if cut else raw)
        if cut:
            self.close_connection = True

    def do_POST(self) -> None:
        self.server.requests.append("POST " + self.path)
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if (
            "redirect" in self.server.faults
        ):  # a hostile or misconfigured proxy: somewhere else, in plain HTTP
            self.send_response(307)
            self.send_header("Location", "http://127.0.0.1:9/security/user/authenticate")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.split("?")[0] != "/security/user/authenticate":
            self._send(405, {"title": "Method Not Allowed", "error": 405})
        elif self.headers.get("Authorization") != f"Basic {expected}":
            self._send(401, {"title": "Unauthorized", "detail": "Invalid credentials", "error": 401})
        else:
            token = secrets.token_urlsafe(16)
            self.server.tokens.add(token)
            self._send(200, {"data": {"token": token}, "error": 0})

    def do_GET(self) -> None:
        self.server.requests.append("GET " + self.path)
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.server.tokens or "expire_once" in self.server.faults:
            self.server.faults.discard("expire_once")
            self.server.tokens.discard(token)
            self._send(401, {"title": "Unauthorized", "detail": "Invalid token", "error": 401})
            return
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.strip("/").split("/")
        if parts == ["agents"]:
            if "hang" in self.server.faults:
                self.server.release.wait(30)
                return
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 500))
            everything = self.server.bundle["agents"]["data"]["affected_items"]
            page = json.loads(json.dumps(self.server.bundle["agents"]))
            page["data"]["affected_items"] = everything[offset : offset + limit]
            page["data"]["total_affected_items"] = len(everything)
            self._send(200, page, cut="truncate_page" in self.server.faults and offset > 0)
        elif len(parts) == 2 and parts[0] == "sca":
            self._send(200, self.server.bundle["sca"].get(parts[1]) or _empty())
        elif len(parts) == 3 and parts[0] == "syscollector" and parts[2] in ("packages", "hotfixes"):
            self._send(200, self.server.bundle[parts[2]].get(parts[1]) or _empty())
        else:
            self._send(404, {"title": "Not Found", "error": 404})


@contextmanager
def fake_wazuh(directory: Path) -> Iterator[FakeWazuh]:
    """The server on a free loopback port, with a fresh CA whose PEM is `server.ca_pem`."""
    tls = make_ca(directory)
    server = FakeWazuh()
    server.ca_pem = tls.ca_pem
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert_path, tls.key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
