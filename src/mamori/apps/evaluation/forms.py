"""Entry forms of the evaluation sheet. They only parse; the services validate and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Department, EmploymentCategory, PopulationRecord

from .models import Direction, DirectionCode, EraStyle, Implementation, IndicatorKind, RoundingRule

GRADE_CHOICES = [("", "—"), ("A", "A"), ("B", "B"), ("C", "C")]
YEN = {"min_value": 0, "widget": forms.NumberInput(attrs={"step": 1})}


class ProgramForm(forms.Form):
    chapter_number = forms.IntegerField(label=_("章番号"), min_value=1)
    chapter_title = forms.CharField(label=_("まちづくりの目標(章)"), max_length=200)
    section_number = forms.CharField(label=_("節番号"), max_length=10)
    section_title = forms.CharField(label=_("施策分野(節)"), max_length=200)
    measure_number = forms.CharField(label=_("施策番号"), max_length=10)
    measure_title = forms.CharField(label=_("施策"), max_length=200)
    department = forms.ModelChoiceField(label=_("所管課"), queryset=Department.objects.all())
    reference_number = forms.CharField(label=_("整理番号"), max_length=20)
    name = forms.CharField(label=_("事業名"), max_length=200)
    purpose = forms.CharField(label=_("目的"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    goal = forms.CharField(label=_("目標"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ProgramEditForm(forms.Form):
    department = forms.ModelChoiceField(label=_("所管課"), queryset=Department.objects.all())
    name = forms.CharField(label=_("事業名"), max_length=200)
    priority = forms.IntegerField(label=_("事業優先順位"), min_value=1, required=False)
    purpose = forms.CharField(label=_("目的"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    goal = forms.CharField(label=_("目標"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    implementation = forms.ChoiceField(label=_("事業実施主体"), choices=Implementation.choices)
    start_fiscal_year = forms.CharField(
        label=_("事業開始年度"), required=False, help_text=_("例: 平成15年度, H15, 2003")
    )
    start_or_earlier = forms.BooleanField(label=_("開始年度「以前」と表示"), required=False)
    legal_basis = forms.CharField(label=_("根拠法令"), max_length=300, required=False)
    target_group = forms.CharField(label=_("対象者"), max_length=300, required=False)


class SubProgramForm(ProgramEditForm):
    reference_number = forms.CharField(label=_("細事業番号"), max_length=20)
    field_order = ["reference_number"]


class MoneyForm(forms.Form):
    program_cost = forms.IntegerField(label=_("事業費(決算額)(円)"), **YEN)
    general_fund = forms.IntegerField(label=_("一般財源(円)"), initial=0, **YEN)
    national_prefectural = forms.IntegerField(label=_("国府支出金(円)"), initial=0, **YEN)
    municipal_bonds = forms.IntegerField(label=_("地方債(円)"), initial=0, **YEN)
    other_specific = forms.IntegerField(label=_("その他特定財源(円)"), initial=0, **YEN)
    debt_service = forms.IntegerField(label=_("公債費(円)"), initial=0, **YEN)
    population = forms.ModelChoiceField(
        label=_("一人あたり・世帯あたりの基準人口"), queryset=PopulationRecord.objects.none(), required=False
    )

    def __init__(self, *args: Any, organisation_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["population"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PopulationRecord.objects.filter(organisation_id=organisation_id)


class StaffingForm(forms.Form):
    """One FTE field per employment category; the service refuses negatives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in EmploymentCategory.choices:
            self.fields[value] = forms.DecimalField(
                label=_("%(category)s 従事職員数(人)") % {"category": label},
                decimal_places=2,
                max_digits=6,
                required=False,
                initial=0,
            )


class UnitCostForm(forms.Form):
    category = forms.ChoiceField(label=_("任用区分"), choices=EmploymentCategory.choices)
    yen = forms.IntegerField(label=_("人件費単価(円/人)"), min_value=0)


