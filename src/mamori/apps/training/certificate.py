"""The completion certificate (修了証) as an A4 PDF, with a Japanese font as the evaluation sheet uses."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from mamori.apps.core.labels import date_label
from mamori.apps.core.models import Organisation

from .models import Completion


def certificate_pdf(completion: Completion) -> bytes:
    html = render_to_string(
        "training/certificate.html",
        {
            "completion": completion,
            "organisation": Organisation.objects.first(),
            "completed_on": date_label(timezone.localdate(completion.completed_at)),
        },
    )
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
