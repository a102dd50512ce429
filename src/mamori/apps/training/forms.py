"""Training forms. The services check everything again; forms only shape the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.core.models import Department, Role

from .models import QuestionKind, RuleKind

CHOICE_SLOTS = 6


class CourseForm(forms.Form):
    title = forms.CharField(label=_("研修名"), max_length=200)
    body = forms.CharField(
        label=_("本文（Markdown）"),
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text=_("「## 見出し」ごとに1ページになります。画像は ![説明](image:番号) で表示します。"),
    )
    pass_mark = forms.IntegerField(label=_("合格点（%）"), min_value=1, max_value=100, initial=80)
    questions_per_attempt = forms.IntegerField(label=_("1回の出題数"), min_value=1, max_value=50, initial=5)
    max_attempts = forms.IntegerField(
        label=_("受験回数の上限（0は無制限）"), min_value=0, max_value=20, initial=3
    )


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("設問"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    kind = forms.ChoiceField(label=pgettext_lazy("question", "形式"), choices=QuestionKind.choices)
    explanation = forms.CharField(
        label=_("解説（回答後に表示）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, CHOICE_SLOTS + 1):
            self.fields[f"choice_{i}"] = forms.CharField(
                label=_("選択肢 {n}").format(n=i), max_length=300, required=False
            )
            self.fields[f"correct_{i}"] = forms.BooleanField(
                label=_("選択肢 {n} は正解").format(n=i), required=False
            )

    def choices(self) -> list[tuple[str, bool]]:
        data = self.cleaned_data
        return [(data[f"choice_{i}"], data[f"correct_{i}"]) for i in range(1, CHOICE_SLOTS + 1)]


class ImageForm(forms.Form):
    file = forms.FileField(
        label=_("画像（PNG・JPEG・GIF・WebP）"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("対象"), choices=RuleKind.choices)
    since = forms.DateField(
        label=_("基準日（新規採用・異動のとき）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    department = forms.ModelChoiceField(label=_("所属"), queryset=Department.objects.all(), required=False)
    role = forms.ChoiceField(label=_("ロール"), choices=[("", "—"), *Role.choices], required=False)
    due_on = forms.DateField(label=_("期限"), widget=forms.DateInput(attrs={"type": "date"}))


class SessionForm(forms.Form):
    title = forms.CharField(label=_("研修名"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("日時"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("会場"), max_length=200)
    capacity = forms.IntegerField(label=_("定員"), min_value=1, max_value=2000)


class AttendanceImportForm(forms.Form):
    file = forms.FileField(
        label=_("出欠のCSV（UTF-8 または CP932）"),
        help_text=_(
            "見出し行に「職員番号」と「出欠」（出席・欠席）の列が必要です。1行でも誤りがあれば何も記録しません。"
        ),
    )


class RemindForm(forms.Form):
    """「督促メールを送信」 on the overdue list: when the officer opened it (so a second click of the
    same page sends nothing twice), the one row or none for all, and the list's course filter."""

    shown_at = forms.DateTimeField(widget=forms.HiddenInput)
    assignment = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    course = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
