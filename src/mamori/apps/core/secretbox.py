"""Secrets at rest (repository passwords, directory bind passwords, the Wazuh API password): Fernet
under a key outside the database.

Fernet is AES-128-CBC + HMAC-SHA256. The key comes from `MAMORI_REPOSITORY_KEY` or the file
`MAMORI_HOME/repository.key` (created once, mode 600; the name predates the second use and is kept so
existing installations keep decrypting), so a copy of the database alone reveals no secret. Keep the
key file with the city's other secrets: without it the stored secrets cannot be recovered.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

KEY_FILE_NAME = "repository.key"


class SecretKeyError(ApplicationError):
    """A stored secret does not decrypt under the current key."""


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


def secret_encrypt(plaintext: str) -> str:
    return Fernet(_key()).encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretKeyError(
            _("保存された秘密情報を復号できません（鍵ファイル repository.key が変わった可能性があります）"),
            code="secret_key",
        ) from exc
