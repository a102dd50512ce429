"""The worker's awareness work on each tick: the built-in seasons' campaigns appear ahead of time,
scheduled campaigns go out when due, mails that failed are tried again, reminders go before the due
date to whoever has not acknowledged."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from mamori.apps.core.wareki import fiscal_year_of

from . import delivery, services
from .models import Campaign, CampaignKind, CampaignStatus
from .texts import season_schedule

ACTOR = "worker"
#: a built-in season's campaign is created this long before it is sent, for the officer to adjust
SEASON_LEAD = timedelta(days=45)
RETRY_AFTER = timedelta(minutes=15)


def seasons_ensure(now: datetime) -> None:
    fy = fiscal_year_of(timezone.localtime(now).date())
    for kind in (CampaignKind.TRANSFER, CampaignKind.YEAR_END):
        for year in (fy, fy + 1):
            season = season_schedule(kind, year)
            if season.send_at - SEASON_LEAD <= now < season.send_at + timedelta(days=1):
                services.season_campaign_ensure(actor=ACTOR, kind=kind, fiscal_year=year)


def periodic_tick(now: datetime) -> None:
    seasons_ensure(now)
    for campaign in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now):
        services.campaign_send(actor=ACTOR, campaign=campaign, now=now)
    # the first round of a campaign is queued by its sending; later ticks pick up what it left
    recent = Campaign.objects.filter(
        status=CampaignStatus.SENT, sent_at__gte=now - timedelta(days=30), sent_at__lt=now - RETRY_AFTER
    )
    for campaign in recent:
        if delivery.pending_mails(campaign, reminder=False).exists():
            delivery.mails_send.enqueue(campaign_id=campaign.pk, reminder=False)
    for campaign in Campaign.objects.filter(status=CampaignStatus.SENT, reminded_at__isnull=True):
        remind_on = campaign.due_on - timedelta(days=campaign.remind_days_before)
        if campaign.reminded_at is None and remind_on <= timezone.localtime(now).date() <= campaign.due_on:
            services.campaign_remind(actor=ACTOR, campaign=campaign, now=now)
