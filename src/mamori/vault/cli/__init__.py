"""`mamori vault ...`: a restic-like command line over `mamori.vault.api`.

Global options as restic (`-r/--repo`, `--password-file`, `--json`, `-q`) with `MAMORI_REPOSITORY`,
`MAMORI_PASSWORD` and `MAMORI_PASSWORD_FILE` from the environment. Exit codes are stable: 0 ok,
1 error, 3 some files could not be read (snapshot saved), 10 no repository, 11 locked,
12 wrong password. Every engine error is one line on stderr, never a traceback.

Command modules expose `register(subparsers, parent)`; each subparser sets `handler(ctx, args) -> int`
where `ctx` is the `Context` below (repository opening, output helpers).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from mamori.vault import kdf
from mamori.vault.cli.allocator import use_one_arena
from mamori.vault.errors import InvalidArgumentError, VaultError

if TYPE_CHECKING:
    from mamori.vault.api import Repository
    from mamori.vault.backend import ObjectLock
    from mamori.vault.backend.location import BackendOptions

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_PARTIAL", "Context", "main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_PARTIAL = 3


class Context:
    """What a command handler gets: the parsed global options, the repository and output helpers."""

    def __init__(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> None:
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self.json: bool = bool(args.json)
        self.quiet: bool = bool(args.quiet)
        self.repo_url: str = args.repo or os.environ.get("MAMORI_REPOSITORY", "")
        self._password: str | None = None

    @property
    def show_progress(self) -> bool:
        """A progress display only on a terminal, never with --json or -q."""
        return not (self.json or self.quiet) and self.stderr.isatty()

    def password(self, *, prompt: str = "enter password for repository: ") -> str:
        """The password from --password-file, MAMORI_PASSWORD_FILE, MAMORI_PASSWORD or a terminal prompt."""
        if self._password is None:
            self._password = _given_password(self.args.password_file)
        if self._password is None:
            if not sys.stdin.isatty():
                raise InvalidArgumentError(
                    "no password given: use --password-file, MAMORI_PASSWORD_FILE or MAMORI_PASSWORD"
                )
            self._password = getpass.getpass(prompt)
        return self._password

    def _url(self) -> str:
        if not self.repo_url:
            raise InvalidArgumentError("no repository given: pass -r/--repo or set MAMORI_REPOSITORY")
        return self.repo_url

    def backend_options(self) -> BackendOptions:
        """The remote backends' settings and secrets from the environment."""
        from mamori.vault.backend.location import BackendOptions

        return BackendOptions.from_environ()

    def open_repository(self) -> Repository:
        """Open the repository named by -r / MAMORI_REPOSITORY with the password."""
        from mamori.vault.api import open_repository

        repo = open_repository(self._url(), self.password(), options=self.backend_options())
        for _key_id, problem in repo.low.key_errors:
            self.warn(f"warning: {problem}")
        return repo

    def init_repository(self, *, version: int = 2, lock: ObjectLock | None = None) -> Repository:
        """Create the repository named by -r / MAMORI_REPOSITORY (immutable with `lock`, S3 only)."""
        from mamori.vault.api import init_repository

        options = self.backend_options().with_lock(lock)
        return init_repository(self._url(), self.password(), version=version, options=options)

    def _print(self, text: str) -> None:
        try:
            print(text, file=self.stdout)
        except UnicodeEncodeError:  # a non-UTF-8 file name on a strict terminal: show its bytes as \xNN
            print(
                text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"), file=self.stdout
            )

    def out(self, text: str = "") -> None:
        """A line of human output (suppressed by --json and -q)."""
        if not (self.json or self.quiet):
            self._print(text)

    def out_json(self, value: Any) -> None:
        """One JSON document on stdout (only with --json); non-UTF-8 names are escaped as in restic."""
        if self.json:
            print(json.dumps(value, ensure_ascii=True, default=str), file=self.stdout)

    def warn(self, text: str) -> None:
        """A line on stderr (also with --json: stdout stays machine-readable)."""
        print(text, file=self.stderr)

    def progress(self, text: str) -> None:
        """Overwrite the progress line on a terminal."""
        if self.show_progress:
            self.stderr.write("\r\x1b[K" + text[:150])
            self.stderr.flush()

    def progress_done(self) -> None:
        """Clear the progress line."""
        if self.show_progress:
            self.stderr.write("\r\x1b[K")
            self.stderr.flush()


