"""Evaluation-sheet models: policy hierarchy, programs, fiscal-year money, staffing, indicators, ratings.

Money is held in whole yen; the sheet shows 千円 under one rounding rule (`rules.py`). Writes go
through `services`, reads through `selectors`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Department, EmploymentCategory, Organisation, PopulationRecord


class PolicyChapter(models.Model):
    """章 (まちづくりの目標) of the city's comprehensive plan."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="policy_chapters", verbose_name=_("団体")
    )
    number = models.PositiveSmallIntegerField(_("章番号"))
    title = models.CharField(_("まちづくりの目標"), max_length=200)

    class Meta:
        verbose_name = _("章（まちづくりの目標）")
        verbose_name_plural = _("章（まちづくりの目標）")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["organisation", "number"], name="uniq_chapter_number")]

    def __str__(self) -> str:
        return f"第{self.number}章 {self.title}"


class PolicySection(models.Model):
    """節 (施策分野)."""

    chapter = models.ForeignKey(
        PolicyChapter, on_delete=models.CASCADE, related_name="sections", verbose_name=_("章")
    )
    number = models.CharField(_("節番号"), max_length=10)
    title = models.CharField(_("施策分野"), max_length=200)

    class Meta:
        verbose_name = _("節（施策分野）")
        verbose_name_plural = _("節（施策分野）")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["chapter", "number"], name="uniq_section_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Measure(models.Model):
    """施策: what the programs under it serve."""

    section = models.ForeignKey(
        PolicySection, on_delete=models.CASCADE, related_name="measures", verbose_name=_("節")
    )
    number = models.CharField(_("施策番号"), max_length=10)
    title = models.CharField(_("施策"), max_length=200)

    class Meta:
        verbose_name = _("施策")
        verbose_name_plural = _("施策")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["section", "number"], name="uniq_measure_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Implementation(models.TextChoices):
    DIRECT = "direct", _("直営")
    CONTRACTED = "contracted", _("委託")
    MIXED = "mixed", _("直営・委託")


class DirectionCode(models.TextChoices):
    """今後の方向性, normalised across cities (the city's own wording is kept beside it)."""

    EXPAND = "expand", _("拡充")
    CONTINUE = "continue", _("継続")
    IMPROVE = "improve", _("改善")
    RESTRUCTURE = "restructure", _("再構築")
    REDUCE = "reduce", _("縮小")
    MERGE = "merge", _("統合")
    SUSPEND = "suspend", _("休止・廃止")
    COMPLETE = "complete", _("完了")


