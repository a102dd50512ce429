"""The officer's campaign form: the text with its placeholders, the schedule and the audience."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from mamori.apps.core.forms import DATE_WIDGET
from mamori.apps.core.models import Department, Role
from mamori.apps.core.wareki import fiscal_year_of, format_fiscal_year

from .models import Audience
from .services import CampaignData
from .texts import PLACEHOLDERS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
SUBJECT_HELP = _(
    "差し込み項目: {names}（受け取る人ごとに置き換えます。{year} は保存するときに配信日の年度、例えば{example}になります）"
)


def subject_help() -> str:
    """The subject's help: the placeholders, and this year's {年度} as a notice will read it — in Japanese
    whatever the officer reads (the notice is Japanese), so marked `lang="ja"` in an English page."""
    fiscal_year = fiscal_year_of(timezone.localdate())
    return format_html(
        str(SUBJECT_HELP),
        names=pgettext("separator", "、").join(f"{{{p}}}" for p in PLACEHOLDERS),
        year="{年度}",
        example=format_html('<span lang="ja">{}</span>', format_fiscal_year(fiscal_year)),
    )


class DepartmentsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.full_name}"


class CampaignForm(forms.Form):
    subject = forms.CharField(label=pgettext_lazy("mail", "件名"), max_length=150, help_text="")
    body = forms.CharField(label=_("本文"), max_length=5000, widget=forms.Textarea(attrs={"rows": 14}))
    send_at = forms.DateTimeField(label=_("配信日時"), widget=DATETIME)
    due_on = forms.DateField(label=_("確認の期限"), widget=DATE_WIDGET)
    remind_days_before = forms.IntegerField(
        label=_("督促（期限の何日前）"), min_value=0, max_value=60, initial=2
    )
    audience = forms.ChoiceField(label=_("対象"), choices=Audience.choices, widget=forms.RadioSelect)
    departments = DepartmentsField(
        label=_("対象の所属（下位の所属を含む）"),
        queryset=Department.objects.select_related("parent").order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    role = forms.ChoiceField(label=_("対象のロール"), choices=[("", "—"), *Role.choices], required=False)
    transferred_since = forms.DateField(
        label=_("異動の基準日"),
        help_text=_("「異動した職員」のとき: 発令日がこの日以降の人（4月の定期人事異動なら4月1日）"),
        required=False,
        widget=DATE_WIDGET,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].help_text = subject_help()

    def data_for_service(self) -> CampaignData:
        d = self.cleaned_data
        return CampaignData(
            subject=d["subject"], body=d["body"], send_at=d["send_at"], due_on=d["due_on"],
            audience=d["audience"], departments=list(d["departments"]), role=d["role"],
            transferred_since=d["transferred_since"],
            remind_days_before=d["remind_days_before"],
        )  # fmt: skip
