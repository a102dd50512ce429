"""Evaluation pages: program list, the sheet (HTML, XLSX, PDF), flat export and the entry forms.

Officers write; auditors, administrators and department leads (their own departments) read.
Views parse, call one selector or service, render; `ServiceFormView` turns a refused write into a
form error in one place.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from mamori.apps.core.kpis import kpi_list
from mamori.apps.core.labels import fiscal_year_label, unit_label
from mamori.apps.core.models import Organisation
from mamori.apps.core.permissions import (
    LEADS_AND_READERS,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.wareki import fiscal_year_of

from . import services
from .errors import EvaluationError
from .flat import flat_rows, rows_to_csv, rows_to_xlsx
from .forms import (
    ImportForm,
    IndicatorForm,
    IndicatorYearForm,
    MoneyForm,
    ProgramEditForm,
    ProgramForm,
    RatingForm,
    SheetSettingsForm,
    StaffingForm,
    SubProgramForm,
    TextsForm,
    UnitCostForm,
    YearBookForm,
)
from .import_preview import evaluation_preview
from .interchange import dump, evaluation_export, evaluation_import, load_text
from .models import Indicator, IndicatorYear, PersonnelUnitCost, Program, ProgramYear
from .render_html import sheet_context, sheet_to_html, sheet_to_pdf, stylesheet_hash
from .render_xlsx import sheet_to_xlsx
from .selectors import (
    default_rules,
    program_fiscal_years,
    program_get_by_pk,
    program_list,
    sheet_get,
    sheet_settings_values,
)
from .sheet import MONEY_FIELDS, RATING_KEYS
from .year_book_view import year_choices

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "yaml": "application/yaml; charset=utf-8",
}


def _today() -> date:
    return timezone.localdate()


def _visible_program(request: HttpRequest, pk: int) -> Program:
    """A program the signed-in user may see (department leads: their departments only)."""
    try:
        program = program_get_by_pk(pk)
    except EvaluationError:
        raise Http404 from None
    allowed = membership_department_ids(request.user)
    if allowed is not None and program.department_id not in allowed:
        raise Http404
    return program


def _visible_sheet_program(request: HttpRequest, pk: int) -> Program:
    """A program whose sheet the user may read: a 細事業 is printed inside its 事業's sheet, so a
    department lead needs both in scope (the page and every download apply this one rule)."""
    program = _visible_program(request, pk)
    if program.parent_id:
        _visible_program(request, program.parent_id)
    return program


def _fiscal_year_or_404(fy: int) -> int:
    """A fiscal year from the URL; one no calendar can show (FY0, FY99999) is a page that does not exist."""
    try:
        return services.fiscal_year_from(fy)
    except EvaluationError:
        raise Http404 from None


def _download(data: bytes, fmt: str, filename: str, disposition: str = "attachment") -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    response["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    return response


def _printable(html: str, filename: str) -> HttpResponse:
    """The print-ready HTML as a page of its own (inline): its one inlined stylesheet is allowed by
    its hash, nothing else may load, run, frame it or submit from it."""
    response = _download(html.encode("utf-8"), "html", filename, disposition="inline")
    response["Content-Security-Policy"] = (
        f"default-src 'none'; style-src '{stylesheet_hash()}'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    return response


class ProgramListView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "evaluation/program_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["programs"] = program_list(department_ids=membership_department_ids(self.request.user))
        ctx["can_write"] = self.request.user.is_authenticated and _is_officer(self.request)
        ctx["year_book_form"] = YearBookForm(years=year_choices())
        return ctx


def _is_officer(request: HttpRequest) -> bool:
    return user_role(request.user) in OFFICERS


class ProgramDetailView(RoleRequiredMixin, TemplateView):
    """The sheet of one 事業 for a fiscal year (`?fy=平成24` in any spelling), with links to evidence."""

    allowed_roles = LEADS_AND_READERS
    template_name = "evaluation/program_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        program = _visible_sheet_program(self.request, kwargs["pk"])
        if program.parent_id:
            program = program_get_by_pk(program.parent_id)
        years = program_fiscal_years(program)
        fy = years[-1] if years else fiscal_year_of(_today())
        if raw := self.request.GET.get("fy"):
            try:
                fy = services.fiscal_year_from(raw)
            except EvaluationError as exc:
                messages.error(self.request, exc.message)
        sheet = sheet_get(
            program=program, fiscal_year=fy, departments=membership_department_ids(self.request.user)
        )
        ctx.update(sheet_context(sheet))
        ctx.update(
            {
                "program": program,
                "entry_programs": [
                    (p, list(p.indicators.all())) for p in [program, *program.sub_programs.all()]
                ],
                "fy": fy,
                "years": [(y, fiscal_year_label(y)) for y in sorted({*years, fy})],
                "can_write": _is_officer(self.request),
                "rating_keys": RATING_KEYS,
            }
        )
        return ctx


class SheetDownloadView(RoleRequiredMixin, View):
    allowed_roles = LEADS_AND_READERS

    def get(self, request: HttpRequest, pk: int, fy: int, fmt: str) -> HttpResponse:
        program = _visible_sheet_program(request, pk)
        sheet = sheet_get(
            program=program,
            fiscal_year=_fiscal_year_or_404(fy),
            departments=membership_department_ids(request.user),
        )
        name = f"evaluation-{sheet.program.reference_number}-{fy}.{fmt}"
        if fmt == "xlsx":
            return _download(sheet_to_xlsx(sheet, font=default_rules().xlsx_font), fmt, name)
        if fmt == "pdf":
            return _download(sheet_to_pdf(sheet), fmt, name)
        if fmt == "html":
            return _printable(sheet_to_html(sheet), name)
        raise Http404


class ExportView(RoleRequiredMixin, View):
    """Flat table (xlsx, csv) or the full YAML document of every program."""

    allowed_roles = READERS

    def get(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if fmt == "yaml":
            return _download(dump(evaluation_export(), "yaml").encode("utf-8"), fmt, "evaluation.yaml")
        programs, indicators = flat_rows()
        if fmt == "xlsx":
            return _download(rows_to_xlsx(programs, indicators), fmt, "evaluation-flat.xlsx")
        if fmt == "csv":
            table = indicators if request.GET.get("table") == "indicators" else programs
            return _download(
                rows_to_csv(table), fmt, f"evaluation-{request.GET.get('table', 'programs')}.csv"
            )
        raise Http404


# ---------------------------------------------------------------- writes (officers)


MAX_IMPORT_BYTES = 2 * 1024 * 1024  # the confirmation posts the text back: within DATA_UPLOAD_MAX_MEMORY_SIZE
MSG_IMPORT_TOO_BIG = _(
    "{name}: {size:,} バイトは大きすぎます（{limit:,} バイトまで）。mamori evaluation import を使ってください"
)
MSG_IMPORT_NO_FILE = _("ファイルを選んでください")


class ImportView(RoleRequiredMixin, TemplateView):
    """Upload a document, see what it would create or change per program and year, then confirm.

    The preview is the import itself rolled back, so it shows the same line-numbered errors; the
    confirmation posts the same text back and imports it (all or nothing, audited)."""

    allowed_roles = OFFICERS
    writes = True
    template_name = "evaluation/import.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", ImportForm())
        ctx["title"] = _("評価データの取り込み")
        return ctx

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportForm(request.POST, request.FILES)
        form.is_valid()
        upload = form.cleaned_data.get("file")
        try:
            if upload is not None:
                if upload.size > MAX_IMPORT_BYTES:
                    raise EvaluationError(
                        MSG_IMPORT_TOO_BIG.format(name=upload.name, size=upload.size, limit=MAX_IMPORT_BYTES),
                        code="too_large",
                    )
                name, text = upload.name, upload.read().decode("utf-8-sig")
            elif form.cleaned_data.get("document"):
                name, text = request.POST.get("filename", ""), form.cleaned_data["document"]
            else:
                raise EvaluationError(MSG_IMPORT_NO_FILE, code="no_file")
            document = load_text(text, name=name)
            if request.POST.get("confirm"):
                counts = evaluation_import(actor=request.user, document=document)
                messages.success(request, MSG_IMPORTED.format(**counts))
                return redirect("evaluation:program_list")
            changes, _counts = evaluation_preview(actor=request.user, document=document)
        except UnicodeDecodeError:
            return self.render_to_response(self.get_context_data(errors=[MSG_NOT_UTF8]))
        except EvaluationError as exc:
            return self.render_to_response(self.get_context_data(errors=str(exc.message).splitlines()))
        summary = {s: sum(1 for c in changes if c.status == s) for s in ("created", "updated", "unchanged")}
        return self.render_to_response(
            self.get_context_data(changes=changes, summary=summary, document_text=text, filename=name)
        )


MSG_IMPORTED = _("取り込みました：事業 {programs} 件・細事業 {sub_programs} 件・年度 {years} 件")
MSG_NOT_UTF8 = _("ファイルを UTF-8 の文字として読めません。YAML か JSON を UTF-8 で保存してください")


class ServiceFormView(RoleRequiredMixin, FormView):  # type: ignore[type-arg]
    """A form whose `perform` calls one service; a refused write becomes a form error, nothing saved."""

    allowed_roles = OFFICERS
    writes = True
    template_name = "evaluation/form.html"
    title: Any = ""

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.program: Program | None = None
        if "fy" in kwargs:
            _fiscal_year_or_404(kwargs["fy"])

    def get_program(self) -> Program:
        if self.program is None:
            self.program = _visible_program(self.request, self.kwargs["pk"])
        return self.program

    def perform(self, form: djforms.Form) -> None:
        raise NotImplementedError

    def form_valid(self, form: djforms.Form) -> HttpResponse:
        try:
            self.perform(form)
        except EvaluationError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, _("保存しました。"))
        return redirect(self.get_success_url())

    def sheet_url(self, program: Program, fy: int | None = None) -> str:
        top = program.parent_id or program.pk
        url = reverse("evaluation:program_detail", args=[top])
        return f"{url}?fy={fy}" if fy else url

    def get_success_url(self) -> str:
        return self.sheet_url(self.get_program(), self.kwargs.get("fy"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title
        if "pk" in self.kwargs:
            ctx["program"] = self.get_program()
            ctx["back_url"] = self.get_success_url()
        if "fy" in self.kwargs:
            ctx["fy"] = self.kwargs["fy"]
            ctx["fy_label"] = fiscal_year_label(self.kwargs["fy"])
        return ctx

    def year(self) -> ProgramYear | None:
        return ProgramYear.objects.filter(program=self.get_program(), fiscal_year=self.kwargs["fy"]).first()


class SheetSettingsView(ServiceFormView):
    """The organisation's sheet settings (rounding, era style, rating thresholds, footnote); audited."""

    form_class = SheetSettingsForm
    title = _("評価シートの設定")

    def organisation(self) -> Organisation:
        org = Organisation.objects.order_by("pk").first()
        if org is None:
            raise Http404
        return org

    def get_initial(self) -> dict[str, Any]:
        return sheet_settings_values(self.organisation().pk)

    def perform(self, form: djforms.Form) -> None:
        services.sheet_settings_set(
            actor=self.request.user, organisation=self.organisation(), **form.cleaned_data
        )

    def get_success_url(self) -> str:
        """Back to the sheet the officer came from (`?program=<pk>&fy=<year>`), else the list."""
        raw, fy = self.request.GET.get("program", ""), self.request.GET.get("fy", "")
        try:
            program = _visible_program(self.request, int(raw)) if raw.isdigit() else None
            year = services.fiscal_year_from(fy) if fy else None
        except (Http404, EvaluationError):
            program = None
        return self.sheet_url(program, year) if program else reverse("evaluation:program_list")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(back_url=self.get_success_url(), **kwargs)


