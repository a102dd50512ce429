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
from django.utils.translation import gettext_lazy

from .models import AuditEvent

# The last word of an action ("backups.system.update") in words; others are shown as written.
VERBS = {
    "create": gettext_lazy("作成"),
    "update": gettext_lazy("変更"),
    "delete": gettext_lazy("削除"),
    "deactivate": gettext_lazy("停止"),
    "transfer": gettext_lazy("異動"),
    "import": gettext_lazy("取込"),
    "set": gettext_lazy("設定"),
    "password": gettext_lazy("パスワード変更"),
    "password_set": gettext_lazy("パスワード設定"),
    "raise": gettext_lazy("発生"),
    "acknowledge": gettext_lazy("確認"),
    "request": gettext_lazy("実行依頼"),
    "finish": gettext_lazy("完了"),
    "download": gettext_lazy("ダウンロード"),
    "override": gettext_lazy("上書き"),
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
