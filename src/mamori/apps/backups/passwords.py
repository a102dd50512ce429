"""Repository passwords and remote secrets (S3 keys, SSH key, REST password): encrypted at rest by
core's `secretbox` (one key for every stored secret)."""

from __future__ import annotations

import json
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


def encrypt_secrets(values: dict[str, str]) -> str:
    """A remote repository's secrets as one encrypted token ("" when there are none)."""
    kept = {k: v for k, v in values.items() if v}
    return secret_encrypt(json.dumps(kept, sort_keys=True)) if kept else ""


def decrypt_secrets(token: str) -> dict[str, str]:
    """The secrets `encrypt_secrets` stored ({} for "")."""
    if not token:
        return {}
    values = json.loads(decrypt_password(token))
    return {str(k): str(v) for k, v in values.items()}


def generate_password() -> str:
    """A strong random repository password (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)
