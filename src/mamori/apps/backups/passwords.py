"""Repository passwords: encrypted at rest by core's `secretbox` (one key for every stored secret)."""

from __future__ import annotations

import secrets

from django.utils.translation import gettext_lazy as _

from mamori.apps.core.secretbox import SecretKeyError, secret_decrypt, secret_encrypt

from .errors import BackupError


def encrypt_password(password: str) -> str:
    return secret_encrypt(password)


def decrypt_password(token: str) -> str:
    try:
        return secret_decrypt(token)
    except SecretKeyError as exc:
        raise BackupError(
            _(
                "リポジトリのパスワードを復号できません（鍵ファイル repository.key が変わった可能性があります）"
            ),
            code="password_key",
        ) from exc


def generate_password() -> str:
    """A strong random repository password (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)