def _given_password(password_file: str | None) -> str | None:
    """The password from --password-file, MAMORI_PASSWORD_FILE or MAMORI_PASSWORD; None: ask for it."""
    path = password_file or os.environ.get("MAMORI_PASSWORD_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read password file {path}: {exc.strerror}") from exc
    return os.environ.get("MAMORI_PASSWORD")


def _warm_up_key(argv: list[str]) -> None:
    """Start deriving the repository's key before the engine loads (see `mamori.vault.kdf`).

    Only the repository and password options are read here, leniently; the real parse comes after.
    """
    pre = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    pre.add_argument("-r", "--repo")
    pre.add_argument("--password-file")
    try:
        known, _ = pre.parse_known_args(argv)
        password = _given_password(known.password_file)
    except (argparse.ArgumentError, VaultError):
        return
    path = _local_path(known.repo or os.environ.get("MAMORI_REPOSITORY", ""))
    if password is not None and path:
        kdf.warm_up(path, password)


def _local_path(url: str) -> str | None:
    """The directory of a plainly local repository (`/srv/repo`, `local:/srv/repo`), else None.

    Decided without `backend.location`, whose imports would delay the warm-up: a name with a colon
    before any slash (`sftp:`, `s3:`, `rest:`, or an odd local name) is left to the real parse.
    """
    scheme, colon, rest = url.partition(":")
    if not colon or "/" in scheme:
        return url or None
    if scheme == "local":
        return rest or None
    return None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    from mamori.vault.cli import (  # the engine: after `_warm_up_key`
        archive_commands,
        lock_commands,
        repo_commands,
    )

    parent = argparse.ArgumentParser(add_help=False)
    glob = parent.add_argument_group("global options")
    glob.add_argument("-r", "--repo", default=argparse.SUPPRESS, help="repository (or MAMORI_REPOSITORY)")
    glob.add_argument("--password-file", default=argparse.SUPPRESS, help="file with the password on line 1")
    glob.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    glob.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress or info"
    )
    parser = argparse.ArgumentParser(
        prog="mamori vault",
        description="restic-compatible backups: init, backup, snapshots, restore, check, ...",
        parents=[parent],
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    repo_commands.register(sub, parent)
    archive_commands.register(sub, parent)
    lock_commands.register(sub, parent)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run one command; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    use_one_arena()  # before the warm-up's thread
    _warm_up_key(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return EXIT_OK if exc.code in (0, None) else EXIT_ERROR
    for name, default in (("repo", None), ("password_file", None), ("json", False), ("quiet", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    ctx = Context(args, out, err)
    try:
        code: int = args.handler(ctx, args)
        return code
    except VaultError as exc:
        ctx.progress_done()
        print(f"mamori vault: {exc}", file=err)
        return int(getattr(exc, "exit_code", EXIT_ERROR))
    except KeyboardInterrupt:
        print("mamori vault: interrupted", file=err)
        return 130
    except OSError as exc:
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename else ""  # str, never a b'...' repr
        print(f"mamori vault: {where}{exc.strerror or exc}", file=err)
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line for the user; MAMORI_DEBUG=1 shows the traceback
        if os.environ.get("MAMORI_DEBUG"):
            raise
        print(
            f"mamori vault: internal error ({type(exc).__name__}: {exc}); rerun with MAMORI_DEBUG=1", file=err
        )
        return EXIT_ERROR
