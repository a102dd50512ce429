"""Disposal forms. Choice fields are limited to what the user may touch; the services check again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.labels import with_note
from mamori.apps.core.models import Classification, Department, NetworkZone

from .certificates import max_bytes
from .models import Medium, MediumKind, Method

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class MediumForm(forms.Form):
    label = forms.CharField(label=_("管理番号"), max_length=40, help_text=_("例: 総務-USB-012"))
    kind = forms.ChoiceField(label=_("種類"), choices=MediumKind.choices)
    department = forms.ModelChoiceField(label=_("所属"), queryset=Department.objects.none())
    classification = forms.ChoiceField(label=_("情報資産の分類"), choices=Classification.choices)
    network_zone = forms.ChoiceField(label=_("ネットワーク区分"), choices=NetworkZone.choices)
    description = forms.CharField(label=_("内容"), max_length=200, required=False)
    serial_number = forms.CharField(label=_("製造番号"), max_length=100, required=False)
    source_device = forms.CharField(label=_("取り外した機器"), max_length=100, required=False)
    registered_at = forms.DateTimeField(
        label=_("登録日時"),
        widget=DATETIME,
        required=False,
        help_text=_("後から記録するときは、媒体を受け付けた日時"),
    )

    def __init__(self, *args: Any, departments: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.initial.setdefault("registered_at", _now())


class StoreForm(forms.Form):
    location = forms.CharField(label=_("保管場所"), max_length=100, initial=_("情報政策課 施錠保管庫"))
    stored_at = forms.DateTimeField(label=_("保管開始"), widget=DATETIME, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("stored_at", _now())


class HandOverForm(forms.Form):
    media = forms.ModelMultipleChoiceField(
        label=_("引き渡す媒体（保管中のもの）"),
        queryset=Medium.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    contractor = forms.CharField(label=_("委託業者"), max_length=100)
    method = forms.ChoiceField(
        label=_("処理方法（NIST SP 800-88）"), choices=Method.choices, initial=Method.DESTROY
    )
    handed_over_at = forms.DateTimeField(label=_("引渡し日時"), widget=DATETIME)
    received_by = forms.CharField(label=_("受領者（業者側）"), max_length=100)
    witness = forms.CharField(label=_("立会人"), max_length=100)
    note = forms.CharField(label=_("備考"), max_length=200, required=False)

    def __init__(self, *args: Any, media: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["media"].queryset = media
        self.fields["media"].label_from_instance = lambda m: with_note(
            m.label, m.get_kind_display(), m.department.name, m.get_network_zone_display()
        )
        self.initial.setdefault("handed_over_at", _now())


class CertificateForm(forms.Form):
    file = forms.FileField(
        label=_("証明書ファイル（PDF・PNG・JPEG）"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
    )
    number = forms.CharField(label=_("証明書番号"), max_length=60)
    issued_on = forms.DateField(label=_("発行日"), widget=forms.DateInput(attrs={"type": "date"}))
    media = forms.ModelMultipleChoiceField(
        label=_("証明書に記載された媒体"),
        queryset=Medium.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, media: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["media"].queryset = media
        self.fields["media"].label_from_instance = lambda m: with_note(m.label, m.get_kind_display())
        self.fields["file"].help_text = _("上限 {limit} MB").format(limit=max_bytes() // (1024 * 1024))
