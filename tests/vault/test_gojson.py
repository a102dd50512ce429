"""Go-compatible quoting, JSON strings and times: known answers from Go and round-trips."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mamori.vault.gojson import GoTime, _quote_each, go_quote, go_unquote, json_string, name_json


def test_go_quote_known_answers() -> None:
    # Expected values are what Go's strconv.Quote(s)[1:-1] returns.
    assert go_quote(b"plain.txt") == "plain.txt"
    assert go_quote(b'a"b') == 'a\\"b'
    assert go_quote(b"back\\slash") == "back\\\\slash"
    assert go_quote(b"line\nbreak\ttab\x07\x1b\x7f") == "line\\nbreak\\ttab\\a\\x1b\\x7f"
    assert go_quote("日本語.txt".encode()) == "日本語.txt"
    assert go_quote(b"bad\xff\xfe") == "bad\\xff\\xfe"
    assert go_quote("a\u3000b\u200bc".encode()) == "a\\u3000b\\u200bc"
    assert go_quote("\U000e0001".encode()) == "\\U000e0001"
    assert go_quote(b"\xed\xa0\x80") == "\\xed\\xa0\\x80"  # a UTF-8 encoded surrogate is invalid in Go


def test_fast_path_quotes_every_code_point_like_the_escaping_path() -> None:
    """Printable UTF-8 names skip the per-character loop (and `name_json` the JSON escaping): that
    must give Go's answer for every character after a Japanese prefix (the shortcut applies to
    whole names)."""
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        raw = ("住民" + chr(cp)).encode("utf-8")
        assert go_quote(raw) == _quote_each(raw), hex(cp)
        assert name_json(raw) == json_string(_quote_each(raw)), hex(cp)


def test_json_string_is_html_safe_like_go() -> None:
    assert json_string("<a&b>") == '"\\u003ca\\u0026b\\u003e"'
    assert json_string('q"\\') == '"q\\"\\\\"'
    assert json_string(b"x\xffy") == '"x\\ufffdy"'
    assert json_string("\x01") == '"\\u0001"'


@given(st.binary(max_size=64))
def test_quote_round_trips_any_bytes(raw: bytes) -> None:
    assert go_unquote(go_quote(raw)) == raw
    assert name_json(raw) == json_string(go_quote(raw))


@given(st.text(max_size=32))
def test_quote_round_trips_any_text(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    assert go_unquote(go_quote(raw)) == raw


def test_time_format_matches_go_rfc3339nano() -> None:
    assert GoTime(0).format() == "1970-01-01T00:00:00Z"
    assert GoTime(1_500_000_000_123_400_000, 9 * 3600).format() == "2017-07-14T11:40:00.1234+09:00"
    assert GoTime(-1, 0).format() == "1969-12-31T23:59:59.999999999Z"
    assert (
        GoTime.parse("2015-01-02T18:10:50.895208559+01:00").format() == "2015-01-02T18:10:50.895208559+01:00"
    )


@given(st.integers(min_value=-(10**18), max_value=10**19), st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_time_round_trips(ns: int, minutes: int) -> None:
    value = GoTime(ns, minutes * 60)
    assert GoTime.parse(value.format()) == value


def test_time_from_datetime() -> None:
    when = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
    assert GoTime.from_datetime(when).to_datetime() == when
