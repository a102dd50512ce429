"""Pulling hygiene from the Wazuh server API (4.x) into the same bundle the file import reads.

    POST /security/user/authenticate        (HTTP Basic) → {"data": {"token": JWT}}
    GET  /agents?offset=N&limit=500         every page, until total_affected_items
    GET  /sca/{id}, /syscollector/{id}/packages?select=name,version, /syscollector/{id}/hotfixes

(Wazuh documentation, "Getting started" with the server API and its API reference; the token lasts
900 s by default, so a 401 during the pull logs in once more.) The responses are kept exactly as
the API sent them — `{"agents": [page, ...], "sca": {id: response}, ...}` — and handed to
`formats.read_wazuh`, so a pulled bundle and an uploaded one are judged by the same reader.
HTTPS only; the server's certificate is checked against the configured CA (else the system's).
Every failure is one `DeviceError` line: login refused, no answer within the timeout, a page cut
short, a certificate that does not verify, a host that cannot be reached.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import DeviceError
from .uploads import MAX_IMPORT_BYTES

PAGE = 500
PER_AGENT_LIMIT = 10_000
NOT_HTTPS = _("Wazuh API の URL は https:// で始めてください（パスワードを送るため）。")
LOGIN_REFUSED = _(
    "Wazuh API へのログインが拒否されました（HTTP {status}）。ユーザー名とパスワードを確かめてください。"
)
TIMEOUT = _(
    "Wazuh API が {seconds} 秒以内に応答しませんでした（{path}）。時間をおいて取り直すか、上限を延ばしてください。"
)
TRUNCATED = _("Wazuh API の応答が途中で切れました（{path}）。もう一度取得してください。")
NOT_JSON = _(
    "Wazuh API の応答が JSON ではありません（{path}）。URL が Wazuh サーバ API（既定のポート 55000）か確かめてください。"
)
HTTP_ERROR = _("Wazuh API がエラーを返しました（HTTP {status}、{path}）。")
TLS_ERROR = _("Wazuh API の証明書を検証できません: {reason}。CA証明書の設定を確かめてください。")
UNREACHABLE = _("Wazuh API に接続できません（{reason}）。URL とネットワークを確かめてください。")
TOO_LARGE = _("Wazuh API の応答が大きすぎます（合計 200 MB まで）。")
BAD_CA = _("CA証明書を読めません。PEM 形式（-----BEGIN CERTIFICATE----- で始まる）で貼り付けてください。")

Report = Callable[[int, int, str], None]


@dataclass(frozen=True)
class WazuhAccess:
    url: str
    username: str
    password: str
    ca_certificate: str = ""  # PEM; empty: the system's trusted CAs
    timeout: float = 30.0


def tls_context(ca_certificate: str) -> ssl.SSLContext:
    """Verification against `ca_certificate` (PEM), or the system's CAs when it is empty."""
    try:
        return ssl.create_default_context(cadata=ca_certificate or None)
    except (ssl.SSLError, ValueError):
        raise DeviceError(BAD_CA, code="wazuh_bad_ca") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the credentials never follow a redirect (to http://, or another host)


class _Client:
    def __init__(self, access: WazuhAccess) -> None:
        if urllib.parse.urlsplit(access.url).scheme != "https":
            raise DeviceError(NOT_HTTPS, code="wazuh_not_https")
        self.access = access
        self.base = access.url.rstrip("/")
        self.opener = urllib.request.build_opener(
            _NoRedirect, urllib.request.HTTPSHandler(context=tls_context(access.ca_certificate))
        )
        self.token = ""
        self.received = 0

    def login(self) -> None:
        basic = base64.b64encode(f"{self.access.username}:{self.access.password}".encode()).decode()
        body = self._call("POST", "/security/user/authenticate", {"Authorization": f"Basic {basic}"})
        token = body.get("data", {}).get("token") if isinstance(body.get("data"), dict) else None
        if not isinstance(token, str) or not token:
            raise DeviceError(NOT_JSON.format(path="/security/user/authenticate"), code="wazuh_not_json")
        self.token = token

    def get(self, path: str, **query: Any) -> dict[str, Any]:
        url_path = f"{path}?{urllib.parse.urlencode(query)}" if query else path
        try:
            return self._call("GET", url_path, {"Authorization": f"Bearer {self.token}"})
        except _Expired:
            self.login()  # the token outlived its 900 s: once more
            return self._call("GET", url_path, {"Authorization": f"Bearer {self.token}"})

    def _call(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        # the scheme is https (checked when the client is made), never file: or another
        request = urllib.request.Request(self.base + path, method=method, headers=headers)  # noqa: S310
        shown = path.split("?", 1)[0]
        try:
            with self.opener.open(request, timeout=self.access.timeout) as response:
                raw = response.read(MAX_IMPORT_BYTES - self.received + 1)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and len(raw) < int(declared) <= MAX_IMPORT_BYTES - self.received:
                    raise http.client.IncompleteRead(raw, int(declared) - len(raw))  # the connection dropped
        except urllib.error.HTTPError as exc:
            if exc.code == 401 and path.startswith("/security/"):
                raise DeviceError(LOGIN_REFUSED.format(status=exc.code), code="wazuh_login") from None
            if exc.code == 401:
                raise _Expired from None
            if exc.code == 403 and path.startswith("/security/"):
                raise DeviceError(LOGIN_REFUSED.format(status=exc.code), code="wazuh_login") from None
            raise DeviceError(HTTP_ERROR.format(status=exc.code, path=shown), code="wazuh_http") from None
        except TimeoutError:
            raise DeviceError(
                TIMEOUT.format(seconds=int(self.access.timeout), path=shown), code="wazuh_timeout"
            ) from None
        except http.client.IncompleteRead:
            raise DeviceError(TRUNCATED.format(path=shown), code="wazuh_truncated") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise DeviceError(
                    TIMEOUT.format(seconds=int(self.access.timeout), path=shown), code="wazuh_timeout"
                ) from None
            if isinstance(reason, ssl.SSLError):
                raise DeviceError(
                    TLS_ERROR.format(reason=getattr(reason, "reason", None) or reason), code="wazuh_tls"
                ) from None
            raise DeviceError(UNREACHABLE.format(reason=reason), code="wazuh_unreachable") from None
        self.received += len(raw)
        if self.received > MAX_IMPORT_BYTES:
            raise DeviceError(TOO_LARGE, code="wazuh_too_large")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise DeviceError(NOT_JSON.format(path=shown), code="wazuh_not_json") from None
        if not isinstance(body, dict):
            raise DeviceError(NOT_JSON.format(path=shown), code="wazuh_not_json")
        return body


class _Expired(Exception):
    """A 401 on a data request: the token has expired."""


def _items(response: dict[str, Any]) -> tuple[list[Any], int]:
    data = response.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("affected_items"), list):
        return [], 0
    total = data.get("total_affected_items")
    return data["affected_items"], total if isinstance(total, int) else 0


def wazuh_bundle(access: WazuhAccess, *, report: Report) -> bytes:
    """Log in, read every page of agents and each connected agent's SCA, packages and hotfixes;
    the bundle as JSON bytes (see `formats.wazuh`)."""
    client = _Client(access)
    client.login()
    pages: list[dict[str, Any]] = []
    agents: list[Any] = []
    while True:
        page = client.get("/agents", offset=len(agents), limit=PAGE)
        items, total = _items(page)
        pages.append(page)
        agents += items
        report(0, max(total, 1), str(_("エージェント一覧 {n} / {total}")).format(n=len(agents), total=total))
        if not items or len(agents) >= total:
            break  # a short list is the reader's to refuse: it compares with total_affected_items
    ids = [
        str(a["id"])
        for a in agents
        if isinstance(a, dict) and isinstance(a.get("id"), str) and a.get("status") != "never_connected"
    ]
    bundle: dict[str, Any] = {"agents": pages, "sca": {}, "packages": {}, "hotfixes": {}}
    for n, agent_id in enumerate(ids, start=1):
        quoted = urllib.parse.quote(agent_id, safe="")
        bundle["sca"][agent_id] = client.get(f"/sca/{quoted}")
        bundle["packages"][agent_id] = client.get(
            f"/syscollector/{quoted}/packages", select="name,version", limit=PER_AGENT_LIMIT
        )
        bundle["hotfixes"][agent_id] = client.get(f"/syscollector/{quoted}/hotfixes", limit=PER_AGENT_LIMIT)
        report(n, len(ids), str(_("エージェント {id}")).format(id=agent_id))
    return json.dumps(bundle, ensure_ascii=False).encode()