class ProgramCreateView(ServiceFormView):
    form_class = ProgramForm
    title = _("事業の登録")

    def perform(self, form: djforms.Form) -> None:
        d = form.cleaned_data
        measure = services.policy_measure_ensure(
            actor=self.request.user,
            organisation=d["department"].organisation,
            chapter=(d["chapter_number"], d["chapter_title"]),
            section=(d["section_number"], d["section_title"]),
            measure=(d["measure_number"], d["measure_title"]),
        )
        self.program = services.program_create(
            actor=self.request.user,
            measure=measure,
            department=d["department"],
            reference_number=d["reference_number"],
            name=d["name"],
            purpose=d["purpose"],
            goal=d["goal"],
        )

    def get_success_url(self) -> str:
        assert self.program is not None
        return self.sheet_url(self.program)


def _program_initial(program: Program) -> dict[str, Any]:
    return {
        "department": program.department_id,
        "name": program.name,
        "priority": program.priority,
        "purpose": program.purpose,
        "goal": program.goal,
        "implementation": program.implementation,
        "start_fiscal_year": fiscal_year_label(program.start_fiscal_year)
        if program.start_fiscal_year
        else "",
        "start_or_earlier": program.start_or_earlier,
        "legal_basis": program.legal_basis,
        "target_group": program.target_group,
        "reference_number": program.reference_number,
    }


