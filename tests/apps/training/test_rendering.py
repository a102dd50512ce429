"""Course text: Markdown rendered through an allow-list, so no course can carry script; images only
from the course's own uploads."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from mamori.apps.training.rendering import ALLOWED_TAGS, markdown_html, sections


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (text stays text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def only_image_3(pk: int) -> str | None:
    return "/training/images/3/" if pk == 3 else None


def test_the_course_text_keeps_headings_lists_links_tables_and_its_own_images():
    html = markdown_html(
        "## 見出し\n\n- **強調** と [総務省](https://www.soumu.go.jp/)\n\n![図1](image:3)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        only_image_3,
    )
    assert "<h2>見出し</h2>" in html and "<strong>強調</strong>" in html
    assert 'href="https://www.soumu.go.jp/"' in html
    assert '<img src="/training/images/3/" alt="図1">' in html
    assert "<td>1</td>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        "[x](vbscript:msgbox)",
        '![x](image:3 "t" onerror=alert(1))',
        "<details open ontoggle=alert(1)>",
    ],
)
def test_no_course_text_can_carry_script(hostile):
    found = elements(markdown_html(hostile, only_image_3))
    for tag, attrs in found:
        assert tag in ALLOWED_TAGS
        assert not any(
            name.startswith("on") or (name == "style" and tag not in {"td", "th"}) for name in attrs
        )
        for url in (attrs.get("href"), attrs.get("src")):
            assert url is None or url.startswith(("https://", "http://", "mailto:", "/training/images/"))


def test_an_image_from_elsewhere_or_another_course_shows_only_its_description():
    html = markdown_html("![外部](https://tracker.example/pixel.png) ![他の研修](image:4)", only_image_3)
    assert "<img" not in html and "外部" in html and "他の研修" in html


def test_the_text_is_cut_into_pages_at_each_level_two_heading():
    parts = sections("前置き\n## 一\n本文1\n## 二\n本文2\n", only_image_3)
    assert [p.title for p in parts] == ["一", "二"]
    assert "前置き" in parts[0].html and "本文2" in parts[1].html
