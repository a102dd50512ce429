"""Remote repositories in the app: which secrets a location takes, where its SSH host keys live, and
how a new or changed repository is checked against the real server before anything is saved.

Secrets travel only inside `engine.RepoAccess` and are stored only by `passwords.encrypt_secrets`;
every message that leaves here has them masked (`scrub`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import Message
from mamori.apps.core.redaction import MASK, redact_text

from . import engine
from .errors import BackupError

#: The secrets each kind of location takes (the form's fields of the same names).
SECRETS_BY_SCHEME: dict[str, tuple[str, ...]] = {
    "local": (),
    "sftp": ("sftp_key", "sftp_key_passphrase"),
    "s3": ("s3_access_key", "s3_secret_key", "s3_region"),
    "rest": ("rest_username", "rest_password"),
}
SECRET_NAMES = tuple(name for names in SECRETS_BY_SCHEME.values() for name in names)

WRONG_SECRETS = _("{scheme}: のリポジトリには使えない設定があります（{fields}）。その欄を空にしてください")
HOST_KEY_NEEDED = _(
    "sftp: のリポジトリにはサーバのSSHホスト鍵（known_hosts の行、例: ssh-keyscan の出力）を入力してください"
)
HOST_KEY_MALFORMED = _("SSHホスト鍵の行の形式が正しくありません（「ホスト名 鍵の種類 鍵」の形式）: {line}")
SFTP_PASSWORD = _(
    "sftp: の場所にパスワードは書けません（鍵で認証します）。ユーザー名だけを書き、秘密鍵を入力してください"
)
IMMUTABLE_S3_ONLY = _("改ざん防止（Object Lock）は s3: のリポジトリでだけ使えます")
NO_OBJECT_LOCK = _(
    "バケットに Object Lock がないため改ざん防止にできません（Object Lock を有効にして作成したバケットを指定してください）"
)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """`message` with every given secret value and every URI credential masked."""
    for value in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        message = message.replace(value, MASK)
    return redact_text(message)


def location(url: str) -> engine.Where:
    """The parsed location; a malformed one is one line saying how to write it, credentials masked."""
    try:
        where = engine.location_of(url)
    except BackupError as exc:
        raise BackupError(redact_text(exc.message), code=exc.code) from None
    if where.scheme == "sftp" and ":" in where.user:
        raise BackupError(SFTP_PASSWORD, code="location")
    return where


def secrets_check(scheme: str, secrets: Mapping[str, str]) -> dict[str, str]:
    """The non-empty secrets, refused when they belong to another kind of location."""
    given = {k: v for k, v in secrets.items() if v}
    wrong = sorted(set(given) - set(SECRETS_BY_SCHEME[scheme]))
    if wrong:
        raise BackupError(
            Message(WRONG_SECRETS, scheme=scheme, fields=", ".join(wrong)), code="secrets_scheme"
        )
    return given


def known_hosts_clean(text: str) -> str:
    """The host key lines (`host keytype key`), comments and blank lines dropped; malformed ones refused."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line.split()) < 3 or "\x00" in line:
            raise BackupError(Message(HOST_KEY_MALFORMED, line=line[:60]), code="host_key")
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def known_hosts_file(text: str) -> str:
    """A private known-hosts file holding `text`, named by its content (so writing it twice is harmless)."""
    folder = Path(settings.MAMORI_HOME) / "ssh"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"known_hosts-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        tmp.replace(path)
    return str(path)


def access_for(
    url: str,
    password: str,
    secrets: Mapping[str, str],
    known_hosts: str = "",
    *,
    lock_days: int = 0,
    lock_mode: str = "COMPLIANCE",
) -> engine.RepoAccess:
    """How to open a repository: the decrypted password and secrets, the host keys as a file."""
    values = dict(secrets)
    if known_hosts:
        values["sftp_known_hosts"] = known_hosts_file(known_hosts)
    return engine.RepoAccess(url, password, secrets=values, lock_days=lock_days, lock_mode=lock_mode)


VERIFY_RETRY_SECONDS = 5.0  # a form waits this long at most for a server that does not answer


def verify(access: engine.RepoAccess, *, initialize: bool, immutable_days: int) -> str:
    """Create the repository, or open an existing remote one; an immutable one must have its bucket's
    Object Lock read back. Returns the repository id ("" for an existing local one, not opened here).
    Every failure is one `BackupError` line without the secrets."""
    hidden = [access.password, *access.secrets.values()]
    access = replace(access, retry_seconds=VERIFY_RETRY_SECONDS)
    where = location(access.url)
    if immutable_days and where.scheme != "s3":
        raise BackupError(IMMUTABLE_S3_ONLY, code="immutable_s3")
    try:
        if initialize:
            repo_id = engine.repository_init(access)
        elif where.remote:
            repo_id = engine.repository_id(access)
        else:
            return ""
        if immutable_days and engine.lock_facts(access).mode is None:
            raise BackupError(NO_OBJECT_LOCK, code="no_object_lock")
    except BackupError as exc:
        raise BackupError(scrub(str(exc.message), hidden), code=exc.code) from None
    return repo_id