class ProgramEditView(ServiceFormView):
    form_class = ProgramEditForm
    title = _("事業の基本情報")

    def get_initial(self) -> dict[str, Any]:
        return _program_initial(self.get_program())

    def perform(self, form: djforms.Form) -> None:
        d = dict(form.cleaned_data)
        services.program_update(
            actor=self.request.user, program=self.get_program(), department=d.pop("department"), **d
        )


class SubProgramCreateView(ServiceFormView):
    form_class = SubProgramForm
    title = _("細事業の登録")

    def get_initial(self) -> dict[str, Any]:
        return {"department": self.get_program().department_id, "implementation": "direct"}

    def perform(self, form: djforms.Form) -> None:
        d = dict(form.cleaned_data)
        parent = self.get_program()
        services.program_create(
            actor=self.request.user,
            measure=parent.measure,
            department=d.pop("department"),
            reference_number=d.pop("reference_number"),
            parent=parent,
            **d,
        )


MSG_SUMMED = _("この事業の事業費・財源内訳と従事職員数は細事業の合計です。各細事業で入力してください。")


class SummedFromSubProgramsMixin(ServiceFormView):
    """A 事業 with 細事業 takes these figures from them (the sheet sums its 細事業): instead of a
    form whose value the sheet would never use, the page says where the figure comes from."""

    def sub_programs(self) -> list[Program]:
        return list(self.get_program().sub_programs.order_by("reference_number"))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if subs := self.sub_programs():
            return self.render_to_response(self.get_context_data(form=None, summed_from=subs))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if subs := self.sub_programs():
            messages.error(request, MSG_SUMMED)
            return self.render_to_response(self.get_context_data(form=None, summed_from=subs))
        return super().post(request, *args, **kwargs)


