"""Stored messages in the older %-style too: Django's own validation errors (a plural chosen by its
number, a repr'd value) and a msgid's %% read the same as Django would format them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import translation

from mamori.apps.core.messages import Message, message_json, message_text


def stored_validation_errors(validator, value) -> list:  # type: ignore[no-untyped-def]
    try:
        validator(value)
    except ValidationError as exc:
        return [message_json(Message(e.message, **(e.params or {}))) for e in exc.error_list]
    raise AssertionError("the value passed")


def test_a_django_validation_error_is_read_in_each_language_with_its_plural():
    for limit, count in ((1, "character"), (3, "characters")):
        stored = stored_validation_errors(MaxLengthValidator(limit), "x" * 5)
        with translation.override("en"):
            assert message_text(stored) == f"Ensure this value has at most {limit} {count} (it has 5)."
        with translation.override("ja"):
            assert (
                message_text(stored)
                == f"この値は {limit} 文字以下でなければなりません( 5 文字になっています)。"
            )


def test_percent_style_fields_a_repr_and_a_percent_sign():
    stored = message_json(Message("Value %(value)r is not %(n)d%% valid; %(missing)s stays", value="a", n=5))
    assert message_text(stored) == "Value 'a' is not 5% valid; %(missing)s stays"
