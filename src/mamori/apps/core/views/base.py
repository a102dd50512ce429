"""What every core view shares: role checks, service-backed forms, paging."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.generic import FormView

from ..errors import ApplicationError
from ..permissions import RoleRequiredMixin

PAGE_SIZE = 50


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The requested page and the query string without `page`, for the paging links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


class ServiceFormView(RoleRequiredMixin, FormView):
    """A write form: valid input goes to `perform`, which calls one service.

    An ApplicationError from the service becomes a form error (the one place errors become a
    response), so the user sees the message and loses no input.
    """

    writes = True
    template_name = "core/form.html"
    title: Any = ""
    success_message: Any = ""

    def perform(self, form: Any) -> Any:
        raise NotImplementedError

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            self.result = self.perform(form)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return super().form_valid(form)

    def get_back_url(self) -> str:
        """Where 「戻る」 leads: the page the form belongs to (none by default)."""
        return ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(title=self.title, back_url=self.get_back_url(), **kwargs)
