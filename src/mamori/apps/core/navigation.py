"""Registries that let each app add its navigation entries, dashboard cards and tasks.

An app registers in its `AppConfig.ready()`; core never imports the app. The base layout shows only
the entries the signed-in role may use, and the dashboard only the cards that role may see and that
have something for this person (a card's `context` returning None hides it).

Which roles see a card is the app's decision, declared in `DashboardCard.roles`: a card for the
officers' overview (READERS), one a department lead sees scoped to their departments, one for staff.
Something asked of a person (a course to take, a notice to acknowledge) is a `Task`: an app registers
a task source, and core's 「あなたへの依頼」 card lists every source's tasks for the signed-in person.
Something a person must see on every page until they act on it (a notice to acknowledge) is a
`Banner` from a registered banner source, shown under the header of every page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
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
    a status light next to the title; with `status_url` too, the light links to what is wrong. A
    context of None hides the card for this request (nothing to show this person: no systems in
    their departments, no tasks).
    """

    key: str
    title: Any
    roles: frozenset[str]
    template: str = "core/cards/placeholder.html"
    context: Callable[[HttpRequest], dict[str, Any] | None] = field(default=lambda request: {})
    order: int = 100


@dataclass(frozen=True)
class Task:
    """One thing asked of the signed-in person, with where to do it and by when."""

    title: Any
    url: str
    due: date | None = None
    detail: Any = ""


TaskSource = Callable[[HttpRequest], Iterable[Task]]


@dataclass(frozen=True)
class Banner:
    """A notice on every page for the signed-in person, with where to act on it."""

    text: Any
    url: str
    action: Any  # the link's text, e.g. 「確認する」


BannerSource = Callable[[HttpRequest], Iterable[Banner]]


_nav: dict[str, NavItem] = {}
_cards: dict[str, DashboardCard] = {}
_task_sources: dict[str, TaskSource] = {}
_banner_sources: dict[str, BannerSource] = {}


def register_nav(item: NavItem) -> None:
    _nav[item.key] = item


def register_card(card: DashboardCard) -> None:
    """Register or replace (an app replaces core's placeholder card of its area)."""
    _cards[card.key] = card


def nav_items(role: str | None) -> list[NavItem]:
    return sorted((i for i in _nav.values() if role in i.roles), key=lambda i: i.order)


def all_nav_items() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda i: i.order)


def register_tasks(key: str, source: TaskSource) -> None:
    """Register or replace an app's task source (e.g. "training": the courses due for this person)."""
    _task_sources[key] = source


def cards(role: str | None) -> list[DashboardCard]:
    """The cards a role may see; `visible_cards` drops those with nothing for this person."""
    return sorted((c for c in _cards.values() if role in c.roles), key=lambda c: c.order)


def visible_cards(request: HttpRequest, role: str | None) -> list[tuple[DashboardCard, dict[str, Any]]]:
    shown = []
    for card in cards(role):
        ctx = card.context(request)
        if ctx is not None:
            shown.append((card, ctx))
    return shown


def tasks(request: HttpRequest) -> list[Task]:
    """Every source's tasks for this person, the earliest due first, undated last."""
    found = [task for source in _task_sources.values() for task in source(request)]
    return sorted(found, key=lambda t: (t.due is None, t.due or date.min))


def register_banners(key: str, source: BannerSource) -> None:
    """Register or replace an app's banner source (e.g. "awareness": notices not yet acknowledged)."""
    _banner_sources[key] = source


def banners(request: HttpRequest) -> list[Banner]:
    return [banner for source in _banner_sources.values() for banner in source(request)]
