"""The organisation and its population records (the per-resident figures of the sheet use them)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from .. import selectors, services
from ..errors import ApplicationError
from ..forms import OrganisationForm, PopulationRecordForm
from ..permissions import OFFICERS, READERS, RoleRequiredMixin
from .base import ServiceFormView

MSG_NO_ORGANISATION = _("先に団体を登録してください。")


class OrganisationDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "core/organisation.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        org = selectors.organisation_get()
        records = selectors.population_record_list(organisation=org) if org else []
        return super().get_context_data(organisation=org, records=records, **kwargs)


class OrganisationUpdateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = OrganisationForm
    title = _("団体情報の編集")
    success_message = _("団体情報を更新しました。")
    success_url = reverse_lazy("organisation")

    def get_form_kwargs(self) -> dict[str, Any]:
        return super().get_form_kwargs() | {"instance": selectors.organisation_get()}

    def perform(self, form: OrganisationForm) -> Any:
        return services.organisation_upsert(actor=self.request.user, **form.cleaned_data)


class PopulationRecordCreateView(ServiceFormView):
    """Add the population on a date (a record for an existing date replaces it)."""

    allowed_roles = OFFICERS
    form_class = PopulationRecordForm
    title = _("人口・世帯数の登録")
    success_message = _("人口・世帯数を登録しました。")
    success_url = reverse_lazy("organisation")

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = None
        return kwargs

    def perform(self, form: PopulationRecordForm) -> Any:
        org = selectors.organisation_get()
        if org is None:
            raise ApplicationError(MSG_NO_ORGANISATION, code="no_organisation")
        return services.population_record_set(actor=self.request.user, organisation=org, **form.cleaned_data)
