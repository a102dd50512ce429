"""Every message the readers can raise has its English in apps.devices' catalogue: the readers stay
Django-free, so nothing else would notice a msgid that changed on one side only."""

import ast
import re
from pathlib import Path

from django.utils import translation

import mamori.apps.devices.formats as formats

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FIELD = re.compile(r"%\((\w+)\)")
SOURCES = sorted(Path(formats.__file__).parent.glob("*.py"))


def msgids() -> list[str]:
    found = []
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "gettext_noop":
                (argument,) = node.args
                assert isinstance(argument, ast.Constant), f"{source.name}: gettext_noop takes a literal"
                found.append(argument.value)
    return found


def test_every_reader_message_is_translated():
    ids = msgids()
    assert len(ids) > 50  # the scan found the readers' messages
    with translation.override("en"):
        # "%(path)s: " has no words to translate
        untranslated = [m for m in ids if translation.gettext(m) == m and JAPANESE.search(m)]
    assert untranslated == []


def test_translated_messages_keep_their_fields():
    with translation.override("en"):
        for message in msgids():
            english = translation.gettext(message)
            assert set(FIELD.findall(english)) == set(FIELD.findall(message)), message
