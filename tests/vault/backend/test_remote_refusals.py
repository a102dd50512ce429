"""Bad input against real servers: one line each, exit 13 (access) or 1, and nothing written."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from mamori.vault.cli import main
from tests.remote_servers import S3_BUCKET, RestServer, S3Server, SSHServer


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", "pw")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "MAMORI_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)


def _one_line(err: str, *needles: str) -> None:
    assert err.count("\n") == 1 and err.startswith("mamori vault: "), err
    for needle in needles:
        assert needle in err, err


def _sftp_env(monkeypatch: pytest.MonkeyPatch, server: SSHServer, *, key: Path, known_hosts: Path) -> None:
    monkeypatch.setenv("MAMORI_SFTP_KEY", str(key))
    monkeypatch.setenv("MAMORI_SFTP_KNOWN_HOSTS", str(known_hosts))


def _sftp_repos(server: SSHServer) -> set[str]:
    return {p.name for p in server.root.iterdir()}


def test_sftp_unknown_host_key_is_refused(
    sftp_server: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    _sftp_env(monkeypatch, sftp_server, key=sftp_server.client_key, known_hosts=empty)
    before = _sftp_repos(sftp_server)
    code, _out, err = run("-r", sftp_server.new_url(), "init")
    assert code == 13
    _one_line(err, "is not in", "SHA256:", "ssh-keyscan")
    assert _sftp_repos(sftp_server) == before


def test_sftp_changed_host_key_is_refused(
    sftp_server: SSHServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = (sftp_server.base / "other_ed25519.pub").read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sftp_server.port} {other[0]} {other[1]}\n")
    _sftp_env(monkeypatch, sftp_server, key=sftp_server.client_key, known_hosts=known)
    before = _sftp_repos(sftp_server)
    code, _out, err = run("-r", sftp_server.new_url(), "init")
    assert code == 13
    _one_line(err, "CHANGED", "refusing")
    assert _sftp_repos(sftp_server) == before


def test_sftp_key_not_authorized_is_refused(sftp_server: SSHServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _sftp_env(
        monkeypatch, sftp_server, key=sftp_server.base / "other_ed25519", known_hosts=sftp_server.known_hosts
    )
    before = _sftp_repos(sftp_server)
    code, _out, err = run("-r", sftp_server.new_url(), "init")
    assert code == 13
    _one_line(err, "refused the login")
    assert _sftp_repos(sftp_server) == before


def _s3_keys(server: S3Server, bucket: str = S3_BUCKET) -> list[str]:
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_s3_wrong_secret_missing_bucket_and_no_object_lock_are_refused(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mamori-test-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    before = _s3_keys(s3_server)

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong secret")
    code, _out, err = run("-r", s3_server.new_url(), "init")
    assert code == 13
    _one_line(err, "refused the credentials")

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "mamori-test-secret")
    code, _out, err = run("-r", f"s3:{s3_server.endpoint}/no-such-bucket/repo", "init")
    assert code == 13
    _one_line(err, "'no-such-bucket' does not exist")

    code, _out, err = run("-r", s3_server.new_url(), "init", "--object-lock", "--lock-days", "7")
    assert code == 13
    _one_line(err, "has no Object Lock", "cannot be immutable")
    assert _s3_keys(s3_server) == before


def test_rest_wrong_password_is_refused(rest_server: RestServer) -> None:
    before = {p.name for p in rest_server.store.iterdir()}
    code, _out, err = run("-r", rest_server.new_url(password="wrong"), "init")
    assert code == 13
    _one_line(err, "refused the user name or password")
    assert "wrong" not in err, "the password is never shown"
    assert {p.name for p in rest_server.store.iterdir()} == before


@pytest.mark.parametrize(
    "url", ["sftp:nohost", "s3:http://127.0.0.1:1/Bad_Bucket", "rest:ftp://x/", "s3:http://h:70000/b"]
)
def test_malformed_locations_exit_1_in_one_line(url: str) -> None:
    code, _out, err = run("-r", url, "init")
    assert code == 1
    _one_line(err, "malformed repository location")


def test_object_lock_flags_need_each_other(tmp_path: Path) -> None:
    code, _out, err = run("-r", str(tmp_path / "r"), "init", "--object-lock")
    assert code == 1
    _one_line(err, "--lock-days")
    code, _out, err = run("-r", str(tmp_path / "r"), "init", "--lock-days", "3")
    assert code == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.restic
def test_an_append_only_rest_server_takes_backups_and_refuses_forget_in_plain_words(
    rest_append_only_server: RestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = rest_append_only_server.new_url()
    monkeypatch.setenv("MAMORI_REPOSITORY", url)
    assert run("init")[0] == 0
    src = tmp_path / "src"
    src.mkdir()
    for i in range(2):
        (src / f"f{i}").write_bytes(os.urandom(100_000))
        code, _out, err = run("backup", str(src))
        assert code == 0, err  # its lock files are removed (append-only servers allow that)
    assert run("list", "locks")[1] == ""
    code, _out, err = run("forget", "--keep-last", "1")
    assert code == 1
    _one_line(err, "append-only", "refuses to delete snapshots/", "without --append-only")
    assert "rest pass" not in err
    code, out, _ = run("--json", "snapshots")
    assert len(json.loads(out)) == 2, "nothing was deleted"
    code, _out, err = run("check", "--read-data")
    assert code == 0, err


def test_s3_credentials_from_an_aws_profile(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[city-offsite]\naws_access_key_id = mamori-test-key\naws_secret_access_key = mamori-test-secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_PROFILE", "city-offsite")
    url = s3_server.new_url()
    code, _out, err = run("-r", url, "init")
    assert code == 0, err
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    code, _out, err = run("-r", url, "snapshots")
    assert code == 13
    _one_line(err, "no-such-profile", "AWS config files")
