"""Registries that let each app add its navigation entries and dashboard cards.

An app registers in its `AppConfig.ready()`; core never imports the app. The base layout shows only
the entries the signed-in role may use, and the dashboard only the cards it may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any  # lazy translation string
    url_name: str
    roles: frozenset[str]
    order: int = 100


@dataclass(frozen=True)
class DashboardCard:
    """One area of the dashboard; `context` computes what the card template shows.

    If the context has `status` ("green", "amber" or "red") and `status_label`, the dashboard shows
    a status light next to the title.
    """

    key: str
    title: Any
    roles: frozenset[str]
    template: str = "core/cards/placeholder.html"
    context: Callable[[HttpRequest], dict[str, Any]] = field(default=lambda request: {})
    order: int = 100


_nav: dict[str, NavItem] = {}
_cards: dict[str, DashboardCard] = {}


def register_nav(item: NavItem) -> None:
    _nav[item.key] = item


def register_card(card: DashboardCard) -> None:
    """Register or replace (an app replaces core's placeholder card of its area)."""
    _cards[card.key] = card


def nav_items(role: str | None) -> list[NavItem]:
    return sorted((i for i in _nav.values() if role in i.roles), key=lambda i: i.order)


def all_nav_items() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda i: i.order)


def cards(role: str | None) -> list[DashboardCard]:
    return sorted((c for c in _cards.values() if role in c.roles), key=lambda c: c.order)
