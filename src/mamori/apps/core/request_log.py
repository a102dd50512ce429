"""One line per refused request: Django logs a 403 with the whole traceback of PermissionDenied,
which buries real errors; a client error is not one. The line names the user, for whoever watches
for someone probing pages they may not open."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """On `django.request`: 4xx records lose their traceback and gain the user's name."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        # logging configured twice attaches the filter twice: rewrite each record once
        if isinstance(status, int) and 400 <= status < 500 and not getattr(record, "one_line", False):
            record.one_line = True
            record.exc_info = None
            record.exc_text = None
            user = getattr(getattr(record, "request", None), "user", None)
            if user is not None and user.is_authenticated and isinstance(record.args, tuple):
                record.msg = f"{record.msg} (user %s)"
                record.args = (*record.args, user.get_username())
        return True
