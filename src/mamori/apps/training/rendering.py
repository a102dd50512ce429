"""A course's Markdown as safe HTML, split into sections at `## ` headings.

markdown-it-py parses CommonMark with raw HTML switched off (typed tags come out as text); nh3
(the Rust `ammonia` sanitiser) then keeps only an allow-list of tags and attributes and the
http / https / mailto link schemes, so no course text can carry a script, an event handler or a
`javascript:` link. Images may only name a course image (`![説明](image:12)`), served by mamori
itself; any other image address is dropped, so a course cannot make readers' browsers call out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

ALLOWED_TAGS = {
    "h2", "h3", "h4", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}, "th": {"style"}, "td": {"style"}}
IMAGE_REF = re.compile(r"^image:(\d+)$")
SECTION_START = re.compile(r"^## ", re.MULTILINE)
HEADING = re.compile(r"^## (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    title: str
    html: str


def _parser(image_url: Callable[[int], str | None]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    default_image = md.renderer.rules["image"]

    def image(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        match = IMAGE_REF.match(str(token.attrGet("src") or ""))
        url = image_url(int(match.group(1))) if match else None
        if url is None:
            return escapeHtml(token.content)  # an image mamori does not hold: its description only
        token.attrSet("src", url)
        return default_image(tokens, idx, options, env)

    md.add_render_rule("image", image)
    return md


def markdown_html(text: str, image_url: Callable[[int], str | None]) -> str:
    """Markdown → sanitised HTML; `image_url(id)` gives a course image's address or None (dropped)."""
    raw = _parser(image_url).render(text)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def sections(text: str, image_url: Callable[[int], str | None]) -> list[Section]:
    """The course text cut at each `## ` heading (text before the first joins the first section)."""
    starts = [m.start() for m in SECTION_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts = [0, *starts[1:]] if starts else [0]
    parts = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    found = []
    for part in parts:
        heading = HEADING.search(part)
        title = heading.group(1).strip() if heading else ""
        found.append(Section(title=title, html=markdown_html(part, image_url)))
    return found