class Program(models.Model):
    """事業 (parent is None) or 細事業 (parent is its 事業)."""

    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, related_name="programs", verbose_name=_("施策")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sub_programs",
        verbose_name=_("上位の事業"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("所管課")
    )
    reference_number = models.CharField(_("整理番号"), max_length=20)
    priority = models.PositiveSmallIntegerField(_("事業優先順位"), null=True, blank=True)
    name = models.CharField(_("事業名"), max_length=200)
    purpose = models.TextField(_("目的"), blank=True)
    goal = models.TextField(_("目標"), blank=True)
    implementation = models.CharField(
        _("事業実施主体"), max_length=20, choices=Implementation.choices, default=Implementation.DIRECT
    )
    start_fiscal_year = models.PositiveSmallIntegerField(_("事業開始年度"), null=True, blank=True)
    start_or_earlier = models.BooleanField(_("開始年度以前"), default=False)
    legal_basis = models.CharField(_("根拠法令"), max_length=300, blank=True)
    target_group = models.CharField(_("対象者"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("事業")
        verbose_name_plural = _("事業")
        ordering = ["reference_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "reference_number"],
                condition=models.Q(parent__isnull=True),
                name="uniq_program_reference",
            ),
            models.UniqueConstraint(fields=["parent", "reference_number"], name="uniq_subprogram_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference_number} {self.name}"


class ProgramYear(models.Model):
    """One fiscal year of a program: settled cost and its funding, narrative, direction and ratings."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="years", verbose_name=_("事業")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    program_cost = models.BigIntegerField(_("事業費(決算額)"), default=0)
    general_fund = models.BigIntegerField(_("一般財源"), default=0)
    national_prefectural = models.BigIntegerField(_("国府支出金"), default=0)
    municipal_bonds = models.BigIntegerField(_("地方債"), default=0)
    other_specific = models.BigIntegerField(_("その他特定財源"), default=0)
    debt_service = models.BigIntegerField(_("公債費"), default=0)
    population = models.ForeignKey(
        PopulationRecord,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("人口の記録"),
    )
    outcome = models.TextField(_("成果"), blank=True)
    glossary = models.JSONField(_("用語解説"), default=list, blank=True)  # [{"term": ..., "text": ...}]
    direction_label = models.TextField(_("今後の方向性"), blank=True)
    direction_code = models.CharField(
        _("方向性区分"), max_length=20, choices=DirectionCode.choices, blank=True
    )
    rating_relevance = models.CharField(_("妥当性"), max_length=1, blank=True)
    rating_efficiency = models.CharField(_("効率性"), max_length=1, blank=True)
    rating_effectiveness = models.CharField(_("有効性"), max_length=1, blank=True)
    rating_overall = models.CharField(_("総合評価"), max_length=1, blank=True)
    rating_contribution = models.CharField(_("貢献度"), max_length=1, blank=True)
    reason_relevance = models.TextField(_("妥当性の理由"), blank=True)
    reason_efficiency = models.TextField(_("効率性の理由"), blank=True)
    reason_effectiveness = models.TextField(_("有効性の理由"), blank=True)
    reason_overall = models.TextField(_("評価理由"), blank=True)
    reason_contribution = models.TextField(_("貢献度の根拠"), blank=True)

    class Meta:
        verbose_name = _("事業の年度")
        verbose_name_plural = _("事業の年度")
        ordering = ["program", "fiscal_year"]
        constraints = [models.UniqueConstraint(fields=["program", "fiscal_year"], name="uniq_program_year")]

    def __str__(self) -> str:
        return f"{self.program} FY{self.fiscal_year}"


class StaffingLine(models.Model):
    """FTE (人工) of one employment category working on a program in a fiscal year."""

    program_year = models.ForeignKey(
        ProgramYear, on_delete=models.CASCADE, related_name="staffing", verbose_name=_("事業の年度")
    )
    category = models.CharField(_("任用区分"), max_length=20, choices=EmploymentCategory.choices)
    fte = models.DecimalField(_("従事職員数"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("従事職員")
        verbose_name_plural = _("従事職員")
        ordering = ["category"]
        constraints = [
            models.UniqueConstraint(fields=["program_year", "category"], name="uniq_staffing_category")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.fte}"


class PersonnelUnitCost(models.Model):
    """人件費単価: yen per FTE for a fiscal year and employment category."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("団体")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    category = models.CharField(_("任用区分"), max_length=20, choices=EmploymentCategory.choices)
    yen = models.BigIntegerField(_("単価(円)"))

    class Meta:
        verbose_name = _("人件費単価")
        verbose_name_plural = _("人件費単価")
        ordering = ["fiscal_year", "category"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "fiscal_year", "category"], name="uniq_unit_cost")
        ]

    def __str__(self) -> str:
        return f"FY{self.fiscal_year} {self.get_category_display()} {self.yen:,}円"


class IndicatorKind(models.TextChoices):
    ACTIVITY = "activity", _("活動指標")
    OUTCOME = "outcome", _("成果指標")


class Direction(models.TextChoices):
    UP = "up", "↑"
    DOWN = "down", "↓"


class Indicator(models.Model):
    """活動 or 成果 indicator of a program; its actuals are typed in or come from a registered KPI."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("事業")
    )
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    kind = models.CharField(_("種別"), max_length=10, choices=IndicatorKind.choices)
    name = models.CharField(_("指標名"), max_length=200)
    unit = models.CharField(_("単位"), max_length=20)
    direction = models.CharField(_("目指す方向"), max_length=4, choices=Direction.choices)
    kpi_code = models.CharField(_("KPI"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("指標")
        verbose_name_plural = _("指標")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class IndicatorYear(models.Model):
    """Target and (typed-in) actual of an indicator in one fiscal year."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="years", verbose_name=_("指標")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("年度"))
    target = models.DecimalField(_("目標値"), max_digits=14, decimal_places=2, null=True, blank=True)
    actual = models.DecimalField(_("実績値"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("指標の年度値")
        verbose_name_plural = _("指標の年度値")
        ordering = ["fiscal_year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "fiscal_year"], name="uniq_indicator_year")
        ]

    def __str__(self) -> str:
        return f"{self.indicator} FY{self.fiscal_year}"


class RoundingRule(models.TextChoices):
    HALF_UP = "half_up", _("四捨五入")
    FLOOR = "floor", _("切り捨て")
    CEILING = "ceiling", _("切り上げ")


class EraStyle(models.TextChoices):
    WAREKI = "wareki", _("和暦")
    SEIREKI = "seireki", _("西暦")


class SheetSettings(models.Model):
    """How one organisation's sheets are computed and printed. Without a row the installation's
    default applies (`MAMORI_EVALUATION` in Django settings)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="sheet_settings", verbose_name=_("団体")
    )
    money_rounding = models.CharField(
        _("千円未満の端数"), max_length=10, choices=RoundingRule.choices, default=RoundingRule.HALF_UP
    )
    per_capita_rounding = models.CharField(
        _("一人あたり・世帯あたりの円未満の端数"),
        max_length=10,
        choices=RoundingRule.choices,
        default=RoundingRule.HALF_UP,
    )
    era_style = models.CharField(
        _("年度の表記"), max_length=10, choices=EraStyle.choices, default=EraStyle.WAREKI
    )
    threshold_a = models.DecimalField(_("評価Aの達成率(%)以上"), max_digits=5, decimal_places=1, default=100)
    threshold_b = models.DecimalField(_("評価Bの達成率(%)以上"), max_digits=5, decimal_places=1, default=80)
    footnote = models.TextField(_("シート下部の注記"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("評価シートの設定")
        verbose_name_plural = _("評価シートの設定")

    def __str__(self) -> str:
        return f"{self.organisation} の評価シート設定"