class MoneyView(SummedFromSubProgramsMixin):
    form_class = MoneyForm
    title = _("事業費・財源内訳")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["organisation_id"] = self.get_program().measure.section.chapter.organisation_id
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        year = self.year()
        if year is None:
            return {}
        return {**{f: getattr(year, f) for f in MONEY_FIELDS}, "population": year.population_id}

    def perform(self, form: djforms.Form) -> None:
        services.program_year_set_money(
            actor=self.request.user,
            program=self.get_program(),
            fiscal_year=self.kwargs["fy"],
            **form.cleaned_data,
        )


class StaffingView(SummedFromSubProgramsMixin):
    form_class = StaffingForm
    title = _("従事職員数")

    def get_initial(self) -> dict[str, Any]:
        year = self.year()
        return {line.category: line.fte for line in year.staffing.all()} if year else {}

    def perform(self, form: djforms.Form) -> None:
        services.program_year_set_staffing(
            actor=self.request.user,
            program=self.get_program(),
            fiscal_year=self.kwargs["fy"],
            fte={k: v or Decimal(0) for k, v in form.cleaned_data.items()},
        )
        for warning in sheet_get(program=self.get_program(), fiscal_year=self.kwargs["fy"]).warnings:
            messages.warning(self.request, warning)


class UnitCostView(ServiceFormView):
    form_class = UnitCostForm
    title = _("人件費単価")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        org_id = self.get_program().measure.section.chapter.organisation_id
        ctx["unit_costs"] = PersonnelUnitCost.objects.filter(
            organisation_id=org_id, fiscal_year=self.kwargs["fy"]
        )
        return ctx

    def perform(self, form: djforms.Form) -> None:
        services.unit_cost_set(
            actor=self.request.user,
            organisation=self.get_program().measure.section.chapter.organisation,
            fiscal_year=self.kwargs["fy"],
            **form.cleaned_data,
        )


class TextsView(ServiceFormView):
    form_class = TextsForm
    title = _("成果・今後の方向性")

    def get_initial(self) -> dict[str, Any]:
        year = self.year()
        if year is None:
            return {}
        return {
            "outcome": year.outcome,
            "direction_label": year.direction_label,
            "direction_code": year.direction_code,
            "glossary": "\n".join(f"{g['term']}…{g['text']}" for g in year.glossary),
        }

    def perform(self, form: djforms.Form) -> None:
        assert isinstance(form, TextsForm)
        d = form.cleaned_data
        services.program_year_set_texts(
            actor=self.request.user,
            program=self.get_program(),
            fiscal_year=self.kwargs["fy"],
            outcome=d["outcome"],
            glossary=form.glossary_entries(),
            direction_label=d["direction_label"],
            direction_code=d["direction_code"],
        )


