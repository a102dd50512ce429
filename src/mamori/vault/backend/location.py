"""Repository locations (restic's URL forms) → wrapped backends.

    /srv/repo  local:/srv/repo                         a local directory
    sftp:user@host:/srv/repo  sftp://user@host:2222/repo  SFTP (`//srv/repo` after the port: absolute)
    s3:https://host:9000/bucket/prefix  s3:host/bucket      S3-compatible, path-style
    rest:http://user:pass@host:8000/repo/              restic's REST protocol v2

Secrets that are not part of the URL (SSH key, S3 keys, REST password) come in `BackendOptions`:
the CLI fills them from the environment, the platform from its encrypted fields.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from mamori.vault.errors import InvalidArgumentError, UnsupportedBackendError

if TYPE_CHECKING:
    from mamori.vault.backend import Backend, ObjectLock

__all__ = ["BackendOptions", "Location", "open_backend", "parse", "parse_location"]

_REMOTE = ("sftp", "s3", "rest")
_LATER = ("rclone", "b2", "azure", "gs", "swift")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Location:
    """A parsed repository location; `str()` never shows a password."""

    scheme: str
    path: str
    """local: the directory; sftp: the remote directory; s3: the key prefix; rest: the URL path ("/.../")."""
    host: str = ""
    port: int | None = None
    user: str = ""
    password: str = field(default="", repr=False)
    bucket: str = ""
    secure: bool = True
    """https (s3, rest)."""

    @property
    def endpoint(self) -> str:
        """http(s)://host:port for s3 and rest."""
        port = f":{self.port}" if self.port else ""
        return f"{'https' if self.secure else 'http'}://{self.host}{port}"

    def __str__(self) -> str:
        if self.scheme == "local":
            return self.path
        if self.scheme == "sftp":
            port = f":{self.port}" if self.port else ""
            user = f"{self.user}@" if self.user else ""
            return f"sftp://{user}{self.host}{port}/{self.path}"
        if self.scheme == "s3":
            return f"s3:{self.endpoint}/{self.bucket}" + (f"/{self.path}" if self.path else "")
        user = f"{self.user}:***@" if self.user else ""
        return f"rest:{self.endpoint.replace('://', '://' + user, 1)}{self.path}"


@dataclass(frozen=True)
class BackendOptions:
    """What a remote backend needs besides its URL. Unset values fall back to the usual defaults
    (~/.ssh keys and known_hosts; the AWS environment variables, profile and config files)."""

    sftp_key_file: str | None = None
    sftp_key: str | None = field(default=None, repr=False)
    """The private key itself (OpenSSH/PEM text), e.g. decrypted from the platform's database."""
    sftp_key_passphrase: str | None = field(default=None, repr=False)
    sftp_known_hosts: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = field(default=None, repr=False)
    s3_profile: str | None = None
    s3_region: str | None = None
    rest_username: str | None = None
    rest_password: str | None = field(default=None, repr=False)
    object_lock: ObjectLock | None = None
    """Only for creating a repository: the retention every object gets (S3 only)."""
    timeout: float = 60.0
    """Seconds without progress after which a request counts as stalled (a transient error)."""
    retry_max_elapsed: float = 300.0
    """At most this many seconds of retrying one operation before its error is final."""
    retry_first_delay: float = 0.5
    """The first wait before a retry; each next wait doubles (up to 30 s)."""

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> BackendOptions:
        """MAMORI_SFTP_KEY(_PASSPHRASE), MAMORI_SFTP_KNOWN_HOSTS, MAMORI_REST_USERNAME/PASSWORD,
        MAMORI_BACKEND_TIMEOUT; S3 keys come from boto3's own AWS_* variables and profiles."""
        env = os.environ if env is None else env
        timeout = env.get("MAMORI_BACKEND_TIMEOUT")
        try:
            seconds = float(timeout) if timeout else 60.0
        except ValueError as exc:
            raise InvalidArgumentError(
                f"MAMORI_BACKEND_TIMEOUT={timeout!r} is not a number of seconds"
            ) from exc
        return cls(
            sftp_key_file=env.get("MAMORI_SFTP_KEY") or None,
            sftp_key_passphrase=env.get("MAMORI_SFTP_KEY_PASSPHRASE") or None,
            sftp_known_hosts=env.get("MAMORI_SFTP_KNOWN_HOSTS") or None,
            rest_username=env.get("MAMORI_REST_USERNAME") or None,
            rest_password=env.get("MAMORI_REST_PASSWORD") or None,
            timeout=seconds,
        )

    def with_lock(self, lock: ObjectLock | None) -> BackendOptions:
        """A copy that asks for Object Lock retention on a new repository."""
        return replace(self, object_lock=lock)


def parse_location(url: str) -> tuple[str, str]:
    """Split a repository URL into (scheme, rest); a bare path is ``local``. Cheap: no validation."""
    if not url:
        raise InvalidArgumentError("no repository given: pass -r/--repo or set MAMORI_REPOSITORY")
    scheme, sep, rest = url.partition(":")
    if sep and scheme in ("local", *_REMOTE, *_LATER):
        return scheme, rest
    return "local", url


