"""Incident forms: the short report form for everyone, the officer's triage, date correction and
filing forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.backups.models import ProtectedSystem
from mamori.apps.disposal.models import Medium

from .models import IncidentKind, IncidentStatus, Severity

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class IncidentReportForm(forms.Form):
    title = forms.CharField(label=_("件名"), max_length=120)
    kind = forms.ChoiceField(label=_("種類"), choices=IncidentKind.choices)
    department = forms.ModelChoiceField(label=_("所属"), queryset=None)
    detected_at = forms.DateTimeField(label=_("発生・発見日時"), widget=DATETIME)
    learned_at = forms.DateTimeField(
        label=_("市が把握した日時"), widget=DATETIME, help_text=_("報告期限はこの日を1日目として数えます")
    )
    reported_at = forms.DateTimeField(
        label=_("報告日時"),
        widget=DATETIME,
        required=False,
        help_text=_("後から記録するときは、報告を受けた日時（速報・確報の提出はこれより後）"),
    )
    description = forms.CharField(label=_("概要"), widget=forms.Textarea(attrs={"rows": 4}))
    personal_data = forms.BooleanField(label=_("個人情報を含む"), required=False)
    people_affected = forms.IntegerField(label=_("本人の数"), min_value=0, initial=0)
    special_care = forms.BooleanField(label=_("要配慮個人情報を含む（病歴・障害など）"), required=False)
    my_number = forms.BooleanField(label=_("マイナンバー（特定個人情報）を含む"), required=False)
    unauthorised_purpose = forms.BooleanField(
        label=_("不正の目的によるおそれ（盗難・不正アクセスなど）"), required=False
    )

    def __init__(self, *args: Any, departments: Any, backdate: bool = False, **kwargs: Any) -> None:
        """`backdate`: the officer may record when a report came in; everyone else reports now."""
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if backdate:
            self.initial.setdefault("reported_at", _now())
        else:
            del self.fields["reported_at"]
        if departments.count() == 1:
            self.initial.setdefault("department", departments.first())
        self.initial.setdefault("detected_at", _now())
        self.initial.setdefault("learned_at", _now())


class IncidentTriageForm(forms.Form):
    kind = forms.ChoiceField(label=_("種類"), choices=IncidentKind.choices)
    severity = forms.ChoiceField(label=_("重大度"), choices=Severity.choices)
    status = forms.ChoiceField(
        label=_("状態"), choices=[(s.value, s.label) for s in IncidentStatus if s != IncidentStatus.CLOSED]
    )
    personal_data = forms.BooleanField(label=_("個人情報を含む"), required=False)
    people_affected = forms.IntegerField(label=_("本人の数"), min_value=0)
    special_care = forms.BooleanField(label=_("要配慮個人情報を含む"), required=False)
    ordinance_special_care = forms.BooleanField(label=_("条例要配慮個人情報を含む"), required=False)
    my_number = forms.BooleanField(label=_("マイナンバー（特定個人情報）を含む"), required=False)
    financial_damage = forms.BooleanField(label=_("財産的被害のおそれ"), required=False)
    unauthorised_purpose = forms.BooleanField(label=_("不正の目的によるおそれ"), required=False)
    systems = forms.ModelMultipleChoiceField(
        label=_("関係システム"), queryset=ProtectedSystem.objects.all(), required=False
    )
    media = forms.ModelMultipleChoiceField(label=_("関係媒体"), queryset=Medium.objects.all(), required=False)
    devices = forms.CharField(label=_("関係機器"), max_length=200, required=False)
    root_cause = forms.CharField(label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(
        label=_("再発防止策"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class FilingForm(forms.Form):
    report = forms.ChoiceField(label=_("報告"), choices=[("preliminary", _("速報")), ("final", _("確報"))])
    filed_at = forms.DateTimeField(label=_("提出日時"), widget=DATETIME)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("filed_at", _now())


class DatesForm(forms.Form):
    """The officer's correction of 発生・発見日時 and 市が把握した日時, with the reason."""

    detected_at = forms.DateTimeField(label=_("発生・発見日時"), widget=DATETIME)
    learned_at = forms.DateTimeField(
        label=_("市が把握した日時"),
        widget=DATETIME,
        help_text=_("報告期限はこの日を1日目として数えます。訂正すると期限も変わります。"),
    )
    reason = forms.CharField(
        label=_("訂正する理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("訂正前後の日時とともに経過に記録されます。"),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("再開する理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("経過に記録されます。報告期限は引き続き市が把握した日から数えます。"),
    )


class TimelineEntryForm(forms.Form):
    text = forms.CharField(label=_("経過"), widget=forms.Textarea(attrs={"rows": 2}))
