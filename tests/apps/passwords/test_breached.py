"""Breached and common passwords: mamori's own validator, the range endpoint and the on-disk corpus."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from mamori.apps.core.models import Membership, Role
from mamori.apps.passwords import breached
from mamori.apps.passwords.corpus import corpus_load
from mamori.apps.passwords.errors import PasswordsError


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


@pytest.fixture
def corpus(tmp_path, settings):
    """A downloaded Pwned Passwords file (HASH:COUNT lines, sorted), loaded into MAMORI_HOME/pwned."""
    settings.MAMORI_HOME = tmp_path
    leaked = ["Minatodai-2024!", "kanagawa-spring-1379", "Tr0ub4dor&3-city"]
    lines = sorted(f"{sha1(p)}:{n + 2}" for n, p in enumerate(leaked))
    source = tmp_path / "pwned-passwords-sha1-ordered-by-hash.txt"
    source.write_text("\r\n".join(lines) + "\r\n")
    corpus_load(source=source, progress=lambda done, total: None)
    return leaked


def test_common_password_refused_with_the_reason():
    with pytest.raises(ValidationError) as info:
        validate_password("Password12345")  # Django's common list, compared case-insensitively
    assert "よく使われるパスワード" in " ".join(info.value.messages)


def test_breached_password_refused_with_the_reason(corpus):
    with pytest.raises(ValidationError) as info:
        validate_password("Minatodai-2024!")
    assert "漏えいした" in " ".join(info.value.messages)
    validate_password("a long and unusual sentence 7")  # not listed: accepted


def test_whole_password_is_compared_not_substrings(corpus):
    validate_password("Minatodai-2024!-and-more-words")


def test_range_answers_suffixes_of_both_sources(corpus, client, django_user_model):
    user = django_user_model.objects.create_user(username="staff", password="x" * 12)
    Membership.objects.create(user=user, role=Role.STAFF)
    client.force_login(user)
    leaked = sha1("Minatodai-2024!")
    body = client.get(f"/passwords/range/{leaked[:5]}").content.decode()
    assert f"{leaked[5:]}:1" in body.splitlines()
    common = sha1("password")
    assert common[5:] in client.get(f"/passwords/range/{common[:5].lower()}").content.decode()
    for bad in ["5BAA", "5BAA61", "ZZZZZ", "..%2F..", "5BAA%0A"]:
        assert client.get(f"/passwords/range/{bad}").status_code == 404


def test_corpus_lookup_and_size(corpus):
    assert breached.corpus_size() == 3
    assert breached.is_breached("kanagawa-spring-1379") and not breached.is_breached("kanagawa-spring-1380")


def test_an_interrupted_load_continues_where_it_stopped(tmp_path, settings, monkeypatch):
    settings.MAMORI_HOME = tmp_path
    passwords = [f"leaked-{n}" for n in range(2500)]
    source = tmp_path / "pwned.txt"
    source.write_text("".join(f"{h}:{n}\n" for n, h in enumerate(sorted(sha1(p) for p in passwords))))
    monkeypatch.setattr("mamori.apps.passwords.corpus.CHECKPOINT_LINES", 1000)
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 2:
            raise KeyboardInterrupt  # the officer pressed Ctrl-C after the second checkpoint

    with pytest.raises(KeyboardInterrupt):
        corpus_load(source=source, progress=interrupt)
    assert breached.corpus_size() == 0  # nothing half-loaded is used
    resumed: list[int] = []
    assert corpus_load(source=source, progress=lambda d, t: resumed.append(d)) == 2500
    assert resumed[-1] == source.stat().st_size and resumed[0] > seen[-1] - 1  # continued, not restarted
    assert all(breached.is_breached(p) for p in passwords[::97])
    assert not breached.is_breached("leaked-2500")


def test_an_unsorted_or_malformed_file_is_refused_with_the_line(tmp_path, settings):
    settings.MAMORI_HOME = tmp_path
    source = tmp_path / "bad.txt"
    source.write_text(
        f"{sha1('b')}:1\n{sha1('a')}:1\n" if sha1("b") > sha1("a") else f"{sha1('a')}:1\n{sha1('b')}:1\n"
    )
    with pytest.raises(PasswordsError, match="2 行目: ハッシュ順に並んでいません"):
        corpus_load(source=source, progress=lambda d, t: None)
    source.write_text("=cmd|' /C calc'!A0\n")
    with pytest.raises(PasswordsError, match="1 行目"):
        corpus_load(source=source, progress=lambda d, t: None)