def _bad(url: str, example: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"malformed repository location {url!r}: write it like {example}")


def _split_url(url: str, rest: str, example: str) -> tuple[str, str, int | None, str, str, str]:
    """(scheme, host, port, user, password, path) of an http(s):// or sftp:// URL, validated."""
    try:
        parts = urlsplit(rest)
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise _bad(url, example) from exc
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if not host or not _HOST.match(host) or parts.query or parts.fragment or port == 0:
        raise _bad(url, example)
    return (
        parts.scheme,
        host,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        unquote(parts.path),
    )


def _parse_sftp(url: str, rest: str) -> Location:
    example = "sftp:user@host:/srv/repo or sftp://user@host:2222//srv/repo"
    if rest.startswith("//"):
        _scheme, host, port, user, _pw, path = _split_url(url, "sftp:" + rest, example)
        path = path[1:] if path.startswith("/") else path  # sftp://host/repo is relative, //srv absolute
    else:
        userhost, sep, path = rest.rpartition(":") if not rest.startswith("[") else _ipv6_split(rest)
        if not sep:
            raise _bad(url, example)
        user, _, host = userhost.rpartition("@")
        port = None
        if not host or not _HOST.match(host) or "/" in user:
            raise _bad(url, example)
    if not path or "\x00" in path:
        raise _bad(url, example)
    return Location("sftp", path, host=host, port=port, user=user)


def _ipv6_split(rest: str) -> tuple[str, str, str]:
    close = rest.find("]")
    if close < 0 or rest[close + 1 : close + 2] != ":":
        return rest, "", ""
    return rest[: close + 1], ":", rest[close + 2 :]


def _parse_s3(url: str, rest: str) -> Location:
    example = "s3:https://host:9000/bucket/prefix or s3:s3.example.jp/bucket"
    if "://" not in rest:
        rest = "https://" + rest
    scheme, host, port, user, _pw, path = _split_url(url, rest, example)
    if scheme not in ("http", "https") or user:
        raise _bad(url, example)
    bucket, _, prefix = path.strip("/").partition("/")
    if not _BUCKET.match(bucket):
        raise InvalidArgumentError(
            f"malformed repository location {url!r}: {bucket!r} is not a bucket name "
            f"(3-63 lowercase letters, digits, dots, hyphens); write it like {example}"
        )
    return Location("s3", prefix.strip("/"), host=host, port=port, bucket=bucket, secure=scheme == "https")


def _parse_rest(url: str, rest: str) -> Location:
    example = "rest:http://user:password@host:8000/repo/"
    scheme, host, port, user, password, path = _split_url(url, rest, example)
    if scheme not in ("http", "https"):
        raise _bad(url, example)
    path = "/" + path.strip("/") + "/" if path.strip("/") else "/"
    return Location(
        "rest", path, host=host, port=port, user=user, password=password, secure=scheme == "https"
    )


def parse(url: str) -> Location:
    """The validated location of a repository URL; `InvalidArgumentError` says how to write it."""
    scheme, rest = parse_location(url)
    if scheme in _LATER:
        raise UnsupportedBackendError(
            f"{scheme}: repositories are not supported: use a local path, sftp:, s3: or rest:"
        )
    if scheme == "local":
        if not rest:
            raise InvalidArgumentError("local: needs a path, e.g. local:/srv/backup/repo")
        return Location("local", rest)
    parser = {"sftp": _parse_sftp, "s3": _parse_s3, "rest": _parse_rest}[scheme]
    return parser(url, rest)


def open_backend(url: str, options: BackendOptions | None = None) -> Backend:
    """The backend for `url`, wrapped with logging and retry like restic `wrapBackend`.

    Remote backends connect here: a wrong host key, wrong credentials or a missing bucket fail now
    (`BackendAccessError`), before anything is written.
    """
    location = parse(url)
    options = options if options is not None else BackendOptions()
    # imported here: the CLI parses locations before it loads the engine (see `mamori.vault.kdf`),
    # and the SDKs of the remote backends load only when one is used
    from mamori.vault.backend.wrappers import LoggingBackend, RetryBackend, retrying

    def connect(_attempt: int) -> Backend:
        if location.scheme == "local":
            from mamori.vault.backend.local import LocalBackend

            return LocalBackend(location.path)
        if location.scheme == "sftp":
            from mamori.vault.backend.sftp import SFTPBackend

            return SFTPBackend(location, options)
        if location.scheme == "s3":
            from mamori.vault.backend.s3 import S3Backend

            return S3Backend(location, options)
        from mamori.vault.backend.rest import RestBackend

        return RestBackend(location, options)

    # a server that is restarting is waited for, a little: a wrong host name should not hang for long
    first = options.retry_first_delay
    inner = retrying(
        f"connect to {location}", connect, first_delay=first, max_elapsed=min(options.retry_max_elapsed, 30.0)
    )
    return RetryBackend(LoggingBackend(inner), max_elapsed=options.retry_max_elapsed, first_delay=first)
