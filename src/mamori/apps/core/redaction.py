"""The one place that hides credentials inside free text: URIs, command lines, error messages, logs.

`redact_text` replaces the password of any URI's user-info (`rest:https://user:***@host/`,
`s3:https://key:***@host/bucket`, `sftp:user:***@host:/path`, `postgresql://u:***@db/x`) and the value
of `name=value` pairs whose name says it is secret (`PGPASSWORD=***`, `--password=***`, `?token=***`).
Templates (the `redacted` filter), the audit log, `mamori status --json` and the log handlers use it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"
# scheme:[//]user:PASSWORD@ — the password stops at whitespace, '/' or '@' (restic's URL forms).
_USERINFO = re.compile(
    r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.-]*:(?://)?[^\s/:@'\"]+):(?P<secret>[^\s@/'\"][^\s@'\"]*)@"
)
_SECRET_PAIR = re.compile(
    r"(?P<pre>(?i:\b[\w.-]*(?:password|passwd|passphrase|secret|token|apikey|api_key|access_key|credential)"
    r"[\w.-]*)=)(?P<secret>[^\s&'\"]+)"
)


def redact_text(text: str) -> str:
    """`text` with every credential that an URI or a secret-named `name=value` carries masked."""
    if not text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['pre']}:{MASK}@", text)
    return _SECRET_PAIR.sub(lambda m: f"{m['pre']}{MASK}", text)


def redact_value(value: Any) -> Any:
    """`redact_text` applied to every string inside a JSON-like value (dicts, lists)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """A logging filter: the formatted message and exception text leave without credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
