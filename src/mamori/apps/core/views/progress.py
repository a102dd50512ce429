"""A background job's page (progress bar, then the download link), its polled partial, its file."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.views import View
from django.views.generic import TemplateView

from ..permissions import ALL_ROLES, RoleRequiredMixin
from ..progress import progress_job_get, progress_kind_find, progress_result_path


class ProgressDetailView(RoleRequiredMixin, TemplateView):
    """Anyone may own a job; `progress_job_get` admits only its owner and the kind's readers (else 404)."""

    allowed_roles = ALL_ROLES
    template_name = "core/progress.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = progress_job_get(user=self.request.user, pk=kwargs["pk"])
        kind = progress_kind_find(job.kind)  # None when the app that registered it is gone
        back = kind.back(job) if kind and kind.back else ""
        detail = kind.detail(job) if kind and kind.detail and job.is_finished else ""
        label = kind.label if kind else job.kind
        return super().get_context_data(job=job, label=label, back=back, detail=detail, **kwargs)


class ProgressPartialView(ProgressDetailView):
    """The fragment the page polls every second while the job is queued or running."""

    template_name = "core/_progress.html"


class ProgressDownloadView(RoleRequiredMixin, View):
    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        job = progress_job_get(user=request.user, pk=pk)
        path = progress_result_path(job)
        if path is None:
            raise Http404
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=job.result_name, content_type=job.result_type
        )
