"""The audit log: every recorded change, newest first, and on request the hash-chain check."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from .. import selectors
from ..audit import audit_verify
from ..permissions import READERS, RoleRequiredMixin
from .base import paginate


class AuditEventListView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "core/audit_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = self.request.GET.get("q", "").strip()
        page, querystring = paginate(self.request, selectors.audit_event_list(query=query))
        verification = audit_verify() if self.request.GET.get("verify") else None
        return super().get_context_data(
            page=page, query=query, querystring=querystring, verification=verification, **kwargs
        )
