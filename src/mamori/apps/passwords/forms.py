"""Forms for policies and directories. The bind password field never renders a value."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.forms import ca_certificate_field, kept_secret_field

from .models import DirectoryKind, MatchField, PolicyMode, Security


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    mode = forms.ChoiceField(label=_("方式"), choices=PolicyMode.choices, initial=PolicyMode.NIST)
    max_age_days = forms.IntegerField(
        label=_("変更間隔（日）"),
        min_value=1,
        required=False,
        help_text=_("定期変更の方式のときだけ使います"),
    )
    min_length = forms.IntegerField(label=_("最小文字数"), min_value=8, initial=12)
    blocklist = forms.BooleanField(label=_("漏えい・頻出パスワードを禁止"), required=False, initial=True)
    stale_days = forms.IntegerField(label=_("未使用とみなす日数"), min_value=1, initial=90)
    group_dn = forms.CharField(
        label=_("対象グループ（DN）"),
        max_length=500,
        required=False,
        help_text=_("OU または グループのDN。空欄なら他のどの方針にも当たらないアカウントすべて"),
    )
    priority = forms.IntegerField(label=_("優先順位（小さいほど先に判定）"), min_value=0, initial=100)
    clause = forms.CharField(
        label=_("根拠規程の条項"), max_length=300, required=False, help_text=_("例: 住基ネット管理要領 第8条")
    )


class DirectoryForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("種類"), choices=DirectoryKind.choices)
    host = forms.CharField(label=_("ホスト"), max_length=255)
    port = forms.IntegerField(label=_("ポート"), min_value=1, max_value=65535, initial=389)
    security = forms.ChoiceField(label=_("接続の保護"), choices=Security.choices, initial=Security.STARTTLS)
    allow_plain = forms.BooleanField(
        label=_("暗号化なしの接続を許可（検証用ディレクトリのみ）"), required=False
    )
    ca_certificate = ca_certificate_field()
    bind_dn = forms.CharField(label=_("バインドDN"), max_length=500)
    password = kept_secret_field(_("バインドパスワード"))
    base_dn = forms.CharField(label=_("検索ベースDN"), max_length=500)
    user_filter = forms.CharField(
        label=_("アカウントの検索フィルタ"), max_length=500, initial="(objectClass=inetOrgPerson)"
    )
    match_attribute = forms.CharField(label=_("職員と照合する属性"), max_length=64, initial="employeeNumber")
    match_field = forms.ChoiceField(label=_("照合先の職員項目"), choices=MatchField.choices)
    page_size = forms.IntegerField(label=_("ページサイズ"), min_value=1, max_value=5000, initial=500)
    audit_every_hours = forms.IntegerField(
        label=_("自動監査の間隔（時間、0で停止）"), min_value=0, max_value=24 * 31, initial=24
    )
    sign_in = forms.BooleanField(
        label=_("このディレクトリのアカウントでのサインインを許可"),
        required=False,
        help_text=_(
            "職員と照合できたアカウントだけがサインインできます（システム管理者はローカルアカウントのみ）"
        ),
    )
