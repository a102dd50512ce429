"""`mamori serve` really serves: Waitress on a free port, static files with DEBUG=False, clean stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mamori.apps.core.storage import StaticStorage

SERVE_TIMEOUT = 60


@pytest.mark.own_database
def test_serve_answers_with_the_login_page_and_static_files(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env |= {"MAMORI_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mamori.cli.main", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if match := re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line):
                url = match[1]
                break
        assert url, "".join(lines)
        with urllib.request.urlopen(url + "login/", timeout=SERVE_TIMEOUT) as response:
            html = response.read().decode()
            assert response.status == 200 and response.headers["Server"] == "mamori"
            assert "Content-Security-Policy" in response.headers
        assert "ログイン" in html
        css_path = re.search(r'href="(/static/mamori/mamori\.[0-9a-f]+\.css)"', html)[
            1
        ]  # hashed by the manifest
        with urllib.request.urlopen(url.rstrip("/") + css_path, timeout=SERVE_TIMEOUT) as css:
            assert css.status == 200 and b".card" in css.read()
            assert "max-age" in css.headers["Cache-Control"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=SERVE_TIMEOUT)
    assert process.returncode == 0
    assert (tmp_path / "home" / "mamori.sqlite3").exists()  # migrations were applied on start
    # everything the server created (database, keys, collected static files) is private to its user
    assert [p for p in (tmp_path / "home").rglob("*") if p.lstat().st_mode & 0o077] == []


def test_static_urls_work_before_collectstatic(tmp_path: Path):
    """Templates rendered by a command before any `collectstatic` get plain names, not an error."""
    storage = StaticStorage(location=tmp_path / "static", base_url="/static/")
    assert storage.url("mamori/mamori.css") == "/static/mamori/mamori.css"


def test_a_busy_port_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError) as exc:
            call_command("serve", "--port", str(port))
    assert exc.value.returncode == 1
    assert str(exc.value).startswith(f"cannot listen on 127.0.0.1:{port}:")
