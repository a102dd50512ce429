"""`decode_text`, the one decoder of uploaded text files (staff, attendance and device imports)."""

from __future__ import annotations

import pytest

from mamori.apps.core.textdecode import decode_text

TEXT = "職員番号,姓\r\n100001,髙橋\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode(), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode(), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),  # with its BOM, as Excel writes "Unicode text"
        (TEXT.encode("utf-16-be"), None),  # without a BOM: not guessed at
        (TEXT.encode("cp932"), "cp932"),
    ],
)
def test_each_encoding_a_spreadsheet_writes(data, encoding):
    decoded = decode_text(data)
    if encoding is None:
        assert decoded.text == "" and decoded.unreadable_lines
    else:
        assert (decoded.text, decoded.encoding, decoded.unreadable_lines) == (TEXT, encoding, ())


def test_a_mixed_file_names_the_lines_the_likelier_encoding_cannot_read():
    utf8_with_one_cp932_line = "あ\r\n".encode() + "髙橋\r\n".encode("cp932") + "あ\r\nい\r\n".encode()
    decoded = decode_text(utf8_with_one_cp932_line)
    assert (decoded.text, decoded.label, decoded.unreadable_lines) == ("", "UTF-8", (2,))
    cp932_with_a_bad_byte = "職員番号\r\n".encode("cp932") + b"100001,\x82\xff\r\n"
    assert decode_text(cp932_with_a_bad_byte).unreadable_lines == (2,)
    assert decode_text(cp932_with_a_bad_byte).label == "CP932 (Shift_JIS)"


def test_a_cut_off_utf16_file_is_refused_not_garbled():
    decoded = decode_text(TEXT.encode("utf-16")[:-1])
    assert decoded.text == "" and decoded.unreadable_lines
