"""Demo awareness campaigns for みなと台市: the last three built-in seasons before today (a transfer
season, a year-end, the next transfer season) with a realistic spread of acknowledgements — most on
the first days, some after a reminder, a few never; departments differ (the IT office near everyone,
the big counters and field offices lower), and each season does a little better than the one before.
This fiscal year's transfer season goes to the staff the April transfers moved (the default); the
seasons before went to everyone at work, as the demo city has no transfer records before this April.
The demo's `staff` login has not acknowledged the latest notice it received, so its banner shows.
Recorded as delivered outside mamori: no mail leaves. Idempotent, by season.

The evaluation demo binds this year's sheet to the headline KPIs of each measure, so
`awareness.ack_rate` appears on it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import IO

from django.contrib.auth import get_user_model
from django.utils import timezone

from mamori.apps.core.models import Membership, Organisation
from mamori.apps.core.wareki import fiscal_year_of

from . import services
from .models import Audience, Campaign, CampaignKind, Recipient
from .texts import season_schedule

ACTOR = "demo"
SEED = 20260401
# how much more (or less) likely than the campaign's rate each 部 is to acknowledge
DEPARTMENT_BIAS = {"1000": 0.08, "2000": 0.03, "3000": -0.06, "4000": -0.04, "5000": -0.02, "6000": -0.08,
                   "7000": -0.10, "8000": 0.0, "9000": -0.03, "9500": 0.05}  # fmt: skip
SEASON_RATE = [0.80, 0.86, 0.90]  # oldest season first: each does a little better


def _past_seasons(now: datetime) -> list[tuple[str, int]]:
    """The three most recent built-in seasons already past their due date, oldest first."""
    fy = fiscal_year_of(timezone.localtime(now).date())
    seasons = [(k, y) for y in range(fy - 2, fy + 1) for k in (CampaignKind.TRANSFER, CampaignKind.YEAR_END)]
    done = [(k, y) for k, y in seasons if season_schedule(k, y).due_on < timezone.localtime(now).date()]
    return done[-3:]


def _bureau(code: str) -> str:
    return code[:2] + "00" if not code.startswith("95") else "9500"


def _acknowledgements(recipients: list[Recipient], rate: float, sent: datetime, rng: random.Random) -> dict:
    acknowledged = {}
    for r in recipients:
        if rng.random() >= rate + DEPARTMENT_BIAS.get(_bureau(r.department.code), 0.0):
            continue
        # most within two days, a tail up to the reminder and a little past the due date
        days = min(rng.expovariate(0.9), 20.0)
        acknowledged[r.staff_id] = sent + timedelta(days=days, minutes=rng.randint(0, 480))
    return acknowledged


def _to_everyone(campaign: Campaign) -> None:
    """A transfer season before the demo's transfer records (this April's) went to everyone."""
    data = services.CampaignData(
        subject=campaign.subject, body=campaign.body, send_at=campaign.send_at, due_on=campaign.due_on,
        remind_days_before=campaign.remind_days_before, audience=Audience.ALL,
    )  # fmt: skip
    services.campaign_update(actor=ACTOR, campaign=campaign, data=data)


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    now = timezone.now()
    this_year = fiscal_year_of(timezone.localtime(now).date())
    staff_login = get_user_model().objects.filter(username="staff").first()
    demo_staff_id = Membership.objects.filter(user=staff_login).values_list("staff_id", flat=True).first()
    seasons = _past_seasons(now)
    sent: list[tuple[int, Campaign]] = []
    for index, (kind, year) in enumerate(seasons):
        campaign = services.season_campaign_ensure(actor=ACTOR, kind=kind, fiscal_year=year)
        if campaign is None:
            continue  # this season is there already
        if campaign.audience == Audience.TRANSFERRED and year < this_year:
            _to_everyone(campaign)
        sent.append(
            (index, services.campaign_send(actor=ACTOR, campaign=campaign, now=campaign.send_at, mail=False))
        )
    # the demo's staff login has the latest notice it received still to do, so its banner shows
    latest = next(
        (c.pk for _i, c in reversed(sent) if c.recipients.filter(staff_id=demo_staff_id).exists()), None
    )
    for index, campaign in sent:
        sent_at = campaign.send_at
        rng = random.Random(f"{SEED}-{campaign.kind}-{campaign.season}")
        recipients = list(campaign.recipients.select_related("department"))
        acknowledged = _acknowledgements(recipients, SEASON_RATE[index], sent_at, rng)
        if demo_staff_id is not None and any(r.staff_id == demo_staff_id for r in recipients):
            if campaign.pk == latest:
                acknowledged.pop(demo_staff_id, None)
            else:
                acknowledged[demo_staff_id] = sent_at + timedelta(hours=3)
        count = services.acknowledgements_import(
            actor=ACTOR, campaign=campaign, acknowledged=acknowledged, mailed_at=sent_at
        )
        stdout.write(
            f"  注意喚起: {campaign.get_kind_display()} {campaign.season}年度 {sent_at:%Y-%m-%d}"
            f" {campaign.get_audience_display()} 確認 {count}/{len(recipients)}人\n"
        )
