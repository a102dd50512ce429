"""Core's navigation entries, the officers' placeholder cards (one per area) and the personal cards.

An app that implements an area registers a card with the same key in its `AppConfig.ready()`
(apps load after core), replacing the placeholder here, with the roles that can use it: a card for
staff or department leads only when it shows them something of theirs (see `navigation`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .cards import PERSONAL_ROLES, me_card_context, tasks_card_context
from .models import Role
from .navigation import DashboardCard, NavItem, register_card, register_nav
from .permissions import ALL_ROLES, LEADS_AND_READERS, READERS

ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})

NAV = [
    NavItem("dashboard", _("ダッシュボード"), "dashboard", ALL_ROLES, order=0),
    NavItem("staff", pgettext_lazy("nav", "職員"), "staff_list", LEADS_AND_READERS, order=10),
    NavItem("departments", pgettext_lazy("nav", "所属"), "department_list", LEADS_AND_READERS, order=20),
    NavItem("organisation", _("団体・人口"), "organisation", READERS, order=30),
    NavItem("audit", _("監査ログ"), "audit_list", READERS, order=900),
    NavItem("users", _("ユーザーとロール"), "user_list", ADMINISTRATORS, order=910),
]

# (key, title, order): the areas of the security program, in the sheet's order. Until an app fills
# its area, the placeholder is for the officers' overview only: staff and leads cannot act on it.
AREAS = [
    ("backups", _("バックアップ"), 10),
    ("training", _("研修"), 20),
    ("awareness", _("注意喚起"), 30),
    ("passwords", pgettext_lazy("nav", "パスワード"), 40),
    ("devices", _("機器"), 50),
    ("disposal", _("媒体廃棄"), 60),
    ("incidents", _("事故"), 70),
    ("evaluation", _("評価シート"), 80),
]

PERSONAL_CARDS = [
    DashboardCard(
        key="tasks",
        title=_("あなたへの依頼"),
        roles=ALL_ROLES,  # officers see it only when something is asked of them
        template="core/cards/tasks.html",
        context=tasks_card_context,
        order=1,
    ),
    DashboardCard(
        key="me",
        title=_("あなたの所属と連絡先"),
        roles=PERSONAL_ROLES,
        template="core/cards/me.html",
        context=me_card_context,
        order=900,
    ),
]


def register_core_menus() -> None:
    for item in NAV:
        register_nav(item)
    for key, title, order in AREAS:
        register_card(DashboardCard(key=key, title=title, roles=READERS, order=order))
    for card in PERSONAL_CARDS:
        register_card(card)
