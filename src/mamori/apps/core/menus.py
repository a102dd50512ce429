"""Core's navigation entries and the dashboard's placeholder cards, one per area.

An app that implements an area registers a card with the same key in its `AppConfig.ready()`
(apps load after core), replacing the placeholder here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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

# (key, title, roles, order): the areas of the security program, in the sheet's order.
AREAS = [
    ("backups", _("バックアップ"), READERS, 10),
    ("training", _("研修"), ALL_ROLES, 20),
    ("awareness", _("注意喚起"), ALL_ROLES, 30),
    ("passwords", _("パスワード"), READERS, 40),
    ("devices", _("機器"), LEADS_AND_READERS, 50),
    ("disposal", _("媒体廃棄"), LEADS_AND_READERS, 60),
    ("incidents", _("事故"), ALL_ROLES, 70),
    ("evaluation", _("評価シート"), READERS, 80),
]


def register_core_menus() -> None:
    for item in NAV:
        register_nav(item)
    for key, title, roles, order in AREAS:
        register_card(DashboardCard(key=key, title=title, roles=frozenset(roles), order=order))
