"""The audit log: every recorded change, newest first, searchable by the object's name, by person and
per object (the 「履歴」 links); on request the hash-chain check."""

from __future__ import annotations

import re
from typing import Any

from django.views.generic import TemplateView

from .. import selectors
from ..audit import audit_verify
from ..audit_display import describe
from ..permissions import READERS, RoleRequiredMixin
from .base import paginate

OBJECT_RE = re.compile(r"^([a-z0-9_]+\.[a-z0-9_]+):([A-Za-z0-9_-]{1,64})$")


class AuditEventListView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "core/audit_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = self.request.GET.get("q", "").strip()
        person = self.request.GET.get("person", "").strip()
        match = OBJECT_RE.match(self.request.GET.get("object", ""))
        obj = (match[1], match[2]) if match else None
        events = selectors.audit_event_list(query=query, person=person, obj=obj)
        page, querystring = paginate(self.request, events)
        entries = describe(page.object_list)
        verification = audit_verify() if self.request.GET.get("verify") else None
        return super().get_context_data(
            page=page,
            entries=entries,
            query=query,
            person=person,
            object_filter=self.request.GET.get("object", "") if obj else "",
            object_entry=entries[0] if obj and entries else None,
            querystring=querystring,
            verification=verification,
            **kwargs,
        )
