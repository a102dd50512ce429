"""Every page an officer opens reads in English when English is chosen: Japanese may appear only in
what people entered (names, titles, codes of records), in what a page marks as Japanese on purpose
(`lang="ja"`), in the evaluation sheet (`data-document`: a Japanese official document, whose labels
only are translated), in the words a Japanese file or notice must contain (FORMAT_WORDS), and in the
brand and the language switcher's 日本語.

The pages are the role matrix's (every named GET URL with the app's `matrix_samples.py`), so a new
page is covered as soon as it is in the matrix. Text the records hold is taken from the database and
removed before the page is searched; what remains in Japanese is the program's own words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client

from mamori.apps.core.models import Role
from tests.apps.core.world import build_world
from tests.apps.test_role_matrix import _sample_kwargs, _url, all_routes, declaration_problem

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60]+")
BRAND = {"守", "守り", "日本語"}  # the logo, and the language switcher naming Japanese in Japanese
_MARKUP = re.compile(r"[*_#>`\[\]()!|~\n]+")  # Markdown and line breaks split an entered text when shown
_PLACEHOLDER = re.compile(r"\{[^{}\s]{1,20}\}")  # an entered text's {年度}, filled in when shown
# what a file to import, or a notice's placeholders, must be written with: the same in English
FORMAT_WORDS = {
    "staff_import": "メール 任用区分 休職 会計年度任用 再任用 名 名かな 在職 姓 姓かな 所属コード 採用日 正職員 状態 "
    "異動日 職名 職員番号 退職 退職日",
    "training:attendance-import": "出席 出欠 欠席 職員番号",
    "awareness:create": "市名 年度 所属 氏名 確認期限 配信日",
    "awareness:edit": "市名 年度 所属 氏名 確認期限 配信日",
}
# the samples' own data that is not in the database: a file in the sample snapshot, the test job kind
SAMPLE_DATA = ("規程", "テスト出力")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# pages that are a Japanese official document or its printable copy (the sheet's own cells)
DOCUMENTS = {"evaluation:sheet-html", "evaluation:year-book-html"}


def entered_texts() -> list[str]:
    """Every string the database holds that has Japanese in it, longest first."""
    found: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                _collect(value, found)
    return sorted(found, key=len, reverse=True)


def _collect(value: object, found: set[str]) -> None:
    if isinstance(value, str):
        if JAPANESE.search(value):
            found.add(value)
            found.update(part.strip() for part in _MARKUP.split(value) if JAPANESE.search(part))
    elif isinstance(value, dict):
        # a stored message's msgid is the program's own words (core.messages): only its parameters count
        program = ("msgid", "plural", "context") if isinstance(value.get("msgid"), str) else ()
        for key, item in value.items():
            if key not in program:
                _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


class _Text(HTMLParser):
    """The text a reader sees, without scripts, styles and elements marked `lang="ja"`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # the open elements whose text is left out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        marked = ("lang", "ja") in attrs or any(name == "data-document" for name, _value in attrs)
        if self.skipping or tag in ("script", "style") or marked:
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def japanese_left(html: str, entered: list[str]) -> list[str]:
    """The Japanese on a page once the entered texts and what is marked Japanese are taken out."""
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    for value in (*SAMPLE_DATA, *entered):
        if _PLACEHOLDER.search(value):
            pattern = "[^<>]{0,40}?".join(re.escape(part) for part in _PLACEHOLDER.split(value))
            text = re.sub(pattern, " ", text)
        text = text.replace(value, " ")
    return sorted(set(JAPANESE.findall(text)) - BRAND)


@pytest.mark.django_db
def test_every_officer_page_reads_in_english():
    world = build_world()
    samples = _sample_kwargs(world)
    officer = world.users[Role.SECURITY_OFFICER]
    client = Client()
    client.force_login(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    entered = entered_texts()
    problems = []
    for route in all_routes():
        if declaration_problem(route) or Role.SECURITY_OFFICER not in route.view.allowed_roles:
            continue
        if route.name in DOCUMENTS or (route.params and route.name not in samples):
            continue
        response = client.get(_url(route.name, samples.get(route.name), officer))
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        allowed = FORMAT_WORDS.get(route.name, "").split()
        left = set(japanese_left(response.content.decode(), entered)) - set(allowed)
        if left:
            problems.append(f"{route.name}: {' '.join(sorted(left)[:20])}")
    assert not problems, "\n".join(problems)


def test_the_search_finds_the_programs_words_and_spares_what_people_entered():
    html = (
        '<title>x</title><script>const a = "予定";</script><p>Run 3 件 by 佐藤 花子（manual）</p>'
        '<div lang="ja"><p>列名: 職員番号</p><br></div><article data-document><td>事業費</td></article>'
        "<p>人事異動期の情報セキュリティ（FY2026 (Reiwa 8)）</p><span>守り</span><p>年度</p>"
    )
    entered = ["佐藤 花子", "人事異動期の情報セキュリティ（{年度}）"]
    assert japanese_left(html, entered) == ["件", "年度", "（", "）"]
