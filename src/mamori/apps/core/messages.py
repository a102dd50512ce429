"""Messages kept for later display (a run's error, a directory audit's failure): the untranslated
msgid and its parameters are stored, and the text is made in the reader's language when shown.

Fields are written `{name}` (or `%(name)s`). A worker runs in the server's language; what it saved used to be read in Japanese by everyone. Now
it saves `Message(...).to_json()`, a JSON value: a string (kept as written: a path, an engine's
own English, or a row stored before this), `{"msgid", "params"[, "context"]}`, or a list of such
values (shown one per line). Parameters are such values too, so a message may quote another; a
list inside a message is joined with " / ". Rows stored as plain Japanese text still show unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext

from mamori.apps.core.redaction import redact_text

__all__ = ["JOINER", "Message", "message_json", "message_text", "server_text"]

JOINER = " / "
# {name}, or the %(name)s / %(name)d / %(name)r of older msgids (Django's own), whose %% is a percent sign
_FIELD = re.compile(r"\{(\w+)\}|%\((\w+)\)([sdr])|%(%)")


class Message:
    """A msgid with `{name}` fields, its parameters and its pgettext context; str() translates it.

    `text` is the lazy translation (`_("...{path}")`, as modules define their messages, or Django's
    validators' ngettext_lazy, whose plural and number field are kept) or a plain text.
    """

    def __init__(self, text: str | Promise, /, **params: Any) -> None:
        self.msgid, self.context, self.plural = _untranslated(text)
        self.params: Mapping[str, Any] = params

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{dict(self.params)!r})"

    def __str__(self) -> str:
        return message_text(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """The stored form: credentials in the parameters are masked (`redact_text`)."""
        stored: dict[str, Any] = {
            "msgid": self.msgid,
            "params": {k: _json(v) for k, v in self.params.items()},
        }
        if self.context:
            stored["context"] = self.context
        if self.plural:
            stored["plural"], stored["number"] = self.plural
        return stored


def _untranslated(text: str | Promise) -> tuple[str, str, tuple[str, str] | None]:
    """The msgid, context and (plural msgid, number field) of a lazy translation (gettext_lazy,
    pgettext_lazy, ngettext_lazy with a named number), or a plain text."""
    if isinstance(text, Promise):
        # a lazy proxy pickles as (unpickle, (func, args, kwargs, ...)): the call it will make;
        # ngettext_lazy's as (unpickle, (ngettext, resultclass, number, {singular, plural}))
        _unpickle, (func, args, kwargs, *rest) = text.__reduce__()
        if func is gettext:
            return args[0], "", None
        if func is pgettext:
            return args[1], args[0], None
        if func is ngettext and isinstance(kwargs, str) and rest and isinstance(rest[0], dict):
            return rest[0]["singular"], "", (rest[0]["plural"], kwargs)
        return str(text), "", None
    return str(text), "", None


def _json(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, Promise):
        return Message(value).to_json()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):  # a message already stored
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact_text(str(value))


def message_json(value: Message | Promise | str | list[Any]) -> Any:
    """What to store for `value`: a Message or lazy text as its msgid and parameters, text as is."""
    return _json(value)


def message_text(stored: Any, separator: str = "\n") -> str:
    """A stored message in the active language; a list's items are joined by `separator`."""
    if isinstance(stored, list):
        return separator.join(message_text(item, JOINER) for item in stored)
    if isinstance(stored, dict) and isinstance(stored.get("msgid"), str):
        msgid, context = stored["msgid"], stored.get("context", "")
        raw = stored.get("params") or {}
        if isinstance(stored.get("plural"), str):
            template = ngettext(msgid, stored["plural"], _count(raw.get(stored.get("number"))))
        else:
            template = pgettext(context, msgid) if context else gettext(msgid)
        params = {k: message_text(v, JOINER) for k, v in raw.items()}
        # only named fields are filled: no format spec, no attribute access, unknown names stay as written
        return _FIELD.sub(lambda m: _field(m, params), template)
    if stored is None:
        return ""
    return str(stored)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _field(match: re.Match[str], params: Mapping[str, str]) -> str:
    if match[4]:
        return "%"
    name = match[1] or match[2]
    if name not in params:
        return match[0]
    return repr(params[name]) if match[3] == "r" else params[name]


def server_text(stored: Any) -> str:
    """A stored message in the server's language (LANGUAGE_CODE): for mail, the CLI and the audit log."""
    with translation.override(settings.LANGUAGE_CODE):
        return message_text(stored)
