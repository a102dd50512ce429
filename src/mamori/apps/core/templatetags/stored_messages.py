"""`{{ value|message }}`: a stored message (`mamori.apps.core.messages`) in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from mamori.apps.core.messages import message_text

register = template.Library()


@register.filter
def message(value: Any) -> str:
    return message_text(value)