class RatingView(ServiceFormView):
    """Ratings with mamori's suggestion beside them; a differing rating needs a reason (audited)."""

    form_class = RatingForm
    title = _("評価")

    def suggestion(self) -> dict[str, str | None]:
        program = self.get_program()
        sheet = sheet_get(program=program, fiscal_year=self.kwargs["fy"])
        block = (
            sheet.program
            if program.parent_id is None
            else next(
                (b for b in sheet.sub_programs if b.reference_number == program.reference_number),
                sheet.program,
            )
        )
        s = block.suggestion
        return {
            "relevance": s.relevance,
            "efficiency": s.efficiency,
            "effectiveness": s.effectiveness,
            "overall": s.overall,
            "contribution": s.contribution,
            "basis": s.basis,
        }

    def get_initial(self) -> dict[str, Any]:
        year = self.year()
        if year is None:
            return {}
        initial = {k: getattr(year, f"rating_{k}") for k in RATING_KEYS}
        initial.update(reason_overall=year.reason_overall, reason_contribution=year.reason_contribution)
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["suggestion"] = self.suggestion()
        return ctx

    def perform(self, form: djforms.Form) -> None:
        d = form.cleaned_data
        suggested = {k: v for k, v in self.suggestion().items() if k in RATING_KEYS}
        services.program_year_rate(
            actor=self.request.user,
            program=self.get_program(),
            fiscal_year=self.kwargs["fy"],
            ratings={k: d[k] for k in RATING_KEYS},
            reasons={"overall": d["reason_overall"], "contribution": d["reason_contribution"]},
            suggested=suggested,
            override_reason=d["override_reason"],
        )


KPI_CHOICE = _("{label}（{code}・{unit}）")


class IndicatorCreateView(ServiceFormView):
    form_class = IndicatorForm
    title = _("指標の追加")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["kpi_choices"] = [
            (k.code, str(KPI_CHOICE).format(label=k.label, code=k.code, unit=unit_label(k.unit)))
            for k in kpi_list()
        ]
        return kwargs

    def perform(self, form: djforms.Form) -> None:
        services.indicator_create(actor=self.request.user, program=self.get_program(), **form.cleaned_data)


class OneIndicatorMixin(ServiceFormView):
    """A form about one indicator (URL kwarg `indicator`) of a program the user may see."""

    def get_indicator(self) -> Indicator:
        indicator = Indicator.objects.select_related("program").filter(pk=self.kwargs["indicator"]).first()
        if indicator is None:
            raise Http404
        _visible_program(self.request, indicator.program_id)
        return indicator

    def get_program(self) -> Program:
        if self.program is None:
            self.program = _visible_program(self.request, self.get_indicator().program_id)
        return self.program

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(program=self.get_program(), back_url=self.get_success_url())
        return ctx


class IndicatorEditView(OneIndicatorMixin, IndicatorCreateView):
    """Correct an indicator's name, kind, unit, direction or KPI binding (its yearly figures stay)."""

    title = _("指標の変更")

    def get_initial(self) -> dict[str, Any]:
        i = self.get_indicator()
        return {
            "kind": i.kind,
            "name": i.name,
            "unit": i.unit,
            "direction": i.direction,
            "kpi_code": i.kpi_code,
        }

    def perform(self, form: djforms.Form) -> None:
        services.indicator_update(
            actor=self.request.user, indicator=self.get_indicator(), **form.cleaned_data
        )


class IndicatorYearView(OneIndicatorMixin):
    form_class = IndicatorYearForm
    title = _("指標の目標値・実績値")

    def get_initial(self) -> dict[str, Any]:
        row = IndicatorYear.objects.filter(
            indicator_id=self.kwargs["indicator"], fiscal_year=self.kwargs["fy"]
        ).first()
        return {"target": row.target, "actual": row.actual} if row else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["indicator"] = self.get_indicator()
        return ctx

    def perform(self, form: djforms.Form) -> None:
        services.indicator_year_set(
            actor=self.request.user,
            indicator=self.get_indicator(),
            fiscal_year=self.kwargs["fy"],
            **form.cleaned_data,
        )