class TextsForm(forms.Form):
    outcome = forms.CharField(
        label=_("成果"),
        widget=forms.Textarea(attrs={"rows": 10}),
        required=False,
        help_text=_("「1. 見出し」の行は見出しになります。用語に※を付けます。"),
    )
    glossary = forms.CharField(
        label=_("用語解説"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("1行に1語: 用語…説明"),
    )
    direction_label = forms.CharField(
        label=_("今後の方向性"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    direction_code = forms.ChoiceField(
        label=_("方向性区分"), choices=[("", "—"), *DirectionCode.choices], required=False
    )

    def glossary_entries(self) -> list[dict[str, str]]:
        entries = []
        for line in self.cleaned_data["glossary"].splitlines():
            if "…" in line:
                term, text = line.split("…", 1)
                entries.append({"term": term.strip().lstrip("※").strip(), "text": text.strip()})
        return entries


class RatingForm(forms.Form):
    relevance = forms.ChoiceField(label=_("妥当性"), choices=GRADE_CHOICES, required=False)
    efficiency = forms.ChoiceField(label=_("効率性"), choices=GRADE_CHOICES, required=False)
    effectiveness = forms.ChoiceField(label=_("有効性"), choices=GRADE_CHOICES, required=False)
    overall = forms.ChoiceField(label=_("総合評価"), choices=GRADE_CHOICES, required=False)
    contribution = forms.ChoiceField(label=_("貢献度"), choices=GRADE_CHOICES, required=False)
    reason_overall = forms.CharField(
        label=_("評価理由"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    reason_contribution = forms.CharField(
        label=_("貢献度の根拠"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    override_reason = forms.CharField(
        label=_("提案と異なる評価にする理由"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class IndicatorForm(forms.Form):
    kind = forms.ChoiceField(label=_("種別"), choices=IndicatorKind.choices)
    name = forms.CharField(label=_("指標名"), max_length=200)
    unit = forms.CharField(label=_("単位"), max_length=20)
    direction = forms.ChoiceField(label=_("目指す方向"), choices=Direction.choices)
    kpi_code = forms.ChoiceField(label=_("KPI（実績を自動取得）"), required=False)

    def __init__(self, *args: Any, kpi_choices: list[tuple[str, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["kpi_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("— 手入力 —")), *kpi_choices]


class IndicatorYearForm(forms.Form):
    target = forms.DecimalField(label=_("目標値"), required=False, max_digits=14, decimal_places=2)
    actual = forms.DecimalField(
        label=_("実績値（KPI 連動時は不要）"), required=False, max_digits=14, decimal_places=2
    )


class SheetSettingsForm(forms.Form):
    """The organisation's sheet settings; the service checks the thresholds against each other."""

    money_rounding = forms.ChoiceField(label=_("千円未満の端数"), choices=RoundingRule.choices)
    per_capita_rounding = forms.ChoiceField(
        label=_("一人あたり・世帯あたりの円未満の端数"), choices=RoundingRule.choices
    )
    era_style = forms.ChoiceField(label=_("年度の表記"), choices=EraStyle.choices)
    threshold_a = forms.DecimalField(
        label=_("評価Aの達成率(%)以上"), min_value=0, max_value=100, decimal_places=1, max_digits=5
    )
    threshold_b = forms.DecimalField(
        label=_("評価Bの達成率(%)以上"), min_value=0, max_value=100, decimal_places=1, max_digits=5
    )
    footnote = forms.CharField(
        label=_("シート下部の注記"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("すべてのシートの末尾に印刷されます。"),
    )


class ImportForm(forms.Form):
    """A `mamori-evaluation` document (YAML or JSON) to preview, or its text posted back to confirm."""

    file = forms.FileField(label=_("評価データ（YAML / JSON）"), required=False)
    document = forms.CharField(widget=forms.HiddenInput, required=False)


class YearBookForm(forms.Form):
    """The whole year at once: which fiscal year (one with records) and which file."""

    fiscal_year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    format = forms.ChoiceField(label=_("形式"), choices=[("xlsx", "XLSX"), ("pdf", "PDF")])

    def __init__(self, *args: Any, years: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = years
