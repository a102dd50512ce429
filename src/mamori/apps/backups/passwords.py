"""Repository passwords at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key kept outside the database.

The key comes from `MAMORI_REPOSITORY_KEY` or the file `MAMORI_HOME/repository.key` (created once, mode
600), so a copy of the database alone reveals no repository password. Keep the key file with the
city's other secrets: without it the repositories' passwords cannot be recovered from mamori.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from .errors import BackupError

KEY_FILE_NAME = "repository.key"


def key_path() -> Path:
    return Path(settings.MAMORI_HOME) / KEY_FILE_NAME


def _key() -> bytes:
    if env := os.environ.get("MAMORI_REPOSITORY_KEY"):
        return env.encode()
    path = key_path()
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
    return path.read_bytes().strip()


def encrypt_password(password: str) -> str:
    return Fernet(_key()).encrypt(password.encode()).decode()


def decrypt_password(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise BackupError(
            "リポジトリのパスワードを復号できません（鍵ファイル repository.key が変わった可能性があります）",
            code="password_key",
        ) from exc


def generate_password() -> str:
    """A strong random repository password (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)
