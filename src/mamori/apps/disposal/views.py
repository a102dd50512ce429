"""Disposal pages. Department leads register and store their own department's media; officers hand
batches over and register certificates; auditors read. Views parse, call one service, render."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.models import Role
from mamori.apps.core.permissions import (
    LEADS_AND_READERS,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.selectors import department_list
from mamori.apps.core.views.base import ServiceFormView
from mamori.apps.core.wareki import fiscal_year_of

from . import certificates, evidence, selectors, services
from .forms import CertificateForm, HandOverForm, MediumForm, StoreForm
from .models import Medium, MediumState

REGISTRARS = OFFICERS | {Role.DEPARTMENT_LEAD}


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    """The officers' overview always; a department lead's card only when their departments have media."""
    counts = selectors.state_counts(user=request.user)
    if not sum(counts.values()) and user_role(request.user) not in READERS:
        return None
    late = list(selectors.overdue_media(user=request.user).values_list("batch_id", flat=True))
    overdue, days = len(late), selectors.certificate_due_days()
    open_ = counts[MediumState.REGISTERED] + counts[MediumState.STORED] + counts[MediumState.HANDED_OVER]
    status = "red" if overdue else ("amber" if open_ else "green")
    labels = {
        "red": _("引渡しから{days}日を過ぎても証明書がない媒体 {n}件").format(days=days, n=overdue),
        "amber": _("処理中の媒体 {n}件").format(n=open_),
        "green": _("すべて処理済み"),
    }
    urls = {  # a late certificate is registered on its batch's page; several batches: the list's section
        "red": reverse("disposal:batch-detail", args=[late[0]])
        if len(set(late)) == 1
        else reverse("disposal:media") + "#overdue",
        "amber": reverse("disposal:media"),
        "green": "",
    }
    return {
        "counts": [(MediumState(s).label, n) for s, n in counts.items()],
        "overdue": overdue,
        "days": days,
        "total": sum(counts.values()),
        "status": status if sum(counts.values()) else "",
        "status_label": labels[status],
        "status_url": urls[status] if sum(counts.values()) else "",
    }


class MediumListView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "disposal/medium_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        state = self.request.GET.get("state", "")
        state = state if state in MediumState.values else ""
        role = user_role(self.request.user)
        return super().get_context_data(
            media=selectors.medium_list(user=self.request.user, state=state)[:500],
            state=state,
            states=MediumState.choices,
            counts=selectors.state_counts(user=self.request.user),
            overdue=selectors.overdue_media(user=self.request.user),
            days=selectors.certificate_due_days(),
            batches=selectors.batch_list(user=self.request.user)[:50],
            can_register=role in REGISTRARS,
            can_hand_over=role in OFFICERS,
            can_read_evidence=role in READERS,
            **kwargs,
        )


class MediumDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "disposal/medium_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        medium = selectors.medium_get(user=self.request.user, pk=self.kwargs["pk"])
        check = selectors.certificate_verify(medium.certificate) if medium.certificate else None
        return super().get_context_data(
            medium=medium,
            check=check,
            store_form=StoreForm() if medium.state == MediumState.REGISTERED else None,
            can_store=user_role(self.request.user) in REGISTRARS,
            **kwargs,
        )


class MediumCreateView(ServiceFormView):
    allowed_roles = REGISTRARS
    form_class = MediumForm
    title = _("廃棄する媒体の登録")
    success_message = _("媒体を登録しました。")

    def get_form_kwargs(self) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        return super().get_form_kwargs() | {"departments": department_list(department_ids=scope)}

    def perform(self, form: MediumForm) -> Medium:
        return services.medium_register(
            actor=self.request.user, scope=membership_department_ids(self.request.user), **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("disposal:medium-detail", args=[self.result.pk])


class MediumStoreView(ServiceFormView):
    allowed_roles = REGISTRARS
    form_class = StoreForm
    title = _("保管庫に移す")
    success_message = _("保管中にしました。")

    @cached_property
    def medium(self) -> Medium:
        return selectors.medium_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.medium.label, **kwargs)

    def perform(self, form: StoreForm) -> Medium:
        return services.medium_store(
            actor=self.request.user,
            scope=membership_department_ids(self.request.user),
            medium=self.medium,
            location=form.cleaned_data["location"],
            stored_at=form.cleaned_data["stored_at"],
        )

    def get_success_url(self) -> str:
        return reverse("disposal:medium-detail", args=[self.medium.pk])


class BatchCreateView(ServiceFormView):
    """Choose stored media and record the hand-over to the contractor (one batch)."""

    allowed_roles = OFFICERS
    form_class = HandOverForm
    title = _("委託業者への引渡し")
    success_message = _("引渡しを記録しました。証明書が届いたら登録してください。")

    def get_form_kwargs(self) -> dict[str, Any]:
        stored = selectors.medium_list(user=self.request.user, state=MediumState.STORED)
        return super().get_form_kwargs() | {"media": stored}

    def perform(self, form: HandOverForm) -> Any:
        data = dict(form.cleaned_data)
        return services.batch_hand_over(
            actor=self.request.user,
            scope=membership_department_ids(self.request.user),
            media=list(data.pop("media")),
            **data,
        )

    def get_success_url(self) -> str:
        return reverse("disposal:batch-detail", args=[self.result.pk])


class BatchDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "disposal/batch_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        batch = selectors.batch_get(user=self.request.user, pk=self.kwargs["pk"])
        media = selectors.medium_list(user=self.request.user).filter(batch=batch)
        return super().get_context_data(
            batch=batch,
            media=media,
            open_media=[m for m in media if m.state == MediumState.HANDED_OVER],
            checks=[selectors.certificate_verify(c) for c in batch.certificates.all()],
            can_certify=user_role(self.request.user) in OFFICERS,
            **kwargs,
        )


class CertificateUploadView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = CertificateForm
    title = _("廃棄証明書の登録")
    success_message = _("証明書を登録しました。記載された媒体は完了になりました。")

    @cached_property
    def batch(self) -> Any:
        return selectors.batch_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        open_media = self.batch.media.filter(state=MediumState.HANDED_OVER)
        return super().get_form_kwargs() | {"media": open_media}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=f"{self.batch.contractor} #{self.batch.pk}", **kwargs)

    def perform(self, form: CertificateForm) -> Any:
        upload = form.cleaned_data["file"]
        checked = certificates.certificate_check(upload, name=upload.name, size=upload.size)
        return services.certificate_register(
            actor=self.request.user,
            batch=self.batch,
            checked=checked,
            number=form.cleaned_data["number"],
            issued_on=form.cleaned_data["issued_on"],
            media=list(form.cleaned_data["media"]),
        )

    def get_success_url(self) -> str:
        return reverse("disposal:batch-detail", args=[self.batch.pk])


class CertificateDownloadView(RoleRequiredMixin, View):
    """The stored file, as an attachment with the type found at upload (never rendered inline)."""

    allowed_roles = READERS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        certificate = selectors.certificate_get(user=request.user, pk=pk)
        path = certificates.stored_path(certificate.stored_name)
        if not path.is_file():
            raise Http404(_("証明書ファイルが見つかりません"))
        response = FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"certificate-{certificate.pk}.{certificate.stored_name.rsplit('.', 1)[-1]}",
            content_type=certificate.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _fiscal_year(request: HttpRequest) -> int:
    """?fiscal_year=2026, else the current one; a value outside 2000–2100 is a 404."""
    raw = request.GET.get("fiscal_year", "")
    if not raw:
        return fiscal_year_of(timezone.localdate())
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Http404(_("年度の指定が正しくありません"))
    return int(raw)


class EvidenceView(RoleRequiredMixin, TemplateView):
    """The fiscal year's evidence list for an audit, printable, with XLSX and PDF links."""

    allowed_roles = READERS
    template_name = "disposal/evidence.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        fy = _fiscal_year(self.request)
        return super().get_context_data(**evidence.evidence_context(fy, standalone=False), **kwargs)


class EvidenceFileView(RoleRequiredMixin, View):
    allowed_roles = READERS
    formats = {
        "xlsx": (evidence.evidence_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "pdf": (evidence.evidence_pdf, "application/pdf"),
    }

    def get(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if fmt not in self.formats:
            raise Http404
        fy = _fiscal_year(request)
        render, content_type = self.formats[fmt]
        response = HttpResponse(render(fy), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="disposal-evidence-FY{fy}.{fmt}"'
        return response
