"""Retry only transient failures, within a time bound; URLs map to backends or one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.location import BackendOptions, Location, open_backend, parse, parse_location
from mamori.vault.backend.mem import MemoryBackend
from mamori.vault.backend.wrappers import RetryBackend
from mamori.vault.errors import (
    BackendNotFoundError,
    InvalidArgumentError,
    ObjectExistsError,
    PermanentBackendError,
    TransientBackendError,
    UnsupportedBackendError,
)
from tests.vault.faults import FlakyBackend, PartialSaveBackend, ScriptedFaultsBackend

H = Handle(FileType.SNAPSHOT, "aa" * 32)


class FakeClock:
    """Time that moves only when the retry wrapper sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def test_transient_errors_are_retried_with_backoff() -> None:
    inner = MemoryBackend()
    inner.save(H, b"data")
    delays: list[float] = []
    backend = RetryBackend(FlakyBackend(inner, failures=3), sleep=delays.append)
    assert backend.load(H) == b"data"
    assert delays == [0.5, 1.0, 2.0]


def test_retries_give_up_and_other_errors_pass_at_once() -> None:
    delays: list[float] = []
    backend = RetryBackend(FlakyBackend(MemoryBackend(), failures=10), attempts=3, sleep=delays.append)
    with pytest.raises(TransientBackendError):
        backend.load(H)
    assert len(delays) == 2
    delays.clear()
    with pytest.raises(BackendNotFoundError):
        RetryBackend(MemoryBackend(), sleep=delays.append).load(H)
    flaky_then_permanent = ScriptedFaultsBackend(MemoryBackend(), "save", [PermanentBackendError])
    with pytest.raises(PermanentBackendError):
        RetryBackend(flaky_then_permanent, sleep=delays.append).save(H, b"x")
    assert delays == []
    assert flaky_then_permanent.calls == 1


def test_retrying_stops_when_the_time_bound_is_reached() -> None:
    clock = FakeClock()
    backend = RetryBackend(
        FlakyBackend(MemoryBackend(), failures=100),
        attempts=100,
        first_delay=1.0,
        max_delay=8.0,
        max_elapsed=20.0,
        sleep=clock.sleep,
        clock=clock,
    )
    with pytest.raises(TransientBackendError):
        backend.load(H)
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0], "the next wait (8 s) would pass the 20 s bound"
    assert clock.now <= 20.0


def test_a_save_whose_reply_was_lost_is_not_an_error_on_retry() -> None:
    inner = MemoryBackend()
    backend = RetryBackend(ScriptedFaultsBackend(inner, "save", ["after"]), sleep=lambda _s: None)
    backend.save(H, b"content")
    assert inner.load(H) == b"content"
    with pytest.raises(ObjectExistsError):  # a first attempt that finds the name still refuses
        backend.save(H, b"content")


def test_a_truncated_upload_left_by_a_failed_attempt_is_replaced() -> None:
    inner = MemoryBackend()
    backend = RetryBackend(PartialSaveBackend(inner), sleep=lambda _s: None)
    backend.save(H, b"0123456789")
    assert inner.load(H) == b"0123456789"


def test_a_remove_whose_reply_was_lost_is_not_an_error_on_retry() -> None:
    inner = MemoryBackend()
    inner.save(H, b"x")
    RetryBackend(ScriptedFaultsBackend(inner, "remove", ["after"]), sleep=lambda _s: None).remove(H)
    assert not inner.exists(H)


def test_local_urls(tmp_path: Path) -> None:
    assert parse_location(str(tmp_path)) == ("local", str(tmp_path))
    assert parse_location(f"local:{tmp_path}") == ("local", str(tmp_path))
    assert open_backend(f"local:{tmp_path}").location == str(tmp_path)
    for bad in ("", "local:"):
        with pytest.raises(InvalidArgumentError):
            open_backend(bad)


@pytest.mark.parametrize(
    ("url", "want"),
    [
        (
            "sftp:backup@nas.example.jp:/srv/repo",
            Location("sftp", "/srv/repo", host="nas.example.jp", user="backup"),
        ),
        ("sftp:nas:repo", Location("sftp", "repo", host="nas")),
        ("sftp://u@10.0.0.5:2222/repo", Location("sftp", "repo", host="10.0.0.5", port=2222, user="u")),
        (
            "sftp://u@10.0.0.5:2222//srv/repo",
            Location("sftp", "/srv/repo", host="10.0.0.5", port=2222, user="u"),
        ),
        ("sftp:u@[::1]:/srv", Location("sftp", "/srv", host="[::1]", user="u")),
        (
            "s3:http://127.0.0.1:9000/city-backup/jumin/daily",
            Location("s3", "jumin/daily", host="127.0.0.1", port=9000, bucket="city-backup", secure=False),
        ),
        ("s3:s3.example.jp/city-backup", Location("s3", "", host="s3.example.jp", bucket="city-backup")),
        (
            "rest:http://u:p%40ss@127.0.0.1:8000/repo",
            Location("rest", "/repo/", host="127.0.0.1", port=8000, user="u", password="p@ss", secure=False),
        ),
        ("rest:https://backup.example.jp/", Location("rest", "/", host="backup.example.jp")),
    ],
)
def test_remote_urls_parse_like_restic(url: str, want: Location) -> None:
    got = parse(url)
    assert got == want
    assert got.password == want.password
    assert "p@ss" not in str(got) and "p%40ss" not in str(got), "str() never shows the password"


@pytest.mark.parametrize(
    "url",
    [
        "sftp:host-without-path",
        "sftp://",
        "sftp:u@h:",
        "sftp://u@h:99999/repo",
        "sftp:u@bad_host!:/x",
        "s3:http://h:99999/bucket",
        "s3:http://h/",
        "s3:http://h/Upper_Case",
        "s3:ftp://h/bucket",
        "s3:http://user@h/bucket",
        "rest:ftp://h/",
        "rest:http://h:port/",
        "rest:http://h/?x=1",
    ],
)
def test_malformed_locations_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        open_backend(url, BackendOptions())
    message = str(info.value)
    assert "\n" not in message and "write it like" in message


def test_unsupported_schemes_are_named() -> None:
    for url in ("b2:bucket/repo", "rclone:remote:repo", "azure:c:/x", "gs:b:/r", "swift:c:/p"):
        with pytest.raises(UnsupportedBackendError, match="not supported"):
            open_backend(url)


def test_backend_options_from_the_environment() -> None:
    env = {"MAMORI_SFTP_KEY": "/k", "MAMORI_SFTP_KNOWN_HOSTS": "/kh", "MAMORI_BACKEND_TIMEOUT": "5"}
    options = BackendOptions.from_environ(env)
    assert (options.sftp_key_file, options.sftp_known_hosts, options.timeout) == ("/k", "/kh", 5.0)
    with pytest.raises(InvalidArgumentError, match="MAMORI_BACKEND_TIMEOUT"):
        BackendOptions.from_environ({"MAMORI_BACKEND_TIMEOUT": "soon"})
