"""Regenerate the README screenshots: start `mamori demo` on a free port in a scratch MAMORI_HOME,
sign in through Debian's Chromium, capture the main pages at 1200 px and save them palette-compressed
into docs/screenshots/. Run: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "screenshot-demo-password"  # noqa: S105 - a throwaway demo in a scratch directory
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
PAGES = [  # (file, username, path, full page)
    ("login", None, "/login/", False),
    ("dashboard", "officer", "/", False),
    ("staff-list", "officer", "/staff/?q=&department=", False),
    ("staff-detail", "officer", None, False),
    ("departments", "lead", "/departments/", False),
    ("audit-log", "auditor", "/audit/?verify=1", False),
    ("users-and-roles", "admin", "/users/", False),
]


def _save(png: bytes, name: str) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    image.save(OUT / f"{name}.png", optimize=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="mamori-screens-")
    env = os.environ | {"MAMORI_HOME": home, "MAMORI_DEMO_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "mamori.cli.main", "demo", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        base = ""
        for line in demo.stdout:  # type: ignore[union-attr]
            if match := re.search(r"serving on (http://[\d.]+:\d+)/", line):
                base = match[1]
                break
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            pages: dict[str | None, object] = {}
            for name, username, path, full in PAGES:
                if username not in pages:
                    page = browser.new_page(viewport={"width": 1200, "height": 760}, locale="ja-JP")
                    if username:
                        page.goto(f"{base}/login/")
                        page.fill("#id_username", username)
                        page.fill("#id_password", PASSWORD)
                        page.click("button.primary")
                        page.wait_for_url(f"{base}/")
                    pages[username] = page
                page = pages[username]
                if path is None:  # a staff member with a transfer on record
                    page.goto(f"{base}/staff/?q=")
                    page.goto(f"{base}/staff/{_transferred_pk(page, base)}/")
                else:
                    page.goto(base + path)
                _save(page.screenshot(full_page=full), name)
                print(f"docs/screenshots/{name}.png")
            browser.close()
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _transferred_pk(page, base: str) -> int:  # type: ignore[no-untyped-def]
    """The first staff member (in number order) whose detail page shows a transfer."""
    for pk in range(1, 400):
        page.goto(f"{base}/staff/{pk}/")
        if "定期人事異動" in page.content():
            return pk
    return 1


if __name__ == "__main__":
    sys.exit(main())
