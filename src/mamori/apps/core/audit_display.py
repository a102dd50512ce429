"""The audit log as a person reads it: the object's name, the action in words, field names in the
reader's language (the models' verbose names) and each changed field as old → new.

Events name their object as it was when written (`AuditEvent.object_name`); events written before
that column existed are named from the live object, or as "<model> #id" when it is gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from .models import AuditEvent

# The last word of an action ("backups.system.update") in words; every action the apps write has one
# (tests/apps/test_audit_verbs.py), others (an old event's) are shown as written.
VERBS = {
    "create": pgettext_lazy("audit action", "作成"),
    "update": pgettext_lazy("audit action", "変更"),
    "delete": pgettext_lazy("audit action", "削除"),
    "deactivate": pgettext_lazy("audit action", "停止"),
    "transfer": pgettext_lazy("audit action", "異動"),
    "import": pgettext_lazy("audit action", "取込"),
    "set": pgettext_lazy("audit action", "設定"),
    "password": pgettext_lazy("audit action", "パスワード変更"),
    "password_set": pgettext_lazy("audit action", "パスワード設定"),
    "raise": pgettext_lazy("audit action", "発生"),
    "acknowledge": pgettext_lazy("audit action", "確認"),
    "request": pgettext_lazy("audit action", "実行依頼"),
    "finish": pgettext_lazy("audit action", "完了"),
    "download": pgettext_lazy("audit action", "ダウンロード"),
    "override": pgettext_lazy("audit action", "上書き"),
    "activate": pgettext_lazy("audit action", "再開"),
    "add": pgettext_lazy("audit action", "追加"),
    "advance": pgettext_lazy("audit action", "次回予定の更新"),
    "apply": pgettext_lazy("audit action", "適用"),
    "attendance": pgettext_lazy("audit action", "出欠の記録"),
    "attendance_import": pgettext_lazy("audit action", "出欠の取込"),
    "cancel": pgettext_lazy("audit action", "取消"),
    "chain_keyed": pgettext_lazy("audit action", "監査ログの鍵付け"),
    "close": pgettext_lazy("audit action", "対応完了"),
    "confirm": pgettext_lazy("audit action", "確定"),
    "correct": pgettext_lazy("audit action", "訂正"),
    "ensure": pgettext_lazy("audit action", "登録"),
    "fail": pgettext_lazy("audit action", "失敗"),
    "final": pgettext_lazy("audit action", "確報の提出"),
    "hand_over": pgettext_lazy("audit action", "引渡し"),
    "links_send": pgettext_lazy("audit action", "ログイン案内の送信"),
    "load": pgettext_lazy("audit action", "読込"),
    "lock_facts": pgettext_lazy("audit action", "ロックの読み取り"),
    "money": pgettext_lazy("audit action", "事業費の設定"),
    "preliminary": pgettext_lazy("audit action", "速報の提出"),
    "record": pgettext_lazy("audit action", "記録"),
    "register": pgettext_lazy("audit action", "登録"),
    "remind": pgettext_lazy("audit action", "督促"),
    "remove": pgettext_lazy("audit action", "除外"),
    "reopen": pgettext_lazy("audit action", "再開"),
    "report": pgettext_lazy("audit action", "報告"),
    "revise": pgettext_lazy("audit action", "改訂"),
    "run": pgettext_lazy("audit action", "実行"),
    "save": pgettext_lazy("audit action", "保存"),
    "send": pgettext_lazy("audit action", "送信"),
    "set_active": pgettext_lazy("audit action", "出題の切替"),
    "staffing": pgettext_lazy("audit action", "従事職員数の設定"),
    "start": pgettext_lazy("audit action", "開始"),
    "store": pgettext_lazy("audit action", "保管"),
    "submit": pgettext_lazy("audit action", "提出"),
    "test": pgettext_lazy("audit action", "接続テスト"),
    "texts": pgettext_lazy("audit action", "記述の設定"),
    "triage": pgettext_lazy("audit action", "判断"),
    "try": pgettext_lazy("audit action", "試行"),
    "year": pgettext_lazy("audit action", "年度値の設定"),
}


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    old: str
    new: str
    changed: bool


@dataclass(frozen=True)
class EventView:
    event: AuditEvent
    kind: str  # the model's verbose name, or the object type as written
    name: str  # the object's display name
    verb: str
    rows: list[FieldRow]

    @property
    def changed_rows(self) -> list[FieldRow]:
        return [r for r in self.rows if r.changed]


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    for candidate in (key, key.removesuffix("_id")):
        try:
            field = model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        if isinstance(field, models.Field):
            return field
    return None


def _kind(model: type[models.Model]) -> str:
    """The model's own verbose name if it declares one, else its app's ("protected system", derived
    from the class name, is English on a Japanese page)."""
    if "verbose_name" in model._meta.original_attrs:
        return str(model._meta.verbose_name)
    return str(model._meta.app_config.verbose_name)


class _Names:
    """Display names of related objects, looked up once per page."""

    def __init__(self) -> None:
        self.cache: dict[tuple[type[models.Model], str], str] = {}

    def get(self, model: type[models.Model], pk: Any) -> str | None:
        key = (model, str(pk))
        if key not in self.cache:
            try:
                obj = model._default_manager.filter(pk=pk).first()
            except (ValueError, TypeError, ValidationError):  # a payload value that is no key
                obj = None
            self.cache[key] = str(obj) if obj is not None else ""
        return self.cache[key] or None


def _shown(field: models.Field[Any, Any] | None, value: Any, names: _Names) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field is not None and field.is_relation and field.related_model is not None:
        name = names.get(field.related_model, value)  # type: ignore[arg-type]
        if name:
            return f"{name} (#{value})"
        return f"#{value}" if isinstance(value, int) else str(value)
    return str(value)


def describe(events: Iterable[AuditEvent]) -> list[EventView]:
    """Each event with its object's name, the action in words and its fields old → new."""
    names = _Names()
    views = []
    for event in events:
        model = _model(event.object_type) if event.object_type else None
        kind = _kind(model) if model is not None else event.object_type
        name = event.object_name
        if not name and event.object_id:
            name = (names.get(model, event.object_id) if model is not None else None) or f"#{event.object_id}"
        before, after = event.before or {}, event.after or {}
        rows = []
        for key in [*before, *(k for k in after if k not in before)]:
            if key == "id":
                continue
            field = _field(model, key)
            old = _shown(field, before[key], names) if key in before else ""
            new = _shown(field, after[key], names) if key in after else ""
            changed = bool(before) and bool(after) and before.get(key) != after.get(key)
            rows.append(FieldRow(key, str(field.verbose_name) if field else key, old, new, changed))
        verb = VERBS.get(event.action.rsplit(".", 1)[-1])
        views.append(EventView(event, kind, name, str(verb) if verb else event.action, rows))
    return views
