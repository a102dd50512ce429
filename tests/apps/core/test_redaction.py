"""The one redaction function: credentials in URIs and secret-named pairs are masked, everything
else in the text (user names, hosts, ports, paths) stays readable."""

from __future__ import annotations

import logging
import sys

import pytest

from mamori.apps.core.redaction import RedactingFilter, redact_text, redact_value


@pytest.mark.parametrize(
    "text,expected",
    [
        ("s3:https://AKIAEXAMPLE:wJalr/XUtnFEMI+K7MDENG@minio:9000/bucket/jumin",
         "s3:https://AKIAEXAMPLE:***@minio:9000/bucket/jumin"),
        ("rest:https://backup:hunter2@rest.example.jp:8000/jumin/", "rest:https://backup:***@rest.example.jp:8000/jumin/"),
        ("sftp:backup:hunter2@nas01:/srv/restic", "sftp:backup:***@nas01:/srv/restic"),
        ("sftp://backup:hunter2@nas01/srv/restic", "sftp://backup:***@nas01/srv/restic"),
        ("postgresql://mamori:hunter2@db:5432/mamori", "postgresql://mamori:***@db:5432/mamori"),
        ("PGPASSWORD=hunter2 pg_dump --password=hunter2 -h db", "PGPASSWORD=*** pg_dump --password=*** -h db"),
        ("https://minio/b?X-Amz-Credential=AK&token=abc&n=1", "https://minio/b?X-Amz-Credential=***&token=***&n=1"),
        ("failed: rest:https://u:p@h/ and s3:https://k:s@h2/b", "failed: rest:https://u:***@h/ and s3:https://k:***@h2/b"),
    ],
)  # fmt: skip
def test_credentials_are_masked(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "sftp:backup@nas01:/srv/restic",
        "rest:http://rest.example.jp:8000/",
        "s3:minio:9000/bucket",
        "/var/lib/mamori/repositories/primary/jumin",
        "会議は 10:00 から、場所は本庁舎@3階",
        "スナップショット 1a2b3c4d を 2026-12-04 02:00:13 に作成",
        "",
    ],
)
def test_text_without_credentials_is_unchanged(text):
    assert redact_text(text) == text


def test_values_inside_json_are_masked():
    value = {"url": "rest:https://u:hunter2@h/", "n": 3, "urls": ["s3:https://k:s@h/b"], "ok": True}
    assert redact_value(value) == {
        "url": "rest:https://u:***@h/",
        "n": 3,
        "urls": ["s3:https://k:***@h/b"],
        "ok": True,
    }


def test_the_log_filter_masks_messages_and_tracebacks():
    try:
        raise RuntimeError("cannot open rest:https://u:hunter2@h/")
    except RuntimeError:
        record = logging.LogRecord(
            "mamori", logging.ERROR, __file__, 1, "open %s", ("s3:https://k:hunter2@h/b",), None
        )
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "hunter2" not in text and "s3:https://k:***@h/b" in text and "rest:https://u:***@h/" in text
