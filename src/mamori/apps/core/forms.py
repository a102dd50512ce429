"""Core forms: they parse and check input; the views hand the cleaned data to one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .models import Department, Organisation, PopulationRecord, Role, Staff

MAX_IMPORT_BYTES = 5 * 1024 * 1024
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.full_name}"


DEPARTMENT_LABEL = _("所属")


def department_field(*, required: bool = True, label: Any = DEPARTMENT_LABEL) -> DepartmentChoiceField:
    return DepartmentChoiceField(
        queryset=Department.objects.select_related("parent").order_by("code"), required=required, label=label
    )


def kept_secret_field(label: Any) -> forms.CharField:
    """A stored secret's field: never rendered back; left empty, the stored value stays."""
    return forms.CharField(
        label=label,
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        required=False,
        help_text=_("変更するときだけ入力してください"),
    )


def ca_certificate_field() -> forms.CharField:
    """A CA certificate as PEM text; empty means the operating system's trusted CAs."""
    return forms.CharField(
        label=_("CA証明書（PEM）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("空欄ならOSの信頼済みCAで検証します"),
    )


class StaffFilterForm(forms.Form):
    q = forms.CharField(
        label=_("検索"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": _("職員番号・氏名・かな・メール")}),
    )
    department = department_field(required=False, label=_("所属"))


class StaffForm(forms.ModelForm):
    department = department_field()
    effective_date = forms.DateField(
        label=_("異動日"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("所属を変えたときの発令日（空欄なら今日）"),
    )

    class Meta:
        model = Staff
        fields = [
            "employee_number",
            "family_name",
            "given_name",
            "family_name_kana",
            "given_name_kana",
            "email",
            "department",
            "position",
            "employment_category",
            "status",
            "joined_on",
            "left_on",
        ]
        widgets = {"joined_on": DATE_WIDGET, "left_on": DATE_WIDGET}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["employee_number"].disabled = True
        else:
            del self.fields["effective_date"]


class StaffTransferForm(forms.Form):
    to_department = department_field(label=_("異動先"))
    effective_date = forms.DateField(label=_("発令日"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("備考"), max_length=200, required=False)


class StaffImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSVファイル"),
        help_text=_("UTF-8（BOM付き可）または Excel の CSV（Shift_JIS / CP932）。5MBまで。"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("ファイルが大きすぎます（5MBまで）。"))
        return upload


class DepartmentForm(forms.ModelForm):
    parent = department_field(required=False, label=_("上位の所属"))

    class Meta:
        model = Department
        fields = ["code", "name", "parent"]


class DepartmentUpdateForm(forms.Form):
    name = forms.CharField(label=_("所属名"), max_length=100)
    parent = department_field(required=False, label=_("上位の所属"))


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "name_en", "prefecture", "code"]


class PopulationRecordForm(forms.ModelForm):
    class Meta:
        model = PopulationRecord
        fields = ["reference_date", "residents", "households", "source"]
        widgets = {"reference_date": DATE_WIDGET}


class _MembershipFields(forms.Form):
    role = forms.ChoiceField(label=_("ロール"), choices=Role.choices)
    department = department_field(required=False, label=_("担当する所属"))
    employee_number = forms.CharField(
        label=_("職員番号"), required=False, max_length=20, help_text=_("このログインを使う職員（任意）")
    )
    password = forms.CharField(
        label=_("パスワード"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("12文字以上。空欄なら変更しません。"),
    )

    def clean_employee_number(self) -> Staff | None:
        number = self.cleaned_data["employee_number"].strip()
        if not number:
            return None
        staff = Staff.objects.filter(employee_number=number).first()
        if staff is None:
            raise forms.ValidationError(
                _("職員番号 %(number)s の職員はいません。"), params={"number": number}
            )
        return staff

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password:
            validate_password(password)
        return password


class UserCreateForm(_MembershipFields):
    username = forms.CharField(label=_("ユーザー名"), max_length=150)
    email = forms.EmailField(label=_("メールアドレス"), required=False)
    field_order = ["username", "email", "role", "department", "employee_number", "password"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(_("このユーザー名は既に使われています。"))
        return username


class UserUpdateForm(_MembershipFields):
    is_active = forms.BooleanField(label=_("ログインを有効にする"), required=False)


class StaffLoginsForm(forms.Form):
    department = department_field(required=False, label=_("対象の所属（空欄なら全職員）"))
