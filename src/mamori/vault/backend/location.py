"""Repository URLs → backends: ``/path`` or ``local:/path`` today; sftp/s3/rest/rclone are refused clearly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamori.vault.errors import InvalidArgumentError, UnsupportedBackendError

if TYPE_CHECKING:
    from mamori.vault.backend import Backend

__all__ = ["open_backend", "parse_location"]

_LATER = ("sftp", "s3", "rest", "rclone", "b2", "azure", "gs", "swift")


def parse_location(url: str) -> tuple[str, str]:
    """Split a repository URL into (scheme, rest); a bare path is ``local``."""
    if not url:
        raise InvalidArgumentError("no repository given: pass -r/--repo or set MAMORI_REPOSITORY")
    scheme, sep, rest = url.partition(":")
    if sep and scheme in ("local", *_LATER):
        return scheme, rest
    return "local", url


def open_backend(url: str) -> Backend:
    """The backend for `url`, wrapped with logging and retry like restic `wrapBackend`."""
    scheme, rest = parse_location(url)
    if scheme != "local":
        raise UnsupportedBackendError(
            f"{scheme}: repositories are not supported yet: use a local path or local:/path"
        )
    if not rest:
        raise InvalidArgumentError("local: needs a path, e.g. local:/srv/backup/repo")
    # imported here: the CLI parses locations before it loads the engine (see `mamori.vault.kdf`)
    from mamori.vault.backend.local import LocalBackend
    from mamori.vault.backend.wrappers import LoggingBackend, RetryBackend

    return RetryBackend(LoggingBackend(LocalBackend(rest)))
