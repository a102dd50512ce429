"""`{{ value|redacted }}`: any text or JSON-like value shown without the credentials it may carry."""

from __future__ import annotations

from typing import Any

from django import template

from mamori.apps.core.redaction import redact_value

register = template.Library()


@register.filter
def redacted(value: Any) -> Any:
    return redact_value(value)
