"""Reading a dashboard card's status light: its colour, the label that says why (the light's title)
and the page it leads to, where what it reports is fixed."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse

_LIGHT = re.compile(r'<span class="light (\w+)"')
_LINK = re.compile(r'<a class="light-link" href="([^"]*)" title="([^"]*)"')
_TITLE = re.compile(r'<span class="light \w+" title="([^"]*)"')


@dataclass(frozen=True)
class Light:
    status: str
    label: str
    url: str


def card_light(page: str, key: str) -> Light:
    """The light in the heading of the dashboard card `key` ("" for a part it does not have)."""
    head = page.split(f'data-card="{key}"')[1].split("</h2>")[0]
    status = _LIGHT.search(head)
    link = _LINK.search(head)
    title = link.group(2) if link else (m.group(1) if (m := _TITLE.search(head)) else "")
    return Light(
        status.group(1) if status else "",
        html_lib.unescape(title),
        html_lib.unescape(link.group(1)) if link else "",
    )


def dashboard_light(client: Client, key: str) -> Light:
    return card_light(client.get(reverse("dashboard")).content.decode(), key)
