"""The production deployment of docs/deployment.md, checked with the real tools: the systemd units
pass `systemd-analyze verify` and score "OK" in `systemd-analyze security`; the shipped nginx
configuration serves `mamori serve` (production settings) over HTTPS on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools import require_tool

from .tls import self_signed_certificate

ROOT = Path(__file__).resolve().parents[3]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
NGINX_CONF = ROOT / "deploy" / "nginx" / "mamori.conf"
SERVER_NAME = "mamori.city.example.lg.jp"
TIMEOUT = 60


def _installed_units(tmp_path: Path) -> list[Path]:
    """The units as installed, with ExecStart pointing at this virtualenv's `mamori`."""
    mamori = Path(sys.executable).parent / "mamori"
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/mamori/venv/bin/mamori", str(mamori)))
        copies.append(copy)
    return copies


@pytest.mark.own_database
def test_the_systemd_units_verify_cleanly(tmp_path):
    systemd_analyze = require_tool("systemd-analyze")
    assert [u.name for u in UNITS] == ["mamori-serve.service", "mamori-worker.service"]
    done = subprocess.run(
        [systemd_analyze, "verify", *map(str, _installed_units(tmp_path))], capture_output=True, text=True
    )
    # verify exits 0 on unknown keys and bad values, but names them: none may be named.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.own_database
@pytest.mark.parametrize("unit", [u.name for u in UNITS])
def test_the_systemd_units_are_sandboxed(tmp_path, unit):
    systemd_analyze = require_tool("systemd-analyze")
    installed = tmp_path / unit
    _installed_units(tmp_path)
    text = installed.read_text()
    for setting in (
        "User=mamori",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/mamori",
        "PrivateTmp=yes",
        "UMask=0077",
        "CapabilityBoundingSet=\n",
    ):
        assert setting in text, setting
    done = subprocess.run(
        [systemd_analyze, "security", "--offline=true", str(installed)], capture_output=True, text=True
    )
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", done.stdout)
    assert level and float(level[1]) <= 2.0 and level[2] == "OK", done.stdout[-500:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env |= {
        "MAMORI_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "mamori.config.settings.production",
        "MAMORI_ALLOWED_HOSTS": SERVER_NAME,
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mamori.cli.main", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def proxied(tmp_path) -> Iterator[tuple[int, int, Path]]:
    """`mamori serve` with production settings behind nginx running the shipped configuration."""
    nginx = require_tool("nginx")
    process = _serve(tmp_path / "home")
    lines = []
    for line in process.stdout:
        lines.append(line)
        if match := re.search(r"serving on http://127\.0\.0\.1:(\d+)/", line):
            upstream = int(match[1])
            break
    else:
        pytest.fail("".join(lines))
    cert, key = self_signed_certificate(tmp_path, SERVER_NAME)
    http_port, https_port = _free_port(), _free_port()
    site = (
        NGINX_CONF.read_text()
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
        .replace("/etc/ssl/mamori/fullchain.pem", str(cert))
        .replace("/etc/ssl/mamori/privkey.pem", str(key))
        .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{upstream}")
    )
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf")], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            if proxy.poll() is not None:
                pytest.fail(f"nginx stopped: {proxy.stderr.read()}")
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield http_port, https_port, cert
    finally:
        proxy.send_signal(signal.SIGQUIT)
        proxy.wait(timeout=TIMEOUT)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=TIMEOUT)


def _get(connection: http.client.HTTPConnection, path: str) -> http.client.HTTPResponse:
    connection.request("GET", path, headers={"Host": SERVER_NAME})
    response = connection.getresponse()
    response.read()
    return response


@pytest.mark.own_database
def test_mamori_serves_over_https_behind_the_shipped_nginx_configuration(proxied):
    http_port, https_port, cert = proxied
    plain = _get(http.client.HTTPConnection("127.0.0.1", http_port, timeout=TIMEOUT), "/login/")
    assert plain.status == 301 and plain.headers["Location"] == f"https://{SERVER_NAME}/login/"
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # we connect to 127.0.0.1 and send the server name as Host
    secure = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=TIMEOUT, context=context)
    page = _get(secure, "/login/")
    assert page.status == 200  # not redirected: mamori believes the proxy's X-Forwarded-Proto
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "no-store" in page.headers["Cache-Control"]
    cookie = page.headers["Set-Cookie"]
    assert "mamori_csrftoken=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert page.headers["Server"] == "nginx"  # server_tokens off: no version
    # A Host the city did not name is refused by mamori, whatever the client sends.
    secure.request("GET", "/login/", headers={"Host": "evil.example"})
    assert secure.getresponse().status == 400
