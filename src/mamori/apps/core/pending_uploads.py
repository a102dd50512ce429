"""An uploaded file held between its preview and the person's confirmation.

The bytes go to a private file under MAMORI_HOME (mode 600), named by a random token that only the
uploading session knows: another session, a guessed or forged token, a file changed on disk or an
entry older than PENDING_TTL is refused. Each session holds at most MAX_PER_SESSION files, none
larger than the caller's limit, and every store sweeps files left behind by abandoned sessions.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

PENDING_TTL = 30 * 60  # seconds a preview may wait for its confirmation
MAX_PER_SESSION = 3
SESSION_KEY = "pending_uploads"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
EXPIRED = _("確認の期限（30分）が過ぎたか、このファイルは見つかりません。もう一度ファイルを選んでください。")
TOO_LARGE = _("ファイルが大きすぎます。")


@dataclass(frozen=True)
class PendingUpload:
    token: str
    filename: str
    data: bytes


def _directory() -> Path:
    path = Path(settings.MAMORI_HOME) / "pending-uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _entries(request: HttpRequest) -> dict[str, dict[str, object]]:
    entries = request.session.get(SESSION_KEY)
    return entries if isinstance(entries, dict) else {}


def _created(entry: dict[str, object]) -> float:
    created = entry.get("created")
    return float(created) if isinstance(created, (int, float)) else 0.0


def _sweep(directory: Path, now: float) -> None:
    for path in directory.iterdir():
        try:
            if now - path.stat().st_mtime > PENDING_TTL:
                path.unlink()
        except FileNotFoundError:  # another request swept it first
            continue


def pending_store(request: HttpRequest, *, data: bytes, filename: str, max_bytes: int) -> str:
    """Keep `data` for this session; returns the token its confirmation sends back."""
    if len(data) > max_bytes:
        raise ApplicationError(TOO_LARGE, code="too_large", http_status=413)
    now = time.time()
    directory = _directory()
    _sweep(directory, now)
    entries = _entries(request)
    oldest_first = sorted(entries, key=lambda t: _created(entries[t]))
    for old in oldest_first[: max(0, len(entries) - MAX_PER_SESSION + 1)]:
        pending_discard(request, old)
    entries = _entries(request)
    token = secrets.token_urlsafe(24)
    fd = os.open(directory / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    entries[token] = {"filename": filename[:200], "sha256": hashlib.sha256(data).hexdigest(), "created": now}
    request.session[SESSION_KEY] = entries
    return token


def pending_load(request: HttpRequest, token: str) -> PendingUpload:
    """The file this session stored under `token`, unchanged and within PENDING_TTL, or ApplicationError."""
    entry = _entries(request).get(token) if TOKEN_RE.match(token or "") else None
    if entry is None or time.time() - _created(entry) > PENDING_TTL:
        raise ApplicationError(EXPIRED, code="expired")
    try:
        data = (_directory() / token).read_bytes()
    except FileNotFoundError as exc:
        raise ApplicationError(EXPIRED, code="expired") from exc
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ApplicationError(EXPIRED, code="changed")
    return PendingUpload(token=token, filename=str(entry["filename"]), data=data)


def pending_discard(request: HttpRequest, token: str) -> None:
    entries = _entries(request)
    if entries.pop(token, None) is not None:
        request.session[SESSION_KEY] = entries
        if TOKEN_RE.match(token):
            (_directory() / token).unlink(missing_ok=True)
