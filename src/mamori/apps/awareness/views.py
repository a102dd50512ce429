"""Awareness pages: the officer writes, schedules, sends and reminds; leads follow their departments'
acknowledgements; everyone reads and acknowledges their own notices (by the mail's link, the banner
or 「注意喚起」); auditors read and change nothing. A refused acknowledgement (an altered, expired,
replayed or someone else's link) goes back to the person's own notices with a one-line reason."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import Role
from mamori.apps.core.navigation import Banner, Task
from mamori.apps.core.permissions import (
    ALL_ROLES,
    LEADS_AND_READERS,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.views.base import ServiceFormView, paginate

from . import delivery, selectors, services
from .forms import CampaignForm
from .models import Audience, Campaign, CampaignStatus, Recipient
from .tokens import recipient_from_token

ACKNOWLEDGED = gettext_lazy("確認しました。ご協力ありがとうございます。")
NOT_YOURS = gettext_lazy("この注意喚起はあなたあてではありません。")


def _city() -> str:
    return delivery.city_name()


def _subject(campaign: Campaign) -> str:
    return delivery.subject_for(campaign, _city())


def pending_banners(request: HttpRequest) -> list[Banner]:
    """Each notice the signed-in person has not acknowledged, on every page until they do."""
    city = None
    banners = []
    for recipient in selectors.my_pending(request):
        city = _city() if city is None else city
        banners.append(
            Banner(
                text=_("未確認の注意喚起: {subject}").format(
                    subject=delivery.subject_for(recipient.campaign, city)
                ),
                url=reverse("awareness:notice", args=[recipient.campaign_id]),
                action=_("読んで確認する"),
            )
        )
    return banners


def pending_tasks(request: HttpRequest) -> list[Task]:
    return [
        Task(
            title=_("注意喚起を読んで確認してください: {subject}").format(subject=_subject(r.campaign)),
            url=reverse("awareness:notice", args=[r.campaign_id]),
            due=r.campaign.due_on,
        )
        for r in selectors.my_pending(request)
    ]


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    """The latest sent campaign's rate (a lead: their departments'), and the next one scheduled."""
    scope = membership_department_ids(request.user)
    latest = selectors.campaign_list(department_ids=scope).filter(status=CampaignStatus.SENT).first()
    upcoming = None
    if scope is None:
        upcoming = Campaign.objects.filter(status=CampaignStatus.SCHEDULED).order_by("send_at").first()
    if latest is None and upcoming is None and user_role(request.user) not in READERS:
        return None
    ctx: dict[str, Any] = {"latest": latest, "upcoming": upcoming}
    if latest is not None:
        rate = selectors.rate_of(latest.acknowledged, latest.total)  # type: ignore[attr-defined]
        ctx |= {"rate": rate, "latest_subject": _subject(latest)} | _card_light(latest, rate)
    if upcoming is not None:
        ctx["upcoming_subject"] = _subject(upcoming)
    return ctx


def _card_light(latest: Campaign, rate: Any) -> dict[str, Any]:
    """Green from 90 %, amber from 70 %; below green it names the rate and who has not yet
    acknowledged, and leads to the campaign's page, where they are listed and reminded."""
    if rate is None:
        return {"status": "green", "status_label": _("最新の注意喚起の対象者はいません")}
    missing = latest.total - latest.acknowledged  # type: ignore[attr-defined]
    if rate >= 90:
        return {"status": "green", "status_label": _("最新の注意喚起の確認率 {rate}%").format(rate=rate)}
    label = _("最新の注意喚起の確認率 {rate}%（未確認 {n}人）").format(rate=rate, n=missing)
    return {
        "status": "amber" if rate >= 70 else "red",
        "status_label": label,
        "status_url": reverse("awareness:detail", args=[latest.pk]),
    }


class CampaignListView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "awareness/campaign_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        city = _city()
        rows = [
            (c, delivery.subject_for(c, city), selectors.rate_of(c.acknowledged, c.total))  # type: ignore[attr-defined]
            for c in selectors.campaign_list(department_ids=scope)[:200]
        ]
        return super().get_context_data(
            rows=rows, can_edit=user_role(self.request.user) in OFFICERS, **kwargs
        )


class CampaignDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "awareness/campaign_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        campaign = selectors.campaign_get(pk=self.kwargs["pk"], department_ids=scope)
        if campaign is None:
            raise Http404
        city = _city()
        page, query = paginate(self.request, selectors.recipient_list(campaign, department_ids=scope))
        return super().get_context_data(
            campaign=campaign,
            subject=delivery.subject_for(campaign, city),
            body=delivery.body_for(campaign, None, city),
            rate=selectors.rate_of(campaign.acknowledged, campaign.total),  # type: ignore[attr-defined]
            departments=selectors.department_rates(campaign, department_ids=scope),
            page=page,
            query=query,
            can_edit=user_role(self.request.user) in OFFICERS,
            # before sending, who it would reach now: e.g. no movers yet means the transfers are not in
            audience_now=services.audience_staff(campaign).count()
            if campaign.status == CampaignStatus.SCHEDULED
            else None,
            department_names=[d.full_name for d in campaign.departments.all()]
            if campaign.audience == Audience.DEPARTMENTS
            else [],
            **kwargs,
        )


class CampaignCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = CampaignForm
    title = gettext_lazy("注意喚起の作成")
    success_message = gettext_lazy("注意喚起を作成しました。配信日時になると送信します。")

    def get_initial(self) -> dict[str, Any]:
        now = timezone.localtime()
        return {"send_at": now.replace(second=0, microsecond=0), "due_on": now.date() + timedelta(days=14),
                "audience": Audience.ALL}  # fmt: skip

    def perform(self, form: CampaignForm) -> Campaign:
        return services.campaign_create(actor=self.request.user, data=form.data_for_service())

    def get_success_url(self) -> str:
        return reverse("awareness:detail", args=[self.result.pk])


class CampaignUpdateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = CampaignForm
    title = gettext_lazy("注意喚起の編集")
    success_message = gettext_lazy("注意喚起を更新しました。")

    @cached_property
    def campaign(self) -> Campaign:
        campaign = Campaign.objects.filter(pk=self.kwargs["pk"]).first()
        if campaign is None:
            raise Http404
        return campaign

    def get_initial(self) -> dict[str, Any]:
        c = self.campaign
        return {
            "subject": c.subject, "body": c.body, "send_at": timezone.localtime(c.send_at), "due_on": c.due_on,
            "remind_days_before": c.remind_days_before, "audience": c.audience,
            "departments": list(c.departments.all()), "role": c.role, "transferred_since": c.transferred_since,
        }  # fmt: skip

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.campaign.get_kind_display(), **kwargs)

    def perform(self, form: CampaignForm) -> Campaign:
        return services.campaign_update(
            actor=self.request.user, campaign=self.campaign, data=form.data_for_service()
        )

    def get_success_url(self) -> str:
        return reverse("awareness:detail", args=[self.campaign.pk])


class _CampaignActionView(RoleRequiredMixin, View):
    """A POST-only officer action on one campaign; the outcome is a message on its page."""

    allowed_roles = OFFICERS
    writes = True

    def act(self, request: HttpRequest, campaign: Campaign) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise Http404
        try:
            messages.success(request, self.act(request, campaign))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("awareness:detail", args=[pk]))


class CampaignSendView(_CampaignActionView):
    def act(self, request: HttpRequest, campaign: Campaign) -> str:
        campaign = services.campaign_send(actor=request.user, campaign=campaign)
        return _("配信しました（対象 {n}人）。メールは順に送信します。").format(n=campaign.recipients.count())


class CampaignRemindView(_CampaignActionView):
    def act(self, request: HttpRequest, campaign: Campaign) -> str:
        pending = services.campaign_remind(actor=request.user, campaign=campaign)
        return _("未確認の {n}人に督促メールを送ります。").format(n=pending)


class MyNoticesView(RoleRequiredMixin, TemplateView):
    """The signed-in person's own notices: unacknowledged first, each with its text."""

    allowed_roles = ALL_ROLES
    template_name = "awareness/my_notices.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        city = _city()
        notices = [
            (r, delivery.subject_for(r.campaign, city), delivery.body_for(r.campaign, r, city))
            for r in selectors.my_recipients(self.request)[:50]
        ]
        return super().get_context_data(
            notices=notices, can_acknowledge=user_role(self.request.user) != Role.AUDITOR, **kwargs
        )


def _notice_page(request: HttpRequest, recipient: Recipient, action: str) -> HttpResponse:
    city = _city()
    ctx = {
        "recipient": recipient,
        "subject": delivery.subject_for(recipient.campaign, city),
        "body": delivery.body_for(recipient.campaign, recipient, city),
        "action": action,
        "can_acknowledge": user_role(request.user) != Role.AUDITOR,
    }
    return render(request, "awareness/notice.html", ctx)


def _acknowledge(request: HttpRequest, recipient: Recipient) -> HttpResponse:
    try:
        services.acknowledgement_record(actor=request.user, recipient=recipient)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ACKNOWLEDGED)
    return HttpResponseRedirect(reverse("awareness:mine"))


def _refuse(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("awareness:mine"))


def _mine(request: HttpRequest, pk: int) -> Recipient | None:
    recipient = selectors.my_recipients(request).filter(campaign_id=pk).first()
    if recipient is None:
        messages.error(request, NOT_YOURS)
    return recipient


class NoticeView(RoleRequiredMixin, View):
    """One of the person's own notices, to read (the banner's and the task's link)."""

    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        recipient = _mine(request, pk)
        if recipient is None:
            return HttpResponseRedirect(reverse("awareness:mine"))
        return _notice_page(request, recipient, reverse("awareness:acknowledge", args=[pk]))


class NoticeAcknowledgeView(RoleRequiredMixin, View):
    """「確認しました」 on one of the person's own notices (POST; auditors change nothing)."""

    allowed_roles = ALL_ROLES
    writes = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        recipient = _mine(request, pk)
        if recipient is None:
            return HttpResponseRedirect(reverse("awareness:mine"))
        return _acknowledge(request, recipient)


class AckLinkView(RoleRequiredMixin, View):
    """The mail's personal link: after signing in, the notice and its 「確認しました」 button."""

    allowed_roles = ALL_ROLES
    writes = True

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            recipient = recipient_from_token(token, request.user)
        except ApplicationError as exc:
            return _refuse(request, exc)
        return _notice_page(request, recipient, request.path)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            recipient = recipient_from_token(token, request.user)
        except ApplicationError as exc:
            return _refuse(request, exc)
        return _acknowledge(request, recipient)
